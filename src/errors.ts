// Errors inside batchgate are typed values; each dialect maps them to its own envelope once,
// at the edge (dialects/*/errors.ts). Nothing here knows HTTP statuses or envelopes.

export type ErrorKind =
  | 'invalid_request' // the caller sent something we will not accept (400)
  | 'unauthenticated' // no or wrong virtual key (401)
  | 'not_found' // unknown id, or an id owned by another tenant (404, never 403)
  | 'conflict' // the object is in a state that forbids the call (e.g. results before ended)
  | 'too_large' // a configured limit was exceeded (413)
  | 'quota_exceeded' // the tenant's monthly budget is spent (429; core/budget.ts)
  | 'unsupported' // the provider cannot do what was asked (400, names the provider)
  | 'upstream' // the provider answered with an error; `upstreamStatus` carries its status
  | 'upstream_unreachable' // connection refused / reset / DNS (502)
  | 'upstream_timeout' // the provider did not answer in time (504)
  | 'internal' // a bug or an unexpected state (500)

export interface GatewayErrorDetails {
  /** The request field the error is about (`purpose`, `input_file_id`, `requests.3.custom_id`). */
  param?: string
  /** 1-based line of an uploaded JSONL file. */
  line?: number
  /** A short machine code, e.g. `invalid_jsonl_line`, `limit_exceeded`. */
  code?: string
  /** HTTP status the provider answered with (kind `upstream`). */
  upstreamStatus?: number
  /** Seconds the provider asked us to wait (kind `upstream`, 429/503). */
  retryAfter?: number
  /** Upstream id → gateway id of the objects the failed call was about (see upstream-ids.ts). */
  ids?: Readonly<Record<string, string>>
  /** Milliseconds the provider asked us to wait (`retry-after-ms`, OpenAI and Anthropic send it). */
  retryAfterMs?: number
}

/**
 * One machine code per way an upstream can fail, the same whichever provider failed (issue 11
 * class 9). OpenAI envelopes carry it as `code`; both dialects derive status and type from it.
 */
export const UPSTREAM_FAILURE = {
  /** No HTTP answer at all: refused, reset before the status line, DNS. 502. */
  unreachable: 'upstream_unreachable',
  /** No status line within the time-to-headers limit. 504. */
  timeout: 'upstream_timeout',
  /** The answer started, then the connection broke while its body was read. 502. */
  reset: 'upstream_connection_reset',
  /** 429 from the provider; its retry-after is passed on. */
  rateLimited: 'rate_limit_exceeded',
  /** The provider answered 5xx; its status is passed on. */
  serverError: 'upstream_server_error',
  /** 401/403: the provider refused the gateway's own credentials; the status is passed on. */
  credentialsRefused: 'upstream_credentials_refused',
} as const

/**
 * The HTTP status a caller sees for an `upstream` error, in both dialects: the provider's own
 * status, except refused provider credentials — the gateway's misconfiguration, which providers
 * report as 400, 401 or 403 — which are one 502 everywhere, so a client never takes them for a
 * problem with its own key.
 */
export function upstreamClientStatus(e: GatewayError): number {
  if (e.details.code === UPSTREAM_FAILURE.credentialsRefused) return 502
  const s = e.details.upstreamStatus ?? 502
  return s >= 400 && s <= 599 ? s : 502
}

export class GatewayError extends Error {
  readonly kind: ErrorKind
  readonly details: GatewayErrorDetails

  constructor(kind: ErrorKind, message: string, details: GatewayErrorDetails = {}) {
    super(message)
    this.name = 'GatewayError'
    this.kind = kind
    this.details = details
  }

  get param(): string | undefined {
    return this.details.param
  }
}

/**
 * For `.catch()` around a provider call about known objects: the edge then shows their gateway
 * ids where the upstream's message quotes their upstream ids (upstream-ids.ts).
 */
export function naming(ids: Readonly<Record<string, string>>): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof GatewayError)) throw err
    throw new GatewayError(err.kind, err.message, { ...err.details, ids: { ...err.details.ids, ...ids } })
  }
}

export const invalid = (message: string, details?: GatewayErrorDetails): GatewayError =>
  new GatewayError('invalid_request', message, details)

export const notFound = (what: string, id: string): GatewayError =>
  new GatewayError('not_found', `No ${what} found with id '${truncateId(id)}'.`, { param: 'id' })

/** Ids echoed back in messages are cut so a 10 KB id cannot bloat logs or envelopes. */
export function truncateId(id: string): string {
  return id.length > 80 ? `${id.slice(0, 80)}…` : id
}

/** Anything that is not a GatewayError becomes `internal`, keeping its message out of replies. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err
  return new GatewayError('internal', 'The gateway hit an unexpected error; it has been logged.')
}
