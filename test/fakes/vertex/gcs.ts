// Cloud Storage JSON API (v1), the parts a batch gateway uses, strict like the real service:
// resumable uploads (`uploadType=resumable` → session URI in `Location`; PUT chunks with
// `Content-Range`, every chunk but the last a multiple of 256 KiB, 308 + `Range: bytes=0-N` while
// incomplete, `bytes */TOTAL` asks for the status), object metadata and `alt=media` downloads,
// prefix listings with paging, deletes, cancelled sessions (DELETE on the session URI → 499). Unknown buckets and objects are 404s with the JSON API's
// error body; auth is checked by the server (server.ts) before anything here runs.

import { randomId, rfc3339 } from '../gemini/common'

export const CHUNK_QUANTUM = 256 * 1024

export interface GcsObject {
  name: string
  bucket: string
  bytes: Uint8Array
  contentType: string
  generation: number
  timeCreated: string
}

interface Session {
  bucket: string
  name: string
  contentType: string
  total: number | null
  chunks: Uint8Array[]
  persisted: number
  done: GcsObject | null
}

export function gcsError(code: number, reason: string, message: string): Response {
  return Response.json({ error: { code, message, errors: [{ message, domain: 'global', reason }] } }, { status: code })
}

export class GcsStore {
  readonly buckets = new Map<string, Map<string, GcsObject>>()
  readonly sessions = new Map<string, Session>()
  /** Chunk PUTs received (not status queries), so tests can see an upload went in several. */
  chunkPuts = 0

  constructor(
    buckets: readonly string[],
    private readonly baseUrl: () => string,
  ) {
    for (const b of buckets) this.buckets.set(b, new Map())
  }

  /** Stores an object as a finished upload would (the Vertex fake writes its output this way). */
  put(bucket: string, name: string, bytes: Uint8Array, contentType: string): GcsObject {
    const objects = this.buckets.get(bucket)
    if (!objects) throw new Error(`no bucket ${bucket}`)
    const obj: GcsObject = { name, bucket, bytes, contentType, generation: Date.now() * 1000 + objects.size, timeCreated: rfc3339() }
    objects.set(name, obj)
    return obj
  }

  get(bucket: string, name: string): GcsObject | undefined {
    return this.buckets.get(bucket)?.get(name)
  }

  async route(req: Request, url: URL): Promise<Response | null> {
    const path = url.pathname
    let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)
    if (m) {
      const bucket = decodeURIComponent(m[1] as string)
      if (req.method === 'PUT' && url.searchParams.has('upload_id')) return this.chunk(req, url)
      if (req.method === 'DELETE' && url.searchParams.has('upload_id')) return this.cancel(url)
      if (req.method !== 'POST') return gcsError(405, 'methodNotAllowed', 'Method not allowed')
      if (!this.buckets.has(bucket)) return gcsError(404, 'notFound', 'The specified bucket does not exist.')
      if (url.searchParams.get('uploadType') !== 'resumable') return gcsError(400, 'invalid', `Invalid upload type: ${url.searchParams.get('uploadType') ?? ''}`)
      return this.start(req, url, bucket)
    }
    m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)
    if (m) {
      if (req.method !== 'GET') return gcsError(405, 'methodNotAllowed', 'Method not allowed')
      return this.list(decodeURIComponent(m[1] as string), url)
    }
    m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path)
    if (m) {
      const bucket = decodeURIComponent(m[1] as string)
      const name = decodeURIComponent(m[2] as string)
      const objects = this.buckets.get(bucket)
      if (!objects) return gcsError(404, 'notFound', 'The specified bucket does not exist.')
      const obj = objects.get(name)
      if (!obj) return gcsError(404, 'notFound', `No such object: ${bucket}/${name}`)
      if (req.method === 'DELETE') {
        objects.delete(name)
        return new Response(null, { status: 204 })
      }
      if (req.method !== 'GET') return gcsError(405, 'methodNotAllowed', 'Method not allowed')
      if (url.searchParams.get('alt') === 'media') {
        return new Response(obj.bytes, { headers: { 'content-type': obj.contentType, 'x-goog-generation': String(obj.generation) } })
      }
      return Response.json(this.resource(obj))
    }
    return null
  }

  resource(obj: GcsObject): Record<string, unknown> {
    const md5 = new Bun.CryptoHasher('md5').update(obj.bytes).digest('base64')
    return {
      kind: 'storage#object',
      id: `${obj.bucket}/${obj.name}/${obj.generation}`,
      selfLink: `${this.baseUrl()}/storage/v1/b/${obj.bucket}/o/${encodeURIComponent(obj.name)}`,
      mediaLink: `${this.baseUrl()}/download/storage/v1/b/${obj.bucket}/o/${encodeURIComponent(obj.name)}?generation=${obj.generation}&alt=media`,
      name: obj.name,
      bucket: obj.bucket,
      generation: String(obj.generation),
      metageneration: '1',
      contentType: obj.contentType,
      storageClass: 'STANDARD',
      size: String(obj.bytes.length),
      md5Hash: md5,
      timeCreated: obj.timeCreated,
      updated: obj.timeCreated,
    }
  }

  private async start(req: Request, url: URL, bucket: string): Promise<Response> {
    const text = await req.text()
    let meta: Record<string, unknown> = {}
    if (text.trim() !== '') {
      try {
        meta = JSON.parse(text) as Record<string, unknown>
      } catch {
        return gcsError(400, 'parseError', 'Parse Error')
      }
    }
    const name = url.searchParams.get('name') ?? (typeof meta.name === 'string' ? meta.name : null)
    if (!name) return gcsError(400, 'required', 'Required')
    const lengthHeader = req.headers.get('x-upload-content-length')
    const total = lengthHeader === null ? null : Number(lengthHeader)
    if (total !== null && !(Number.isSafeInteger(total) && total >= 0)) return gcsError(400, 'invalid', 'Invalid X-Upload-Content-Length')
    const contentType = req.headers.get('x-upload-content-type') ?? (typeof meta.contentType === 'string' ? meta.contentType : 'application/octet-stream')
    const id = `ADPycd${randomId(40)}`
    this.sessions.set(id, { bucket, name, contentType, total, chunks: [], persisted: 0, done: null })
    const location = `${this.baseUrl()}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`
    return new Response(null, { status: 200, headers: { location, 'x-guploader-uploadid': id } })
  }

  private async chunk(req: Request, url: URL): Promise<Response> {
    const session = this.sessions.get(url.searchParams.get('upload_id') ?? '')
    if (!session) return gcsError(404, 'notFound', 'No such upload session.')
    const range = req.headers.get('content-range') ?? ''
    const body = new Uint8Array(await req.arrayBuffer())
    const status = /^bytes \*\/(\d+|\*)$/.exec(range)
    if (status) {
      if (body.length > 0) return gcsError(400, 'invalid', 'Content-Range bytes */N carries no bytes.')
      if (session.done) return Response.json(this.resource(session.done))
      // A size named here with every byte already sent completes the upload (a stream's end).
      if (status[1] !== '*' && Number(status[1]) === session.persisted && (session.total === null || session.total === session.persisted)) {
        return this.finish(session, session.persisted)
      }
      return this.incomplete(session)
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range)
    if (!m) return gcsError(400, 'invalid', `Invalid Content-Range: ${range.slice(0, 80)}`)
    if (session.done) return Response.json(this.resource(session.done))
    this.chunkPuts++
    const first = Number(m[1])
    const last = Number(m[2])
    const total = m[3] === '*' ? null : Number(m[3])
    if (last < first || body.length !== last - first + 1) return gcsError(400, 'invalid', 'Content-Range does not match the bytes sent.')
    if (session.total !== null && total !== null && total !== session.total) return gcsError(400, 'invalid', 'Total size does not match X-Upload-Content-Length.')
    if (first > session.persisted) return gcsError(503, 'backendError', `Invalid request. Start of range ${first} is past the persisted size ${session.persisted}.`)
    const final = total !== null && last + 1 === total
    if (!final && body.length % CHUNK_QUANTUM !== 0) {
      return gcsError(
        400,
        'invalid',
        `Invalid request. The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144). The received request contained ${body.length} bytes, which does not meet this requirement.`,
      )
    }
    // Bytes the session already holds (a resend after a lost answer) are skipped, as GCS does.
    const fresh = body.subarray(session.persisted - first)
    session.chunks.push(fresh)
    session.persisted += fresh.length
    if (final) return this.finish(session, total as number)
    return this.incomplete(session)
  }

  /**
   * DELETE on a session URI cancels the upload: GCS answers 499 and the session's bytes are
   * dropped; the session is then unknown (404) to every later request.
   */
  private cancel(url: URL): Response {
    const id = url.searchParams.get('upload_id') ?? ''
    const session = this.sessions.get(id)
    if (!session || session.done) return gcsError(404, 'notFound', 'No such upload session.')
    this.sessions.delete(id)
    return new Response(null, { status: 499 })
  }

  private incomplete(session: Session): Response {
    const headers: Record<string, string> = session.persisted > 0 ? { range: `bytes=0-${session.persisted - 1}` } : {}
    return new Response(null, { status: 308, headers })
  }

  private finish(session: Session, total: number): Response {
    if (session.persisted !== total) return gcsError(400, 'invalid', 'Upload is not complete.')
    const bytes = new Uint8Array(total)
    let at = 0
    for (const c of session.chunks) {
      bytes.set(c, at)
      at += c.length
    }
    session.done = this.put(session.bucket, session.name, bytes, session.contentType)
    session.chunks = []
    return Response.json(this.resource(session.done))
  }

  private list(bucket: string, url: URL): Response {
    const objects = this.buckets.get(bucket)
    if (!objects) return gcsError(404, 'notFound', 'The specified bucket does not exist.')
    const prefix = url.searchParams.get('prefix') ?? ''
    const max = Math.min(Number(url.searchParams.get('maxResults') ?? '1000') || 1000, 1000)
    const after = url.searchParams.get('pageToken') ? Buffer.from(url.searchParams.get('pageToken') as string, 'base64url').toString('utf8') : ''
    const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && n > after).sort()
    const page = names.slice(0, max)
    const out: Record<string, unknown> = { kind: 'storage#objects' }
    if (page.length > 0) out.items = page.map((n) => this.resource(objects.get(n) as GcsObject))
    if (names.length > max) out.nextPageToken = Buffer.from(page[page.length - 1] as string).toString('base64url')
    return Response.json(out)
  }
}
