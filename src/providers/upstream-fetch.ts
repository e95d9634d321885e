// Every REST call to a provider goes through here: a time-to-headers timeout, retries with
// exponential backoff + full jitter that honour `retry-after` (idempotent calls only), and the one
// place where an upstream failure becomes a GatewayError. Messages never carry our URL or keys.

import { isObject } from '../convert/guards'
import { depthLimitText, nestsDeeperThan, parseJsonBounded } from '../convert/json-depth'
import type { ProviderName } from '../core/provider-name'
import { GatewayError, UPSTREAM_FAILURE } from '../errors'
import { observedFetch } from '../ops/upstream'

export interface UpstreamPolicy {
  timeoutMs: number
  retries: number
}

export interface UpstreamCall {
  provider: ProviderName
  /** Short description for error messages, e.g. "create batch". */
  what: string
  /** Safe to repeat: GET, cancel, uploads from a spool file. */
  idempotent: boolean
  /** Pulls the provider's own error message out of a non-2xx response. */
  readError: (res: Response) => Promise<string>
  /** The request is rebuilt for every attempt, so streamed bodies can be retried. */
  init: () => RequestInit
  /** Statuses that are expected answers rather than errors (e.g. 404 on a HEAD). */
  okStatuses?: readonly number[]
  fetch?: (url: string, init: RequestInit) => Promise<Response>
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504, 529])
const BASE_DELAY_MS = 200
const MAX_DELAY_MS = 8000

export async function upstreamFetch(url: string, call: UpstreamCall, policy: UpstreamPolicy): Promise<Response> {
  const attempts = call.idempotent ? policy.retries + 1 : 1
  const doFetch = call.fetch ?? ((u: string, i: RequestInit) => fetch(u, i))
  let lastError: GatewayError | null = null
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await Bun.sleep(backoff(attempt, retryAfterSeconds(lastError)))
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), policy.timeoutMs)
    let res: Response
    try {
      const init = call.init()
      res = await observedFetch({ provider: call.provider, what: call.what, attempt }, url, { ...init, signal: controller.signal }, doFetch)
    } catch (err) {
      clearTimeout(timer)
      // The socket error's own code (ECONNRESET, ECONNREFUSED…) is not passed on: every provider
      // fails the same way here, with the one code for its kind.
      lastError = err instanceof GatewayError ? err : connectFailure(call, policy, controller.signal.aborted)
      continue
    }
    // Headers arrived: the body may legitimately take longer than the timeout (large files).
    clearTimeout(timer)
    if (res.ok || call.okStatuses?.includes(res.status)) return guardBody(res, call)
    const message = credentialHint(call.provider, res.status, await call.readError(res).catch(() => ''))
    lastError = upstreamStatusError(res, message || `${call.provider} answered ${res.status} to "${call.what}"`)
    if (!RETRYABLE.has(res.status)) break
  }
  throw lastError ?? new GatewayError('internal', `no attempt made for "${call.what}"`)
}

/**
 * A connection can drop after the headers, while the body is read. Reading JSON or text from an
 * upstream answer then fails with the provider's kind of error (unreachable, or a malformed
 * answer) instead of surfacing as the gateway's own internal error. Streamed bodies (`res.body`)
 * are handed on untouched: their consumer sees the break.
 */
function guardBody(res: Response, call: UpstreamCall): Response {
  const fail = (err: unknown): GatewayError =>
    err instanceof GatewayError
      ? err
      : err instanceof SyntaxError
        ? new GatewayError('upstream', `${call.provider} sent a malformed answer to "${call.what}"`, { upstreamStatus: 502 })
        : new GatewayError('upstream_unreachable', `${call.provider} dropped the connection during "${call.what}"`, {
            code: UPSTREAM_FAILURE.reset,
          })
  const tooDeep = () =>
    new GatewayError('upstream', `${call.provider} sent an answer to "${call.what}" that ${depthLimitText}`, { upstreamStatus: 502 })
  const text = res.text.bind(res)
  const guardedText = async () => text().catch((err: unknown) => Promise.reject(fail(err)))
  // Own properties shadow the prototype's methods; the type marks them read-only, the object does not.
  Object.assign(res, {
    // Through text: the depth limit is checked before any value is built.
    json: async () => {
      const body = await guardedText()
      try {
        return parseJsonBounded(body, tooDeep)
      } catch (err) {
        throw fail(err)
      }
    },
    text: guardedText,
  })
  return res
}

/**
 * A 401/403 from a provider is about the gateway's own credentials, not the caller's virtual key;
 * the status is passed on, and the message says whose credentials were refused.
 */
export function credentialHint(provider: string, status: number, message: string): string {
  if (status !== 401 && status !== 403) return message
  return `${provider} refused the gateway's provider credentials${message ? `: ${message}` : ''}`
}

function connectFailure(call: UpstreamCall, policy: UpstreamPolicy, timedOut: boolean): GatewayError {
  return timedOut
    ? new GatewayError('upstream_timeout', `${call.provider} did not answer "${call.what}" within ${policy.timeoutMs} ms`, {
        code: UPSTREAM_FAILURE.timeout,
      })
    : new GatewayError('upstream_unreachable', `${call.provider} could not be reached for "${call.what}"`, {
        code: UPSTREAM_FAILURE.unreachable,
      })
}

/** The provider's non-2xx answer as a GatewayError: its status, the code for its kind, its retry-after. */
export function upstreamStatusError(res: Response, message: string): GatewayError {
  const status = res.status
  const code =
    status === 429
      ? UPSTREAM_FAILURE.rateLimited
      : status === 401 || status === 403
        ? UPSTREAM_FAILURE.credentialsRefused
        : status >= 500
          ? UPSTREAM_FAILURE.serverError
          : undefined
  const retryAfterMs = Number(res.headers.get('retry-after-ms') ?? Number.NaN)
  return new GatewayError('upstream', message, {
    upstreamStatus: status,
    code,
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    ...(Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? { retryAfterMs } : {}),
  })
}

const retryAfterSeconds = (e: GatewayError | null): number | undefined =>
  e?.details.retryAfterMs !== undefined ? e.details.retryAfterMs / 1000 : e?.details.retryAfter

/** Full-jitter exponential backoff, but never sooner than the provider's retry-after. */
export function backoff(attempt: number, retryAfterSeconds?: number): number {
  const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1))
  const jittered = cap / 2 + Math.random() * (cap / 2)
  const floor = retryAfterSeconds !== undefined ? Math.min(retryAfterSeconds * 1000, 60_000) : 0
  return Math.max(jittered, floor)
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000)
}

/**
 * An upstream body handed on as a stream (results, file content): a connection that breaks while
 * it is read fails the reader with the reset kind, not as the gateway's own internal error.
 */
export function brokenOffAs(provider: string, stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>
      try {
        next = await reader.read()
      } catch (err) {
        throw err instanceof GatewayError
          ? err
          : new GatewayError('upstream_unreachable', `${provider} dropped the connection while the download was read`, {
              code: UPSTREAM_FAILURE.reset,
            })
      }
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
}

/** An error body nested too deep is read like one that is not JSON: as raw text. */
export const notJson = (): Error => new SyntaxError('nested too deep')

/**
 * For clients that parse answers themselves (the openai SDK): a JSON answer nested past the
 * depth limit is replaced by a 502 error answer before the client builds a value from it.
 */
export function depthGuardedFetch(provider: ProviderName) {
  return async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(url, init)
    if (!/\bjson\b/i.test(res.headers.get('content-type') ?? '') || /jsonl/i.test(res.headers.get('content-type') ?? '')) return res
    const text = await res.text().catch(() => {
      throw new GatewayError('upstream_unreachable', `${provider} dropped the connection while answering`, {
        code: UPSTREAM_FAILURE.reset,
      })
    })
    const headers = new Headers(res.headers)
    // The body is handed on decoded: its old length and encoding no longer describe it.
    headers.delete('content-length')
    headers.delete('content-encoding')
    if (nestsDeeperThan(text)) {
      const message = `${provider} sent an answer that ${depthLimitText}`
      return new Response(JSON.stringify({ error: { message, type: 'server_error' } }), { status: 502, headers })
    }
    return new Response(text, { status: res.status, statusText: res.statusText, headers })
  }
}

/**
 * Reads `{error:{message}}`, `{message}`, Google/AWS variants, or FastAPI's `detail` (Mistral, bare
 * or inside `message`); falls back to the raw text.
 */
export async function readJsonErrorMessage(res: Response): Promise<string> {
  const text = (await res.text()).slice(0, 4000)
  try {
    const body = parseJsonBounded(text, notJson) as { error?: { message?: unknown } | string; message?: unknown; Message?: unknown; detail?: unknown }
    if (typeof body.error === 'object' && typeof body.error?.message === 'string') return body.error.message
    if (typeof body.error === 'string') return body.error
    if (typeof body.message === 'string') return body.message
    if (typeof body.Message === 'string') return body.Message
    const detail = detailText(body.detail ?? (isObject(body.message) ? body.message.detail : undefined))
    if (detail) return detail
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.trim()
}

/** FastAPI's `detail`: a string, or validation entries `{loc, msg}` as `body.model: Field required`. */
function detailText(detail: unknown): string | null {
  if (typeof detail === 'string') return detail
  if (!Array.isArray(detail)) return null
  const parts = detail.filter(isObject).map((d) => {
    const loc = Array.isArray(d.loc) ? d.loc.join('.') : ''
    return `${loc ? `${loc}: ` : ''}${typeof d.msg === 'string' ? d.msg : 'invalid'}`
  })
  return parts.length > 0 ? parts.join('; ') : null
}
