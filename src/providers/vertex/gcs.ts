// Cloud Storage JSON API, the calls a vertex instance needs: resumable uploads streamed from the
// spool file chunk by chunk, media downloads handed on as streams, prefix listings, deletes.
//
// A resumable session takes one chunk at a time at the offset the server has persisted (chunks
// are multiples of 256 KiB, the last excepted), so a single upload is sequential by protocol;
// several in flight would need parallel composite objects (compose), which leave temporary objects
// behind on failure. A chunk whose answer is lost may still have been stored: the session is asked
// how much it holds (`Content-Range: bytes */TOTAL`, answered 308 + Range) and the upload goes on
// from there.

import { GatewayError } from '../../errors'
import { isTransient, sessionUrlOnBase } from '../gemini/resumable-upload'
import { GrowingSource } from '../growing-source'
import type { UploadSource } from '../provider'
import { backoff, brokenOffAs } from '../upstream-fetch'
import type { BearerRest } from './rest'
import type { GcsObject, GcsObjectList } from './wire'

/** Every chunk but the last is a multiple of this (the JSON API's rule). */
export const CHUNK_QUANTUM = 256 * 1024
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
/** A listing stops after this many objects: prefixes here hold one job's few output files. */
const MAX_LISTED = 10_000

export interface GcsPlace {
  bucket: string
  object: string
}

export const gsUri = ({ bucket, object }: GcsPlace): string => `gs://${bucket}/${object}`

/** `gs://bucket/a/b` → its bucket and object name; null when it is not one. */
export function parseGsUri(uri: string): GcsPlace | null {
  const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri)
  return m ? { bucket: m[1] as string, object: m[2] as string } : null
}

const objectPath = ({ bucket, object }: GcsPlace): string => `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`

export class GcsClient {
  readonly chunkBytes: number

  constructor(
    private readonly rest: BearerRest,
    chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.chunkBytes = Math.max(CHUNK_QUANTUM, Math.ceil(chunkBytes / CHUNK_QUANTUM) * CHUNK_QUANTUM)
  }

  /**
   * Uploads a spool file, or one still being written (a GrowingSource: chunks go up as the
   * converter fills them, the total named only with the last one, `bytes a-b/*` before).
   */
  async upload(place: GcsPlace, source: UploadSource | GrowingSource, contentType: string): Promise<GcsObject> {
    const growing = source instanceof GrowingSource ? source : null
    const totalNow = (): number | null => (growing ? growing.total : (source as UploadSource).bytes)
    const session = await this.startSession(place, totalNow(), contentType)
    try {
      return await this.fill(session, source, growing, totalNow)
    } catch (err) {
      // An upload that will not finish is cancelled, so its bytes do not wait upstream for the
      // session's week to run out; the upload's own error is what the caller sees.
      await this.cancelSession(session).catch(() => undefined)
      throw err
    }
  }

  /** Sends the source's bytes into an open session until the object exists. */
  private async fill(session: string, source: UploadSource | GrowingSource, growing: GrowingSource | null, totalNow: () => number | null): Promise<GcsObject> {
    let offset = 0
    let misses = 0
    for (;;) {
      // Waits for a whole chunk on disk (or the writer's end); throws the writer's error.
      if (growing) await growing.until(offset + this.chunkBytes)
      const total = totalNow()
      const end = Math.min(offset + this.chunkBytes, total ?? Number.POSITIVE_INFINITY)
      let answer: ChunkAnswer
      try {
        // A growing file can end right on a chunk boundary: the total then goes up alone.
        answer = end === offset && total !== null && total > 0 ? await this.query(session, total) : await this.sendChunk(session, source.path, offset, end, total)
      } catch (err) {
        if (!isTransient(err)) throw err
        answer = { kind: 'unknown', cause: err }
      }
      if (answer.kind === 'done') return answer.object
      if (answer.kind === 'incomplete' && answer.persisted === end && (total === null || end < total)) {
        offset = end
        misses = 0
        continue
      }
      // Unknown outcome or a short write: ask the session where it stands.
      misses++
      const cause = answer.kind === 'unknown' ? answer.cause : unexpected('cloud storage kept fewer bytes than were sent')
      if (misses > this.rest.policy.retries) throw cause
      await Bun.sleep(backoff(misses, cause.details.retryAfter))
      const state = await this.query(session, total)
      if (state.kind === 'done') return state.object
      if (state.kind !== 'incomplete' || state.persisted > (total ?? Number.POSITIVE_INFINITY)) throw unexpected('cloud storage lost track of the upload session')
      offset = state.persisted
    }
  }

  /** The object's bytes as a stream; a connection that breaks mid-read fails the reader. */
  async download(place: GcsPlace): Promise<ReadableStream<Uint8Array>> {
    const res = await this.rest.request(`${objectPath(place)}?alt=media`, { what: 'download object', idempotent: true, method: 'GET' })
    if (!res.body) throw unexpected('cloud storage returned an empty object body')
    return brokenOffAs(this.rest.provider, res.body)
  }

  /** The object's metadata, or null when there is none. */
  async stat(place: GcsPlace): Promise<GcsObject | null> {
    const res = await this.rest.request(objectPath(place), { what: 'get object', idempotent: true, method: 'GET', okStatuses: [404] })
    if (res.status === 404) {
      await res.body?.cancel()
      return null
    }
    return (await res.json()) as GcsObject
  }

  /** Deleting what is already gone counts as done (a retried DELETE whose answer was lost). */
  async delete(place: GcsPlace): Promise<void> {
    const res = await this.rest.request(objectPath(place), { what: 'delete object', idempotent: true, method: 'DELETE', okStatuses: [404] })
    await res.body?.cancel()
  }

  /** Objects whose names start with `prefix`, in the listing's (lexicographic) order. */
  async *list(bucket: string, prefix: string): AsyncGenerator<GcsObject> {
    let token: string | undefined
    let seen = 0
    do {
      const query = new URLSearchParams({ prefix, maxResults: '1000', ...(token ? { pageToken: token } : {}) })
      const page = (await this.rest.json(`/storage/v1/b/${encodeURIComponent(bucket)}/o?${query}`, {
        what: 'list objects',
        idempotent: true,
        method: 'GET',
      })) as GcsObjectList
      for (const item of page.items ?? []) {
        yield item
        if (++seen >= MAX_LISTED) return
      }
      token = page.nextPageToken
    } while (token)
  }

  private async startSession(place: GcsPlace, bytes: number | null, contentType: string): Promise<string> {
    const query = new URLSearchParams({ uploadType: 'resumable', name: place.object })
    const res = await this.rest.request(`/upload/storage/v1/b/${encodeURIComponent(place.bucket)}/o?${query}`, {
      what: 'start upload',
      // Repeating only opens another session; an abandoned one expires upstream after a week.
      idempotent: true,
      method: 'POST',
      headers: { 'x-upload-content-type': contentType, ...(bytes === null ? {} : { 'x-upload-content-length': String(bytes) }) },
      json: { contentType },
    })
    await res.body?.cancel()
    const location = res.headers.get('location')
    if (!location) throw unexpected('cloud storage did not return an upload session URI')
    // The session URI authorises the upload; its path goes to the configured storage host only.
    return sessionUrlOnBase(location, this.rest.baseUrl)
  }

  /** DELETE on the session URI: GCS answers 499 (cancelled), or 404 for a session already gone. */
  private async cancelSession(session: string): Promise<void> {
    const res = await this.rest.request(session, { what: 'cancel upload', idempotent: true, method: 'DELETE', okStatuses: [499, 404], manualRedirect: true })
    await res.body?.cancel()
  }

  /** Bytes [offset, end) of the file; `total` null while a growing file's size is unknown. */
  private async sendChunk(session: string, path: string, offset: number, end: number, total: number | null): Promise<ChunkAnswer> {
    const range = total === 0 ? 'bytes */0' : `bytes ${offset}-${end - 1}/${total ?? '*'}`
    const res = await this.rest.request(session, {
      what: 'upload object chunk',
      // Never repeated blindly: after a lost answer the session may hold part of the chunk.
      idempotent: false,
      method: 'PUT',
      headers: { 'content-range': range, 'content-type': 'application/octet-stream' },
      // A lazy slice of the spool file: Bun streams it from disk with its exact length.
      body: () => Bun.file(path).slice(offset, end),
      okStatuses: [308],
      manualRedirect: true,
    })
    return readAnswer(res)
  }

  /** Where the session stands; with the total known, a session holding every byte completes. */
  private async query(session: string, total: number | null): Promise<ChunkAnswer> {
    const res = await this.rest.request(session, {
      what: 'query upload',
      idempotent: true,
      method: 'PUT',
      headers: { 'content-range': `bytes */${total ?? '*'}` },
      okStatuses: [308],
      manualRedirect: true,
    })
    return readAnswer(res)
  }
}

type ChunkAnswer =
  | { kind: 'done'; object: GcsObject }
  /** 308: the session holds bytes [0, persisted). */
  | { kind: 'incomplete'; persisted: number }
  | { kind: 'unknown'; cause: GatewayError }

async function readAnswer(res: Response): Promise<ChunkAnswer> {
  if (res.status === 308) {
    await res.body?.cancel()
    // `Range: bytes=0-N` names the last byte kept; no header means nothing kept yet.
    const m = /^bytes=0-(\d+)$/.exec(res.headers.get('range') ?? '')
    return { kind: 'incomplete', persisted: m ? Number(m[1]) + 1 : 0 }
  }
  let body: unknown
  try {
    body = await res.json()
  } catch {
    body = null
  }
  const object = body as GcsObject | null
  if (!object || typeof object.name !== 'string') return { kind: 'unknown', cause: unexpected('cloud storage sent an unreadable upload answer') }
  return { kind: 'done', object }
}

const unexpected = (message: string): GatewayError => new GatewayError('upstream', message, { upstreamStatus: 502 })
