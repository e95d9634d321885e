// Every REST call to a Google API (Gemini, Vertex AI, Cloud Storage, …): credentials in headers
// only (never `?key=`: query strings end up in access logs and error traces), failures through
// upstreamFetch, and the Google error envelope's status/reason kept as the GatewayError's `code`.
// Subclasses say where calls go and which headers authenticate them.

import { parseJsonBounded } from '../convert/json-depth'
import type { ProviderName } from '../core/provider-name'
import { GatewayError, UPSTREAM_FAILURE } from '../errors'
import type { GeminiErrorEnvelope } from './gemini/wire'
import { credentialHint, notJson, type UpstreamPolicy, upstreamFetch } from './upstream-fetch'

export interface GoogleCall {
  /** Short description for error messages, e.g. "create batch". */
  what: string
  /** Safe to repeat (GET, DELETE, cancel, upload query): upstreamFetch then retries 429/5xx. */
  idempotent: boolean
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  headers?: Record<string, string>
  /** A JSON body, or a raw body rebuilt for every attempt. */
  json?: unknown
  body?: () => RequestInit['body']
  okStatuses?: readonly number[]
  /** Hand 3xx answers back instead of following them (Cloud Storage's 308 Resume Incomplete). */
  manualRedirect?: boolean
}

export interface GoogleErrorInfo {
  message: string
  /** `reason` of an ErrorInfo detail (e.g. API_KEY_INVALID), else the canonical status name. */
  code: string | undefined
}

export abstract class GoogleRest {
  constructor(
    /** Names the upstream in errors and metrics. */
    readonly provider: ProviderName,
    readonly baseUrl: string,
    readonly policy: UpstreamPolicy,
  ) {}

  /** Headers that authenticate one request (resolved once per request, before its attempts). */
  protected abstract authHeaders(): Promise<Record<string, string>>

  /**
   * Told about a 401 answer to a request sent with `headers`. True when other credentials may now
   * be had (a cached token was dropped, a token file was rewritten): the request is then sent
   * once more, which is safe even for a create, since a refused request did nothing.
   */
  protected async refused(_headers: Record<string, string>): Promise<boolean> {
    return false
  }

  /** `path` starts with `/`; absolute URLs are passed as they are (upload sessions). */
  url(path: string): string {
    return path.startsWith('/') ? `${this.baseUrl}${path}` : path
  }

  async request(path: string, call: GoogleCall): Promise<Response> {
    const auth = await this.authHeaders()
    try {
      return await this.send(path, call, auth)
    } catch (err) {
      if (!(err instanceof GatewayError) || err.details.upstreamStatus !== 401 || !(await this.refused(auth))) throw err
      return this.send(path, call, await this.authHeaders())
    }
  }

  private async send(path: string, call: GoogleCall, auth: Record<string, string>): Promise<Response> {
    // Written by readError, read in the catch below (an object so TS does not narrow it away).
    const seen: { info?: GoogleErrorInfo } = {}
    const init = (): RequestInit => {
      seen.info = undefined
      const headers: Record<string, string> = { ...auth }
      if (call.json !== undefined) headers['content-type'] = 'application/json'
      const body = call.json !== undefined ? JSON.stringify(call.json) : call.body?.()
      return { method: call.method, headers: { ...headers, ...call.headers }, body, ...(call.manualRedirect ? { redirect: 'manual' as const } : {}) }
    }
    const readError = async (res: Response): Promise<string> => {
      seen.info = await readGoogleError(res)
      return seen.info.message
    }
    try {
      const { what, idempotent, okStatuses } = call
      const fetchCall = { provider: this.provider, what, idempotent, okStatuses, readError, init }
      return await upstreamFetch(this.url(path), fetchCall, this.policy)
    } catch (err) {
      throw withGoogleCode(this.provider, err, seen.info)
    }
  }

  /** A JSON answer; anything unparsable is the upstream's fault (502), not ours. */
  async json(path: string, call: GoogleCall): Promise<unknown> {
    const res = await this.request(path, call)
    try {
      return await res.json()
    } catch (err) {
      // Already a GatewayError that names the fault (the depth limit, a reset mid-body): kept as is.
      if (err instanceof GatewayError) throw err
      throw new GatewayError('upstream', `${this.provider} sent an unreadable answer to "${call.what}"`, { upstreamStatus: 502 })
    }
  }
}

/**
 * A wrong key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID upstream. Reported as 401 with
 * the credentials-refused code, like every provider's refusal of the gateway's own key. Other
 * Google reasons fill `code` only where the failure kind has none (upstream-fetch.ts).
 */
function withGoogleCode(provider: ProviderName, err: unknown, info: GoogleErrorInfo | undefined): unknown {
  if (!(err instanceof GatewayError) || err.kind !== 'upstream' || info?.code === undefined) return err
  if (info.code === 'API_KEY_INVALID') {
    const message = credentialHint(provider, 401, err.message)
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
