// Every Gemini REST call: the key goes in the `x-goog-api-key` header only (never `?key=`: query
// strings end up in access logs and error traces), failures go through upstreamFetch, and the
// Google error envelope's status/reason is kept as the GatewayError's `code`.

import type { GeminiConfig } from '../../config'
import { GatewayError, UPSTREAM_FAILURE } from '../../errors'
import { parseJsonBounded } from '../../convert/json-depth'
import { credentialHint, notJson, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'
import type { GeminiErrorEnvelope } from './wire'

export interface GeminiCall {
  /** Short description for error messages, e.g. "create batch". */
  what: string
  /** Safe to repeat (GET, DELETE, cancel, upload query): upstreamFetch then retries 429/5xx. */
  idempotent: boolean
  method: 'GET' | 'POST' | 'DELETE'
  headers?: Record<string, string>
  /** A JSON body, or a raw body rebuilt for every attempt. */
  json?: unknown
  body?: () => RequestInit['body']
  okStatuses?: readonly number[]
}

interface GoogleErrorInfo {
  message: string
  /** `reason` of an ErrorInfo detail (e.g. API_KEY_INVALID), else the canonical status name. */
  code: string | undefined
}

export class GeminiRest {
  constructor(
    readonly config: GeminiConfig,
    readonly policy: UpstreamPolicy,
  ) {}

  /** `path` starts with `/`; absolute URLs are passed as they are (upload sessions, see there). */
  url(path: string): string {
    return path.startsWith('/') ? `${this.config.baseUrl}${path}` : path
  }

  async request(path: string, call: GeminiCall): Promise<Response> {
    // Written by readError, read in the catch below (an object so TS does not narrow it away).
    const seen: { info?: GoogleErrorInfo } = {}
    const init = (): RequestInit => {
      seen.info = undefined
      const headers: Record<string, string> = { 'x-goog-api-key': this.config.apiKey }
      if (call.json !== undefined) headers['content-type'] = 'application/json'
      const body = call.json !== undefined ? JSON.stringify(call.json) : call.body?.()
      return { method: call.method, headers: { ...headers, ...call.headers }, body }
    }
    const readError = async (res: Response): Promise<string> => {
      seen.info = await readGoogleError(res)
      return seen.info.message
    }
    try {
      const { what, idempotent, okStatuses } = call
      const fetchCall = { provider: 'gemini' as const, what, idempotent, okStatuses, readError, init }
      return await upstreamFetch(this.url(path), fetchCall, this.policy)
    } catch (err) {
      throw withGoogleCode(err, seen.info)
    }
  }

  /** A JSON answer; anything unparsable is the upstream's fault (502), not ours. */
  async json(path: string, call: GeminiCall): Promise<unknown> {
    const res = await this.request(path, call)
    try {
      return await res.json()
    } catch (err) {
      // Already a GatewayError that names the fault (the depth limit, a reset mid-body): kept as is.
      if (err instanceof GatewayError) throw err
      throw new GatewayError('upstream', `gemini sent an unreadable answer to "${call.what}"`, { upstreamStatus: 502 })
    }
  }
}

/**
 * A wrong key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID upstream. Reported as 401 with
 * the credentials-refused code, like every provider's refusal of the gateway's own key. Other
 * Google reasons fill `code` only where the failure kind has none (upstream-fetch.ts).
 */
function withGoogleCode(err: unknown, info: GoogleErrorInfo | undefined): unknown {
  if (!(err instanceof GatewayError) || err.kind !== 'upstream' || info?.code === undefined) return err
  if (info.code === 'API_KEY_INVALID') {
    const message = credentialHint('gemini', 401, err.message)
    return new GatewayError('upstream', message, { ...err.details, code: UPSTREAM_FAILURE.credentialsRefused, upstreamStatus: 401 })
  }
  return new GatewayError('upstream', err.message, { ...err.details, code: err.details.code ?? info.code })
}

async function readGoogleError(res: Response): Promise<GoogleErrorInfo> {
  const text = (await res.text()).slice(0, 4000)
  try {
    const { error } = parseJsonBounded(text, notJson) as GeminiErrorEnvelope
    const reason = error?.details?.find((d) => typeof d.reason === 'string')?.reason
    const status = typeof error?.status === 'string' ? error.status : undefined
    const message = typeof error?.message === 'string' ? error.message.trim() : text.trim()
    return { message, code: reason ?? status }
  } catch {
    return { message: text.trim(), code: undefined }
  }
}

/** `files/abc` → `/v1beta/files/abc`; the id is escaped so a stored name cannot alter the path. */
export function resourcePath(collection: 'files' | 'batches', name: string): string {
  const prefix = `${collection}/`
  const id = name.startsWith(prefix) ? name.slice(prefix.length) : name
  if (id === '') throw new GatewayError('internal', `empty gemini ${collection} name`)
  return `/v1beta/${collection}/${encodeURIComponent(id)}`
}
