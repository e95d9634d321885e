// Shared bits of the Anthropic fake: IDs, the error envelope, JSON responses and the
// before_id/after_id list paging every Anthropic list endpoint uses.

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Real IDs look like `msgbatch_013Zva2CMHLNnXjNJJKqJ2EF` / `file_011CNha8iCJcU1wXNR6q4V8w`. */
export function newId(prefix: 'msgbatch' | 'file' | 'msg' | 'req'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(22))
  let tail = ''
  for (const b of bytes) tail += ALPHABET[b % ALPHABET.length]
  return `${prefix}_01${tail}`
}

/** Anthropic timestamps are RFC 3339 strings (spec §2.6, §3.7). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString()
}

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'

const STATUS: Record<AnthropicErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
}

/** The error body every endpoint uses: `{type:"error", error:{type,message}, request_id}` (spec §1). */
export interface ErrorEnvelope {
  type: 'error'
  error: { type: AnthropicErrorType; message: string; details?: { error_code: string } }
  request_id: string
}

export function errorEnvelope(
  type: AnthropicErrorType,
  message: string,
  requestId: string,
  errorCode?: string,
): ErrorEnvelope {
  // SDK 1.x reads `error.details.error_code` (e.g. file_not_downloadable) to pick a typed error
  // class; older clients ignore the extra field, so it is always sent when there is a code.
  const error: ErrorEnvelope['error'] = { type, message }
  if (errorCode) error.details = { error_code: errorCode }
  return { type: 'error', error, request_id: requestId }
}

/** Thrown by route code; the server turns it into the envelope with the request's id. */
export class ApiError extends Error {
  constructor(
    readonly type: AnthropicErrorType,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message)
  }

  get status(): number {
    return STATUS[this.type]
  }
}

export const invalid = (message: string, errorCode?: string): ApiError =>
  new ApiError('invalid_request_error', message, errorCode)
export const notFound = (message: string, errorCode?: string): ApiError =>
  new ApiError('not_found_error', message, errorCode)

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** Parses an integer query parameter within [min, max]; absent → fallback. */
export function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name)
  if (raw === null || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalid(`${name}: Input should be an integer between ${min} and ${max}`)
  }
  return n
}

export interface ListPage<T> {
  data: T[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

/**
 * `before_id`/`after_id` paging over a list sorted newest first (spec §3.2, `Page` rule in §2.2):
 * after_id = the items that follow the cursor (older), before_id = the `limit` items right
 * before it (newer), still newest first. `seqOf` must know deleted IDs too, so a client paging
 * while objects are deleted still finds its place; an unknown cursor yields an empty page.
 */
export function pageByIds<T extends { id: string }>(
  newestFirst: T[],
  seq: (item: T) => number,
  seqOf: (id: string) => number | undefined,
  opts: { beforeId?: string | null; afterId?: string | null; limit: number },
): ListPage<T> {
  let slice: T[]
  let hasMore: boolean
  if (opts.beforeId) {
    const cursor = seqOf(opts.beforeId)
    const newer = cursor === undefined ? [] : newestFirst.filter((x) => seq(x) > cursor)
    slice = newer.slice(Math.max(0, newer.length - opts.limit))
    hasMore = newer.length > slice.length
  } else {
    let rest = newestFirst
    if (opts.afterId) {
      const cursor = seqOf(opts.afterId)
      rest = cursor === undefined ? [] : newestFirst.filter((x) => seq(x) < cursor)
    }
    slice = rest.slice(0, opts.limit)
    hasMore = rest.length > slice.length
  }
  return {
    data: slice,
    has_more: hasMore,
    first_id: slice[0]?.id ?? null,
    last_id: slice[slice.length - 1]?.id ?? null,
  }
}
