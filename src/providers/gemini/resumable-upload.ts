// Google's resumable upload protocol (spec §2.1), streamed from the spool file chunk by chunk.
// Written by hand because @google/genai's upload wants a Blob or a path and hides the session:
// we need bounded memory (one chunk slice at a time, read lazily from disk) and resumption.
//
// Resumption: a chunk whose answer is lost (network error, 5xx, missing X-Goog-Upload-Status —
// the SDK re-sends in that last case) may still have been partly stored, so re-sending at the old
// offset could be refused. We ask the session (`query`) how many bytes it holds and go on from
// there — the plain re-send of the same chunk when the server kept nothing.

import { GatewayError } from '../../errors'
import type { UploadSource } from '../provider'
import { backoff } from '../upstream-fetch'
import type { GeminiRest } from './rest'
import { type GeminiFile, type GeminiUploadStartBody, isUploadFinalBody } from './wire'

/** The SDK's chunk size (spec §2.1); real servers advertise 8 MiB granularity. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024

/** Same set upstreamFetch retries on; those answers say nothing about what the server kept. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504])

export interface UploadTarget {
  displayName: string
  mimeType: string
}

type SessionAnswer =
  | { kind: 'active'; received: number | null }
  | { kind: 'final'; file: GeminiFile }
  /** The answer did not say what happened; `cause` is rethrown when we give up. */
  | { kind: 'unknown'; cause: GatewayError }

export async function resumableUpload(
  rest: GeminiRest,
  source: UploadSource,
  target: UploadTarget,
  chunkBytes: number,
): Promise<GeminiFile> {
  const session = await startSession(rest, source, target)
  let offset = 0
  let misses = 0
  for (;;) {
    const end = Math.min(offset + chunkBytes, source.bytes)
    const final = end >= source.bytes
    const answer = await sendChunk(rest, session, source.path, offset, end, final)
    if (answer.kind === 'final') {
      if (final) return answer.file
      throw unexpected('gemini finalized the upload before all bytes were sent')
    }
    if (answer.kind === 'active' && !final && progressed(answer.received, offset, end)) {
      // Trust the server's count when it gives one: it is what the next offset must be.
      offset = answer.received ?? end
      misses = 0
      continue
    }
    // Unknown outcome, `active` after finalize, or an impossible count: ask the session.
    misses++
    const cause =
      answer.kind === 'unknown'
        ? answer.cause
        : unexpected(final ? 'gemini did not finalize the upload' : 'gemini reported an impossible upload offset')
    if (misses > rest.policy.retries) throw cause
    await Bun.sleep(backoff(misses, cause.details.retryAfter))
    const state = await querySession(rest, session)
    if (state.kind === 'final') return state.file
    if (state.kind !== 'active' || state.received === null || state.received > source.bytes) {
      throw unexpected('gemini lost track of the upload session')
    }
    offset = state.received
  }
}

async function startSession(rest: GeminiRest, source: UploadSource, target: UploadTarget): Promise<string> {
  const body: GeminiUploadStartBody = { file: { displayName: target.displayName, mimeType: target.mimeType } }
  const res = await rest.request('/upload/v1beta/files', {
    what: 'start upload',
    // Repeating only opens another session; an abandoned one expires upstream.
    idempotent: true,
    method: 'POST',
    headers: {
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(source.bytes),
      'x-goog-upload-header-content-type': target.mimeType,
    },
    json: body,
  })
  await discard(res)
  const url = res.headers.get('x-goog-upload-url')
  if (!url) throw unexpected('gemini did not return an upload URL')
  return sessionUrlOnBase(url, rest.config.baseUrl)
}

/**
 * The session URL may name another host; like the SDK (spec §2.1) we keep its path and query but
 * send it to the configured base URL's scheme, host and port, so the key only goes where the
 * operator pointed us.
 */
export function sessionUrlOnBase(sessionUrl: string, baseUrl: string): string {
  const base = new URL(baseUrl)
  const url = new URL(sessionUrl, base)
  url.protocol = base.protocol
  url.hostname = base.hostname
  url.port = base.port
  return url.toString()
}

async function sendChunk(
  rest: GeminiRest,
  session: string,
  path: string,
  offset: number,
  end: number,
  final: boolean,
): Promise<SessionAnswer> {
  let res: Response
  try {
    res = await rest.request(session, {
      what: 'upload file chunk',
      // Never repeated blindly: after a lost answer the server may hold part of the chunk.
      idempotent: false,
      method: 'POST',
      headers: {
        'x-goog-upload-command': final ? 'upload, finalize' : 'upload',
        'x-goog-upload-offset': String(offset),
        'content-type': 'application/octet-stream',
      },
      // A lazy slice of the spool file: Bun streams it from disk with its exact length.
      body: () => Bun.file(path).slice(offset, end),
    })
  } catch (err) {
    if (isTransient(err)) return { kind: 'unknown', cause: err }
    throw err
  }
  return readSessionAnswer(res, 'upload file chunk')
}

async function querySession(rest: GeminiRest, session: string): Promise<SessionAnswer> {
  const res = await rest.request(session, {
    what: 'query upload',
    idempotent: true,
    method: 'POST',
    headers: { 'x-goog-upload-command': 'query' },
  })
  return readSessionAnswer(res, 'query upload')
}

async function readSessionAnswer(res: Response, what: string): Promise<SessionAnswer> {
  const status = res.headers.get('x-goog-upload-status')?.toLowerCase()
  if (status === 'final') {
    let body: unknown
    try {
      body = await res.json()
    } catch {
      body = undefined
    }
    if (!isUploadFinalBody(body) || body.file === undefined) {
      throw unexpected(`gemini sent an unreadable answer to "${what}"`)
    }
    return { kind: 'final', file: body.file }
  }
  await discard(res)
  if (status === 'active') {
    const received = Number(res.headers.get('x-goog-upload-size-received') ?? 'NaN')
    return { kind: 'active', received: Number.isSafeInteger(received) && received >= 0 ? received : null }
  }
  if (status === undefined) return { kind: 'unknown', cause: unexpected(`gemini did not confirm "${what}"`) }
  // `cancelled` or anything else: the session is gone, resuming cannot help.
  throw unexpected(`gemini ended the upload session (${status.slice(0, 40)})`)
}

/** A count outside (offset, end] cannot follow from this chunk; it is checked with a query. */
function progressed(received: number | null, offset: number, end: number): boolean {
  return received === null || (received > offset && received <= end)
}

export function isTransient(err: unknown): err is GatewayError {
  if (!(err instanceof GatewayError)) return false
  if (err.kind === 'upstream_unreachable' || err.kind === 'upstream_timeout') return true
  return err.kind === 'upstream' && TRANSIENT_STATUSES.has(err.details.upstreamStatus ?? 0)
}

const unexpected = (message: string): GatewayError => new GatewayError('upstream', message, { upstreamStatus: 502 })

/** Drops an unused body; a broken one (connection cut) does not matter here. */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined)
}
