// Files API of the Anthropic fake (spec §2): multipart upload streamed to disk, list in both the
// beta (`Page`: first_id/last_id/has_more) and GA (`PageCursor`: next_page) shapes at once,
// metadata, download (only for tool-generated files) and delete.

import { createWriteStream, writeFileSync } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import Busboy from 'busboy'
import { intParam, invalid, json, newId, notFound, pageByIds, rfc3339 } from './common'

export interface StoredFile {
  id: string
  filename: string
  mime_type: string
  size_bytes: number
  /** Epoch ms. */
  created_at: number
  /** Epoch ms, or null when the upload did not ask for an expiry. */
  expires_at: number | null
  /** Only tool-generated files can be downloaded (spec §2.4). */
  downloadable: boolean
  /** Where the bytes live on disk. */
  path: string
  /** Creation order, for newest-first listing and cursors. */
  seq: number
}

/** The file object of spec §2.6 (GA field `expires_at` included; beta clients ignore it). */
export interface FileObject {
  id: string
  type: 'file'
  filename: string
  mime_type: string
  size_bytes: number
  created_at: string
  expires_at: string | null
  downloadable: boolean
}

export function fileObject(f: StoredFile): FileObject {
  return {
    id: f.id,
    type: 'file',
    filename: f.filename,
    mime_type: f.mime_type,
    size_bytes: f.size_bytes,
    created_at: rfc3339(f.created_at),
    expires_at: f.expires_at === null ? null : rfc3339(f.expires_at),
    downloadable: f.downloadable,
  }
}

// expires_in_seconds bounds: 1 hour to 90 days (spec §2.1).
const MIN_EXPIRY_S = 3600
const MAX_EXPIRY_S = 7_776_000

const MIME_BY_EXT: Record<string, string> = {
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  jsonl: 'application/jsonl',
  png: 'image/png',
  pdf: 'application/pdf',
}

interface Cursor {
  dir: 'after' | 'before'
  id: string
}

/** GA `page` cursors are opaque to clients (spec §2.2); ours wraps a before/after id. */
function encodeCursor(c: Cursor): string {
  return `page_${Buffer.from(JSON.stringify(c)).toString('base64url')}`
}

function decodeCursor(raw: string): Cursor {
  try {
    if (!raw.startsWith('page_')) throw new Error('prefix')
    const c = JSON.parse(Buffer.from(raw.slice(5), 'base64url').toString('utf8')) as Partial<Cursor>
    if ((c.dir === 'after' || c.dir === 'before') && typeof c.id === 'string') return { dir: c.dir, id: c.id }
  } catch {
    // fall through to the error below
  }
  throw invalid('page: Invalid page token')
}

export class FilesStore {
  readonly files = new Map<string, StoredFile>()
  /** seq of every ID ever issued, so cursors naming deleted files still work. */
  private readonly seqs = new Map<string, number>()
  private nextSeq = 1

  constructor(private readonly dir: string) {}

  private add(f: Omit<StoredFile, 'seq' | 'id'>): StoredFile {
    const stored: StoredFile = { ...f, id: newId('file'), seq: this.nextSeq++ }
    this.files.set(stored.id, stored)
    this.seqs.set(stored.id, stored.seq)
    return stored
  }

  /** Simulates a file produced by a tool (code execution, skills): `downloadable: true`. */
  addDownloadable(filename: string, content: string | Uint8Array, mimeType?: string): StoredFile {
    const path = join(this.dir, crypto.randomUUID())
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
    writeFileSync(path, bytes)
    const ext = filename.split('.').pop()?.toLowerCase() ?? ''
    return this.add({
      filename,
      mime_type: mimeType ?? MIME_BY_EXT[ext] ?? 'application/octet-stream',
      size_bytes: bytes.byteLength,
      created_at: Date.now(),
      expires_at: null,
      downloadable: true,
      path,
    })
  }

  private get(id: string): StoredFile {
    const f = this.files.get(id)
    if (!f) throw notFound(`File not found: ${id}`)
    return f
  }

  /** Routes `/v1/files…`; returns undefined when the path is not a files route. */
  async handle(req: Request, url: URL, parts: string[]): Promise<Response | undefined> {
    const [id, sub, ...extra] = parts
    if (extra.length > 0) return undefined
    if (id === undefined) {
      if (req.method === 'POST') return json(fileObject(await this.upload(req)))
      if (req.method === 'GET') return json(this.list(url))
      return undefined
    }
    if (sub === undefined) {
      if (req.method === 'GET') return json(fileObject(this.get(id)))
      if (req.method === 'DELETE') {
        const f = this.get(id)
        this.files.delete(id)
        await rm(f.path, { force: true })
        return json({ id, type: 'file_deleted' })
      }
      return undefined
    }
    if (sub === 'content' && req.method === 'GET') return this.download(id)
    return undefined
  }

  private download(id: string): Response {
    const f = this.get(id)
    // User uploads are never downloadable (spec §2.4); SDK 1.x maps the error_code to
    // FileNotDownloadableError.
    if (!f.downloadable) {
      throw invalid(`File ${id} is not downloadable; only files created by tools can be downloaded`, 'file_not_downloadable')
    }
    if (f.expires_at !== null && f.expires_at <= Date.now()) throw notFound(`File ${id} has expired`, 'file_expired')
    // Bun.file streams from disk rather than buffering.
    return new Response(Bun.file(f.path), {
      headers: { 'content-type': f.mime_type, 'content-length': String(f.size_bytes) },
    })
  }

  /**
   * Both list shapes in one body (spec §2.2): `data/has_more/first_id/last_id` for the `Page`
   * generation (before_id/after_id) and `next_page` for the `PageCursor` generation (`page`).
   */
  private list(url: URL): Record<string, unknown> {
    const q = url.searchParams
    const ids = [...q.getAll('ids[]'), ...q.getAll('ids')]
    const newestFirst = [...this.files.values()].sort((a, b) => b.seq - a.seq)
    if (ids.length > 0) {
      // `ids[]` is exclusive with page/limit and capped at 100 (spec §2.2, GA).
      if (q.has('page') || q.has('limit')) throw invalid('ids: cannot be combined with page or limit')
      if (ids.length > 100) throw invalid('ids: List should have at most 100 items')
      const data = newestFirst.filter((f) => ids.includes(f.id)).map(fileObject)
      return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, next_page: null }
    }
    // The files limit range is unverified (assumed 1–1000 like batches): be lenient above 1000.
    const limit = Math.min(1000, intParam(url, 'limit', 20, 1, Number.MAX_SAFE_INTEGER))
    let beforeId = q.get('before_id')
    let afterId = q.get('after_id')
    const page = q.get('page')
    if (page) {
      const c = decodeCursor(page)
      beforeId = c.dir === 'before' ? c.id : null
      afterId = c.dir === 'after' ? c.id : null
    }
    const result = pageByIds(newestFirst, (f) => f.seq, (id) => this.seqs.get(id), { beforeId, afterId, limit })
    let nextPage: string | null = null
    if (result.has_more && result.first_id && result.last_id) {
      nextPage = encodeCursor(beforeId ? { dir: 'before', id: result.first_id } : { dir: 'after', id: result.last_id })
    }
    return { ...result, data: result.data.map(fileObject), next_page: nextPage }
  }

  /** Streams the `file` part to disk with busboy; never holds the upload in memory. */
  private async upload(req: Request): Promise<StoredFile> {
    const contentType = req.headers.get('content-type') ?? ''
    if (!contentType.toLowerCase().startsWith('multipart/form-data') || !req.body) {
      throw invalid('Request body must be multipart/form-data with a `file` part')
    }
    const fields = new Map<string, string>()
    let part: Promise<{ filename: string; mimeType: string; path: string }> | undefined
    const path = join(this.dir, crypto.randomUUID())
    try {
      await new Promise<void>((resolve, reject) => {
        let bb: Busboy.Busboy
        try {
          bb = Busboy({ headers: { 'content-type': contentType } })
        } catch (err) {
          reject(invalid(`Malformed multipart body: ${String(err)}`))
          return
        }
        bb.on('file', (name, stream, info) => {
          if (name !== 'file' || part) {
            stream.resume()
            return
          }
          const written = pipeline(stream, createWriteStream(path)).then(() => ({
            filename: info.filename ?? '',
            mimeType: info.mimeType,
            path,
          }))
          written.catch(() => {}) // awaited below; avoid an unhandled rejection meanwhile
          part = written
        })
        bb.on('field', (name, value) => fields.set(name, value))
        bb.on('error', (err) => reject(invalid(`Malformed multipart body: ${String(err)}`)))
        bb.on('close', () => resolve())
        Readable.fromWeb(req.body as unknown as NodeReadableStream<Uint8Array>)
          .on('error', (err) => reject(invalid(`Upload interrupted: ${String(err)}`)))
          .pipe(bb)
      })
      if (!part) throw invalid('file: Field required')
      const written = await part
      let expiresAt: number | null = null
      const rawExpiry = fields.get('expires_in_seconds')
      const now = Date.now()
      if (rawExpiry !== undefined) {
        const s = Number(rawExpiry)
        if (!Number.isInteger(s) || s < MIN_EXPIRY_S || s > MAX_EXPIRY_S) {
          throw invalid(`expires_in_seconds: Input should be an integer between ${MIN_EXPIRY_S} and ${MAX_EXPIRY_S}`)
        }
        expiresAt = now + s * 1000
      }
      // Only the last path component of the part filename is kept (spec §2.1).
      const filename = written.filename.split(/[\\/]/).pop() || 'file'
      return this.add({
        filename,
        // Derived from the part's Content-Type (how the real API derives it is unverified).
        mime_type: written.mimeType || 'application/octet-stream',
        size_bytes: (await stat(path)).size,
        created_at: now,
        expires_at: expiresAt,
        downloadable: false,
        path,
      })
    } catch (err) {
      await rm(path, { force: true })
      throw err
    }
  }
}
