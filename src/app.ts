// buildApp wires the HTTP edge: the key check, the two dialects, /health, /ready, /metrics,
// /openapi.json and /docs, and the one error edge that maps every failure to the caller's dialect envelope.
// `handle` is the app behind ops/http.ts: request ids, access log, HTTP metrics.

import type { ValueError } from '@sinclair/typebox/errors'
import { type AnyElysia, Elysia } from 'elysia'
import { resolveTenant } from './auth'
import type { Config } from './config'
import type { Dialect } from './core/provider-name'
import { buildServices, type Services } from './core/services'
import { anthropicDialect } from './dialects/anthropic/plugin'
import { toAnthropicError } from './dialects/anthropic/errors'
import { openaiOrganization } from './dialects/openai/organization'
import { openaiDialect } from './dialects/openai/plugin'
import { explainValueErrors } from './dialects/validation'
import { toOpenAIError } from './dialects/openai/errors'
import { asGatewayError, GatewayError, invalid } from './errors'
import { log, redactForClient, registerConfigSecrets } from './log'
import { openapiDocument } from './openapi'
import { currentRequest, requestIdFor } from './ops/context'
import { docsRoutes } from './ops/docs'
import { type Handler, observeRequests } from './ops/http'
import { setInstrumentation } from './ops/metrics'
import { opsRoutes, Readiness } from './ops/routes'
import type { Registry } from './providers/registry'
import type { Store } from './store/store'
import { scrubUpstreamIds } from './upstream-ids'
import { VERSION } from './version'

export function dialectOf(pathname: string): Dialect {
  return pathname.startsWith('/anthropic') ? 'anthropic' : 'openai'
}

const DIALECT_PATH = /^\/(?:openai|anthropic)(?:\/|$)/
const ORGANIZATION_PATH = /^\/openai(?:\/v1)?\/organization\//

export interface BuiltApp {
  app: AnyElysia
  services: Services
  /** What the server calls: the app with request ids, the access log and metrics around it. */
  handle: Handler
}

export function buildApp(config: Config, store: Store, registry: Registry, readiness = new Readiness()): BuiltApp {
  // main.ts registers these before anything logs; an app built without main (tests) needs them too.
  registerConfigSecrets(config)
  const services = buildServices(config, store, registry)
  const app: AnyElysia = new Elysia()
    // Keys are checked before routing and body parsing, so an unauthenticated caller costs no
    // body read; the dialect plugins resolve the tenant again from the same headers.
    .onRequest(({ request }) => {
      const path = new URL(request.url).pathname
      // The organization (usage, costs) routes also take the admin key and check it themselves.
      if (!DIALECT_PATH.test(path) || ORGANIZATION_PATH.test(path)) return
      const tenant = resolveTenant(config.keys, request.headers, dialectOf(path))
      const ctx = currentRequest()
      if (ctx) ctx.tenant = tenant
    })
    // The route template (never the raw path) labels metrics and the access log.
    .onTransform({ as: 'global' }, ({ route }) => {
      const ctx = currentRequest()
      if (ctx) ctx.route = route
    })
    .onError(({ code, error, request, set, route }) => {
      const ctx = currentRequest()
      if (ctx && route && ctx.route === undefined) ctx.route = route
      const requestId = ctx?.requestId ?? requestIdFor(null)
      const gw = clientSafe(toGatewayError(code, error))
      const path = new URL(request.url).pathname
      if (gw.kind === 'internal') log('error', 'unhandled error', { path, err: String((error as Error)?.stack ?? error) })
      else log('info', 'request failed', { path, kind: gw.kind, status: gw.details.upstreamStatus, message: gw.message })
      const reply = dialectOf(path) === 'anthropic' ? toAnthropicError(gw, requestId) : toOpenAIError(gw)
      set.status = reply.status
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId }
      Object.assign(headers, retryHeaders(gw))
      return new Response(JSON.stringify(reply.body), { status: reply.status, headers })
    })
    .get('/health', () => ({ status: 'ok', version: VERSION, providers: registry.names() }))
  app.use(openaiDialect(services, '/openai'))
  app.use(openaiDialect(services, '/openai/v1'))
  app.use(openaiOrganization(services, '/openai'))
  app.use(openaiOrganization(services, '/openai/v1'))
  app.use(anthropicDialect(services))
  app.use(opsRoutes(store, readiness, config.metricsToken))
  app.use(docsRoutes())
  readiness.storeReady()
  app.get('/openapi.json', () => openapiDocument(app, VERSION))
  setInstrumentation(config.instrumentation)
  return { app, services, handle: observeRequests((req) => app.handle(req)) }
}

/** The provider's wait, passed on the way it sent it (both headers, whichever it gave). */
function retryHeaders(e: GatewayError): Record<string, string> {
  const { retryAfter, retryAfterMs } = e.details
  const out: Record<string, string> = {}
  const seconds = retryAfter ?? (retryAfterMs === undefined ? undefined : retryAfterMs / 1000)
  if (seconds !== undefined) out['retry-after'] = String(Math.ceil(seconds))
  if (retryAfterMs !== undefined) out['retry-after-ms'] = String(Math.round(retryAfterMs))
  return out
}

/**
 * Upstream messages are echoed to callers: keys, signatures and upstream URLs are cut first. The
 * gateway's own messages (every other kind) are guidance written here, holding at most what the
 * caller sent: redacting them only mangled them ("Authorization: Bearer <key>" lost its words).
 */
const FOREIGN_TEXT: ReadonlySet<GatewayError['kind']> = new Set(['upstream', 'upstream_unreachable', 'upstream_timeout', 'internal'])

/** Upstream ids, ARNs and account ids too: mapped to gateway ids where the call knew them. */
function clientSafe(e: GatewayError): GatewayError {
  if (!FOREIGN_TEXT.has(e.kind)) return e
  const message = scrubUpstreamIds(redactForClient(e.message), e.details.ids)
  return message === e.message ? e : new GatewayError(e.kind, message, e.details)
}

/** Elysia's own failures (routing, parsing, schema validation) become GatewayErrors here. */
function toGatewayError(code: unknown, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  switch (code) {
    case 'NOT_FOUND':
      return new GatewayError('not_found', 'Unknown route. See /openapi.json for the routes this gateway serves.')
    case 'PARSE': {
      // Elysia wraps whatever a body parser throws; the dialects' JSON parser throws GatewayErrors.
      const cause = (error as { cause?: unknown } | null)?.cause
      if (cause instanceof GatewayError) return cause
      return invalid('The request body could not be parsed; send valid JSON with Content-Type: application/json.', {
        code: 'invalid_json',
      })
    }
    case 'VALIDATION':
      return validationError(error)
    default: {
      const status = (error as { status?: unknown } | null)?.status
      if (status === 413) return new GatewayError('too_large', 'The request body is too large.', { code: 'limit_exceeded' })
      return asGatewayError(error)
    }
  }
}

/** Query and path-param failures (bodies are checked in their parser): the rule, by name. */
function validationError(error: unknown): GatewayError {
  const { all = [], message = '' } = error as { all?: ValueError[]; message?: string }
  // A schema's own `error` text is written `param: what` (Elysia reports it as the message, and
  // range failures after query coercion carry no path).
  const custom = /^([\w.[\]]+): /.exec(message)
  if (custom) return invalid(message, { param: custom[1] })
  return explainValueErrors(all)
}
