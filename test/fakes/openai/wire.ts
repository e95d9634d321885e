// Wire-level building blocks of the OpenAI fake: object shapes, the error envelope, ids and
// small response helpers. Shapes follow the OpenAI wire reference (openai.md §1, §2.6, §4.5).

/** File object (openai.md §2.6). `status` is deprecated upstream but still required. */
export interface OpenAIFileObject {
  id: string
  object: 'file'
  bytes: number
  created_at: number
  expires_at: number | null
  filename: string
  purpose: string
  status: 'uploaded' | 'processed' | 'error'
}

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled'

export interface BatchError {
  code: string
  message: string
  param: string | null
  line: number | null
}

/** Batch object (openai.md §4.5). */
export interface OpenAIBatch {
  id: string
  object: 'batch'
  endpoint: string
  /** Newer optional field: only present once the input file has been read. */
  model?: string
  errors: { object: 'list'; data: BatchError[] } | null
  input_file_id: string
  completion_window: string
  status: BatchStatus
  output_file_id: string | null
  error_file_id: string | null
  created_at: number
  in_progress_at: number | null
  expires_at: number | null
  finalizing_at: number | null
  completed_at: number | null
  failed_at: number | null
  expired_at: number | null
  cancelling_at: number | null
  cancelled_at: number | null
  request_counts: { total: number; completed: number; failed: number }
  usage: {
    input_tokens: number
    input_tokens_details: { cached_tokens: number }
    output_tokens: number
    output_tokens_details: { reasoning_tokens: number }
    total_tokens: number
  }
  metadata: Record<string, string> | null
}

export const TERMINAL_STATUSES: ReadonlySet<BatchStatus> = new Set(['completed', 'failed', 'expired', 'cancelled'])

/** Unix seconds: every OpenAI timestamp is an integer number of seconds (openai.md §1). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const HEX = '0123456789abcdef'

function randomFrom(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ''
  for (const b of bytes) out += alphabet[b % alphabet.length]
  return out
}

export const newId = {
  file: (): string => `file-${randomFrom(ALNUM, 24)}`,
  batch: (): string => `batch_${randomFrom(HEX, 24)}`,
  batchRequest: (): string => `batch_req_${randomFrom(ALNUM, 24)}`,
  request: (): string => `req_${randomFrom(HEX, 32)}`,
  chatCompletion: (): string => `chatcmpl-${randomFrom(ALNUM, 24)}`,
  completion: (): string => `cmpl-${randomFrom(ALNUM, 24)}`,
  response: (): string => `resp_${randomFrom(HEX, 32)}`,
  message: (): string => `msg_${randomFrom(HEX, 32)}`,
  upload: (): string => `upload_${randomFrom(ALNUM, 24)}`,
  part: (): string => `part_${randomFrom(ALNUM, 24)}`,
}

/** The one error envelope OpenAI uses everywhere: all four keys present (openai.md §1 "Error shape"). */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export function errorBody(message: string, param: string | null = null, code: string | null = null, type = 'invalid_request_error'): ErrorBody {
  return { error: { message, type, param, code } }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': newId.request(), ...headers },
  })
}

export function errorResponse(status: number, message: string, param: string | null = null, code: string | null = null): Response {
  return json(errorBody(message, param, code), status)
}

export const badRequest = (message: string, param: string | null = null): Response => errorResponse(400, message, param)

export const notFound = (message: string): Response => errorResponse(404, message)

/** Parses a non-negative integer query/form value; undefined when absent, NaN when malformed. */
export function parseIntParam(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined) return undefined
  return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export interface ListPage<T extends { id: string }> {
  object: 'list'
  data: T[]
  first_id: string | null
  last_id: string | null
  has_more: boolean
}

/**
 * Cursor paging shared by files and batches: items after the `after` id, `limit` of them, and
 * `has_more:false` on the last page — the SDK keeps paging unless told `false` (openai.md §1).
 * An `after` id that is not in the list yields an empty last page.
 */
export function paginate<T extends { id: string }>(items: T[], limit: number, after: string | null): ListPage<T> {
  let start = 0
  if (after) {
    const idx = items.findIndex((item) => item.id === after)
    start = idx === -1 ? items.length : idx + 1
  }
  const data = items.slice(start, start + limit)
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  }
}
