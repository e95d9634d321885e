// buildApp wires the HTTP edge: request ids, the two dialects, /health, /openapi.json, and the
// one error edge that maps every failure to the caller's dialect envelope.

import { type AnyElysia, Elysia } from 'elysia'
import type { Config } from './config'
import type { Dialect } from './core/provider-name'
import { buildServices, type Services } from './core/services'
import { anthropicDialect } from './dialects/anthropic/plugin'
import { toAnthropicError } from './dialects/anthropic/errors'
import { openaiDialect } from './dialects/openai/plugin'
import { toOpenAIError } from './dialects/openai/errors'
import { asGatewayError, GatewayError, invalid } from './errors'
import { log } from './log'
import { openapiDocument } from './openapi'
import type { Registry } from './providers/registry'
import type { Store } from './store/store'
import { VERSION } from './version'

export function dialectOf(pathname: string): Dialect {
  return pathname.startsWith('/anthropic') ? 'anthropic' : 'openai'
}

export function buildApp(config: Config, store: Store, registry: Registry): { app: AnyElysia; services: Services } {
  const services = buildServices(config, store, registry)
  const app: AnyElysia = new Elysia()
    .onAfterHandle(({ set }) => {
      set.headers['request-id'] = newRequestId()
    })
    .onError(({ code, error, request, set }) => {
      const requestId = newRequestId()
      const gw = toGatewayError(code, error)
      const path = new URL(request.url).pathname
      if (gw.kind === 'internal') log('error', 'unhandled error', { path, err: String((error as Error)?.stack ?? error) })
      else log('info', 'request failed', { path, kind: gw.kind, status: gw.details.upstreamStatus })
      const reply = dialectOf(path) === 'anthropic' ? toAnthropicError(gw, requestId) : toOpenAIError(gw)
      set.status = reply.status
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId }
      if (gw.details.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(gw.details.retryAfter))
      return new Response(JSON.stringify(reply.body), { status: reply.status, headers })
    })
    .get('/health', () => ({ status: 'ok', version: VERSION, providers: registry.names() }))
  app.use(openaiDialect(services, '/openai'))
  app.use(openaiDialect(services, '/openai/v1'))
  app.use(anthropicDialect(services))
  app.get('/openapi.json', () => openapiDocument(app, VERSION))
  return { app, services }
}

const newRequestId = (): string => `req_${crypto.randomUUID().replaceAll('-', '')}`

/** Elysia's own failures (routing, parsing, schema validation) become GatewayErrors here. */
function toGatewayError(code: unknown, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  switch (code) {
    case 'NOT_FOUND':
      return new GatewayError('not_found', 'Unknown route. See /openapi.json for the routes this gateway serves.')
    case 'PARSE':
      return invalid('The request body could not be parsed; send valid JSON with Content-Type: application/json.', {
        code: 'invalid_json',
      })
    case 'VALIDATION':
      return validationError(error)
    default: {
      const status = (error as { status?: unknown } | null)?.status
      if (status === 413) return new GatewayError('too_large', 'The request body is too large.', { code: 'limit_exceeded' })
      return asGatewayError(error)
    }
  }
}

function validationError(error: unknown): GatewayError {
  const all = (error as { all?: Array<{ path?: string; message?: string; summary?: string }> }).all ?? []
  const first = all[0]
  const param = first?.path ? first.path.replace(/^\//, '').replaceAll('/', '.') : undefined
  const what = first?.summary ?? first?.message ?? 'does not match the expected shape'
  return invalid(param ? `Invalid value for '${param}': ${what}` : `Invalid request: ${what}`, { param })
}
