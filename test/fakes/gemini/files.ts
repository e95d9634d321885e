// Files API of the Gemini fake (spec §2): resumable uploads streamed to disk, list/get/delete,
// and media download of GENERATED files only.

import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { open, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { GoogleError, int64Fields, isObject, json, normaliseKeys, randomId, readJsonBody, rfc3339 } from './common'
import type { JsonObject } from './common'
import { paginate } from './paging'

/** 2 GB per file (spec §2.6 limits). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
const FILE_TTL_MS = 48 * 3600 * 1000
/** The SDK uploads in 8 MiB chunks (spec §2.1); real servers advertise this granularity. */
const CHUNK_GRANULARITY = 8 * 1024 * 1024

export interface StoredFile {
  /** `files/{id}` */
  name: string
  id: string
  displayName?: string
  mimeType: string
  sizeBytes: number
  createTime: string
  updateTime: string
  expirationTime: string
  sha256Hash: string
  source: 'UPLOADED' | 'GENERATED'
  /** Where the bytes live on disk. */
  path: string
  /** Creation order, for newest-first listing and page tokens. */
  seq: number
}

interface UploadSession {
  id: string
  fileId: string
  displayName?: string
  mimeType: string
  /** From X-Goog-Upload-Header-Content-Length, when the client declared it. */
  declaredSize?: number
  received: number
  hash: Hash
  path: string
  busy: boolean
  file?: StoredFile
}

/** Fields a client may send in the start request's `file` object (File resource, §2.6). */
const FILE_INPUT_FIELDS = [
  'name',
  'displayName',
  'mimeType',
  'sizeBytes',
  'createTime',
  'updateTime',
  'expirationTime',
  'sha256Hash',
  'uri',
  'downloadUri',
  'state',
  'source',
  'error',
  'videoMetadata',
] as const

const FILE_ID_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/

export function stripFilesPrefix(name: string): string {
  return name.startsWith('files/') ? name.slice('files/'.length) : name
}

function notFound(id: string): GoogleError {
  return new GoogleError('NOT_FOUND', `File files/${id} not found.`)
}

export class FileStore {
  readonly files = new Map<string, StoredFile>()
  private readonly sessions = new Map<string, UploadSession>()
  private seq = 0

  constructor(
    private readonly dir: string,
    private readonly baseUrl: () => string,
  ) {}

  nextSeq(): number {
    return ++this.seq
  }

  get(nameOrId: string): StoredFile | undefined {
    return this.files.get(stripFilesPrefix(nameOrId))
  }

  /** File resource JSON (spec §2.6): camelCase, int64 as strings, defaults omitted. */
  resource(f: StoredFile): JsonObject {
    return {
      name: f.name,
      ...(f.displayName ? { displayName: f.displayName } : {}),
      mimeType: f.mimeType,
      ...int64Fields({ sizeBytes: f.sizeBytes }),
      createTime: f.createTime,
      updateTime: f.updateTime,
      expirationTime: f.expirationTime,
      sha256Hash: f.sha256Hash,
      // `uri` is the reference used as fileData.fileUri in prompts; it points at this fake.
      uri: `${this.baseUrl()}/v1beta/files/${f.id}`,
      ...(f.source === 'GENERATED' ? { downloadUri: `${this.baseUrl()}/download/v1beta/files/${f.id}:download?alt=media` } : {}),
      state: 'ACTIVE',
      source: f.source,
    }
  }

  private newFileId(): string {
    let id = randomId(12)
    while (this.files.has(id)) id = randomId(12)
    return id
  }

  private register(
    id: string,
    fields: { displayName?: string; mimeType: string; sizeBytes: number; sha256: Buffer; source: StoredFile['source']; path: string },
  ): StoredFile {
    const now = new Date()
    const stamp = rfc3339(now)
    const f: StoredFile = {
      name: `files/${id}`,
      id,
      ...(fields.displayName ? { displayName: fields.displayName } : {}),
      mimeType: fields.mimeType,
      sizeBytes: fields.sizeBytes,
      createTime: stamp,
      updateTime: stamp,
      expirationTime: rfc3339(new Date(now.getTime() + FILE_TTL_MS)),
      sha256Hash: fields.sha256.toString('base64'),
      source: fields.source,
      path: fields.path,
      seq: this.nextSeq(),
    }
    this.files.set(id, f)
    return f
  }

  /** Directory for bytes the fake writes itself (generated result files). */
  pathFor(name: string): string {
    return join(this.dir, name)
  }

  /** Registers a service-generated file already written at `path` (batch responsesFile, §2.5). */
  registerGenerated(id: string, displayName: string, mimeType: string, path: string, sizeBytes: number, sha256: Buffer): StoredFile {
    return this.register(id, { displayName, mimeType, sizeBytes, sha256, source: 'GENERATED', path })
  }

  async readBytes(nameOrId: string): Promise<Uint8Array> {
    const f = this.get(nameOrId)
    if (!f) throw new Error(`no such file: ${nameOrId}`)
    return new Uint8Array(await Bun.file(f.path).arrayBuffer())
  }

  // ---- §2.1 resumable upload -------------------------------------------------------------

  /** Routes POST /upload/v1beta/files: a start request, or a chunk on an existing session. */
  async handleUpload(req: Request, url: URL): Promise<Response> {
    const uploadId = url.searchParams.get('upload_id')
    if (uploadId !== null) return this.handleChunk(req, uploadId)
    const protocol = (req.headers.get('x-goog-upload-protocol') ?? '').toLowerCase()
    const command = (req.headers.get('x-goog-upload-command') ?? '').toLowerCase()
    if (protocol !== 'resumable' || command !== 'start') {
      throw new GoogleError(
        'INVALID_ARGUMENT',
        'Only the resumable upload protocol is supported: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.',
      )
    }
    return this.startSession(req)
  }

  private async startSession(req: Request): Promise<Response> {
    const body = await readJsonBody(req, true)
    const top = normaliseKeys(body, ['file'], '')
    const fileIn = top.file ?? {}
    if (!isObject(fileIn)) throw new GoogleError('INVALID_ARGUMENT', `Invalid value at 'file' (type.googleapis.com/google.ai.generativelanguage.v1beta.File), ${JSON.stringify(fileIn)}`)
    const file = normaliseKeys(fileIn, FILE_INPUT_FIELDS, 'file')

    let fileId: string
    if (typeof file.name === 'string' && file.name !== '') {
      fileId = stripFilesPrefix(file.name)
      if (!FILE_ID_RE.test(fileId)) {
        throw new GoogleError(
          'INVALID_ARGUMENT',
          `Invalid file name "${file.name}": the id must be at most 40 characters of lowercase letters, digits and dashes, and may not start or end with a dash.`,
        )
      }
      if (this.files.has(fileId) || [...this.sessions.values()].some((s) => s.fileId === fileId && !s.file)) {
        throw new GoogleError('ALREADY_EXISTS', `File files/${fileId} already exists.`)
      }
    } else {
      fileId = this.newFileId()
    }
    const displayName = typeof file.displayName === 'string' ? file.displayName : undefined
    if (displayName && displayName.length > 512) {
      throw new GoogleError('INVALID_ARGUMENT', 'display_name must be at most 512 characters.')
    }
    const mimeType =
      (typeof file.mimeType === 'string' && file.mimeType) ||
      req.headers.get('x-goog-upload-header-content-type') ||
      'application/octet-stream'

    // The declared total size is optional; when present it must later match the bytes received.
    const declaredRaw = req.headers.get('x-goog-upload-header-content-length')
    let declaredSize: number | undefined
    if (declaredRaw !== null && declaredRaw.trim() !== '') {
      if (!/^\d+$/.test(declaredRaw.trim())) {
        throw new GoogleError('INVALID_ARGUMENT', `Invalid X-Goog-Upload-Header-Content-Length: ${declaredRaw}`)
      }
      declaredSize = Number(declaredRaw.trim())
      if (declaredSize > MAX_FILE_BYTES) {
        throw new GoogleError('INVALID_ARGUMENT', `File size ${declaredSize} exceeds the maximum of ${MAX_FILE_BYTES} bytes.`)
      }
    }

    const sid = randomId(24)
    const path = join(this.dir, `upload-${sid}`)
    await Bun.write(path, '')
    this.sessions.set(sid, {
      id: sid,
      fileId,
      ...(displayName ? { displayName } : {}),
      mimeType,
      ...(declaredSize !== undefined ? { declaredSize } : {}),
      received: 0,
      hash: createHash('sha256'),
      path,
      busy: false,
    })
    // Absolute session URL on the fake (the SDK rewrites scheme/host/port to its baseUrl anyway).
    return new Response(null, {
      status: 200,
      headers: {
        'X-Goog-Upload-URL': `${this.baseUrl()}/upload/v1beta/files?upload_id=${sid}&upload_protocol=resumable`,
        'X-Goog-Upload-Status': 'active',
        'X-Goog-Upload-Chunk-Granularity': String(CHUNK_GRANULARITY),
        'X-Goog-Upload-Control-URL': `${this.baseUrl()}/upload/v1beta/files?upload_id=${sid}&upload_protocol=resumable`,
      },
    })
  }

  private async handleChunk(req: Request, sid: string): Promise<Response> {
    const s = this.sessions.get(sid)
    if (!s) throw new GoogleError('NOT_FOUND', `Upload session ${sid} not found.`)
    const commands = (req.headers.get('x-goog-upload-command') ?? '')
      .toLowerCase()
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
    const statusHeaders = (status: string): Record<string, string> => ({
      'X-Goog-Upload-Status': status,
      'X-Goog-Upload-Size-Received': String(s.received),
    })

    if (commands.length === 1 && commands[0] === 'query') {
      if (s.file) return json({ file: this.resource(s.file) }, 200, statusHeaders('final'))
      return new Response(null, { status: 200, headers: statusHeaders('active') })
    }
    if (commands.length === 1 && commands[0] === 'cancel') {
      this.sessions.delete(sid)
      await rm(s.path, { force: true })
      return new Response(null, { status: 200, headers: { 'X-Goog-Upload-Status': 'cancelled' } })
    }
    const upload = commands.includes('upload')
    const finalize = commands.includes('finalize')
    if ((!upload && !finalize) || commands.some((c) => c !== 'upload' && c !== 'finalize')) {
      throw new GoogleError('INVALID_ARGUMENT', `Unsupported X-Goog-Upload-Command: ${req.headers.get('x-goog-upload-command') ?? ''}`)
    }
    if (s.file) throw new GoogleError('FAILED_PRECONDITION', `Upload session ${sid} is already finalized.`)
    if (s.busy) throw new GoogleError('FAILED_PRECONDITION', `Another chunk of upload session ${sid} is still being received.`)

    if (upload) {
      const offsetRaw = req.headers.get('x-goog-upload-offset')
      if (offsetRaw === null || !/^\d+$/.test(offsetRaw.trim())) {
        throw new GoogleError('INVALID_ARGUMENT', 'X-Goog-Upload-Offset is required for the upload command.')
      }
      const offset = Number(offsetRaw.trim())
      if (offset !== s.received) {
        throw new GoogleError(
          'INVALID_ARGUMENT',
          `Invalid X-Goog-Upload-Offset ${offset}: the server has received ${s.received} bytes of this upload.`,
        )
      }
      const declaredChunk = Number(req.headers.get('content-length') ?? 'NaN')
      if (s.declaredSize !== undefined && Number.isFinite(declaredChunk) && offset + declaredChunk > s.declaredSize) {
        throw new GoogleError(
          'INVALID_ARGUMENT',
          `Chunk ends at byte ${offset + declaredChunk}, beyond the declared upload size ${s.declaredSize}.`,
        )
      }
      s.busy = true
      try {
        await this.appendBody(req, s)
      } finally {
        s.busy = false
      }
    } else {
      // A bare "finalize" must not carry bytes.
      const len = Number(req.headers.get('content-length') ?? '0')
      if (len > 0) throw new GoogleError('INVALID_ARGUMENT', 'The finalize command must not carry data; use "upload, finalize".')
    }

    if (!finalize) return new Response(null, { status: 200, headers: statusHeaders('active') })

    if (s.declaredSize !== undefined && s.declaredSize !== s.received) {
      throw new GoogleError(
        'INVALID_ARGUMENT',
        `The upload was finalized with ${s.received} bytes but X-Goog-Upload-Header-Content-Length declared ${s.declaredSize}.`,
      )
    }
    const size = (await stat(s.path)).size
    const f = this.register(s.fileId, {
      ...(s.displayName ? { displayName: s.displayName } : {}),
      mimeType: s.mimeType,
      sizeBytes: size,
      sha256: s.hash.digest(),
      source: 'UPLOADED',
      path: s.path,
    })
    s.file = f
    return json({ file: this.resource(f) }, 200, statusHeaders('final'))
  }

  /** Streams the chunk body onto the session's file; bytes that arrived stay counted on error. */
  private async appendBody(req: Request, s: UploadSession): Promise<void> {
    if (!req.body) return
    const fh = await open(s.path, 'a')
    try {
      for await (const chunk of req.body) {
        const bytes = chunk as Uint8Array
        if (s.received + bytes.length > MAX_FILE_BYTES) {
          throw new GoogleError('INVALID_ARGUMENT', `File exceeds the maximum size of ${MAX_FILE_BYTES} bytes.`)
        }
        await fh.write(bytes)
        s.hash.update(bytes)
        s.received += bytes.length
      }
    } finally {
      await fh.close()
    }
  }

  // ---- §2.2–2.5 ----------------------------------------------------------------------------

  list(url: URL): Response {
    const { page, next } = paginate([...this.files.values()], url, 10, 100)
    // proto3 JSON omits empty repeated fields: an empty list is `{}`.
    return json({
      ...(page.length ? { files: page.map((f) => this.resource(f)) } : {}),
      ...(next ? { nextPageToken: next } : {}),
    })
  }

  getResponse(id: string): Response {
    const f = this.files.get(id)
    if (!f) throw notFound(id)
    return json(this.resource(f))
  }

  async delete(id: string): Promise<Response> {
    const f = this.files.get(id)
    if (!f) throw notFound(id)
    this.files.delete(id)
    for (const [sid, s] of this.sessions) if (s.file === f) this.sessions.delete(sid)
    await rm(f.path, { force: true })
    return json({})
  }

  /** §2.5: only GENERATED files have downloadable bytes. */
  download(id: string, url: URL): Response {
    const f = this.files.get(id)
    if (!f) throw notFound(id)
    if (url.searchParams.get('alt') !== 'media') return json(this.resource(f))
    if (f.source !== 'GENERATED') {
      throw new GoogleError(
        'INVALID_ARGUMENT',
        `Only files with source GENERATED can be downloaded; ${f.name} was uploaded and cannot be downloaded.`,
      )
    }
    return new Response(Bun.file(f.path), {
      status: 200,
      headers: { 'content-type': f.mimeType, 'content-length': String(f.sizeBytes) },
    })
  }
}
