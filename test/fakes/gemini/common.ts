// Small shared helpers for the Gemini fake: Google-style error envelopes, RFC 3339 timestamps,
// int64-as-string encoding and resource ids.

import { type FakeServer, serveFake } from '../harness'

/** Canonical status names and their HTTP codes (google.rpc.Code mapping used by Google REST APIs). */
const HTTP_FOR_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
} as const

export type GoogleStatus = keyof typeof HTTP_FOR_STATUS

/** gRPC numeric codes, used where a google.rpc.Status is embedded in a resource (Operation.error). */
export const GRPC_CODE = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, FAILED_PRECONDITION: 9, INTERNAL: 13 } as const

/** Thrown anywhere in a handler; turned into the Google error envelope by the router (spec §1). */
export class GoogleError extends Error {
  constructor(
    readonly status: GoogleStatus,
    message: string,
    readonly details: unknown[] = [],
    readonly httpCode: number = HTTP_FOR_STATUS[status],
  ) {
    super(message)
  }
}

export function errorResponse(err: GoogleError): Response {
  // Spec §1: `{error:{code,message,status,details}}`, code = HTTP status.
  return json(
    { error: { code: err.httpCode, message: err.message, status: err.status, details: err.details } },
    err.httpCode,
  )
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
  })
}

/** Unknown-field rejection in the wording the real API uses for proto JSON parsing errors. */
export function unknownField(name: string, at: string): GoogleError {
  const where = at ? ` at '${at}'` : ''
  return new GoogleError('INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`, [
    {
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: at, description: `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.` }],
    },
  ])
}

export function invalidValue(at: string, type: string, value: unknown): GoogleError {
  return new GoogleError('INVALID_ARGUMENT', `Invalid value at '${at}' (${type}), ${JSON.stringify(value)}`)
}

let nanoCounter = 0
/**
 * RFC 3339 with nanosecond precision like the real API (spec §1, e.g. `…07.900645097Z`). The
 * sub-millisecond digits come from a counter so timestamps taken in the same ms still sort.
 */
export function rfc3339(date: Date = new Date()): string {
  nanoCounter = (nanoCounter + 1) % 1_000_000
  return date.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${String(nanoCounter).padStart(6, '0')}Z`)
}

/** int64 fields are JSON strings; zero/default values are omitted (spec §1, §3.7). */
export function int64Fields(counts: Record<string, number>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(counts)) if (v !== 0) out[k] = String(v)
  return out
}

const ALPHANUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** Lowercase alphanumeric id (valid per spec §1's files/{id} rule and the SDK's URI parsing). */
export function randomId(len = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(len))
  let s = ''
  for (const b of bytes) s += ALPHANUM[b % ALPHANUM.length]
  return s
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type JsonObject = { [k: string]: Json }

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** proto3 JSON accepts both lowerCamel and the original snake_case field names (spec §1). */
export function toCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}
export function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/**
 * Returns a copy of `obj` with keys normalised to camelCase, rejecting names not in `known`
 * (given in camelCase) with the real API's "Unknown name" error. `at` is the snake_case path
 * used in the message, like Google's errors do.
 */
export function normaliseKeys(obj: JsonObject, known: readonly string[], at: string): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(obj)) {
    const camel = toCamel(k)
    if (!known.includes(camel)) throw unknownField(k, at)
    if (camel in out) throw new GoogleError('INVALID_ARGUMENT', `Invalid JSON payload received. Duplicate field "${k}"${at ? ` at '${at}'` : ''}.`)
    out[camel] = v
  }
  return out
}

/** Parses a request body as JSON, answering like Google's ESF when it is not JSON. */
export async function readJsonBody(req: Request, allowEmpty: boolean): Promise<JsonObject> {
  const text = await req.text()
  if (text.trim() === '') {
    if (allowEmpty) return {}
    throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Expected an object.')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new GoogleError('INVALID_ARGUMENT', `Invalid JSON payload received. ${(err as Error).message}`)
  }
  if (!isObject(parsed)) throw new GoogleError('INVALID_ARGUMENT', 'Invalid JSON payload received. Expected an object at the top level.')
  return parsed
}

/** A fake whose handlers throw GoogleError: each becomes the Google error envelope. */
export function serveGoogleFake(route: (req: Request, url: URL) => Promise<Response>): FakeServer {
  return serveFake(async (req, url) => {
    try {
      return await route(req, url)
    } catch (err) {
      if (err instanceof GoogleError) return errorResponse(err)
      throw err
    }
  })
}
