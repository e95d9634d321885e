// Uploads API of the OpenAI fake (openai.md §3): the way to send files above the 512 MB
// per-request limit. Parts stream to disk; complete concatenates them (streamed) into one file.

import { createReadStream, createWriteStream, rmSync } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { checkExpiresAfter, checkPurpose, type FilesContext } from './files'
import { MultipartError, readMultipart } from './multipart'
import { toWireFile } from './store'
import { badRequest, isPlainObject, json, newId, notFound, nowSeconds, type OpenAIFileObject } from './wire'

/** Purposes accepted by POST /uploads (a narrower enum than POST /files). */
const UPLOAD_API_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision'] as const
const MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024
const MAX_PART_BYTES = 64 * 1024 * 1024
const UPLOAD_TTL_SECONDS = 3600

export interface UploadObject {
  id: string
  object: 'upload'
  bytes: number
  created_at: number
  expires_at: number
  filename: string
  purpose: string
  status: 'pending' | 'completed' | 'cancelled' | 'expired'
  file: OpenAIFileObject | null
}

interface UploadState {
  wire: UploadObject
  parts: Map<string, { path: string; bytes: number }>
  fileExpiresAfter: number | undefined
}

export class UploadsApi {
  readonly uploads = new Map<string, UploadState>()

  constructor(private readonly ctx: FilesContext) {}

  private get(id: string): UploadState | Response {
    return this.uploads.get(id) ?? notFound(`No such Upload object: ${id}`)
  }

  private notPending(state: UploadState): Response | undefined {
    if (state.wire.status === 'pending' && nowSeconds() >= state.wire.expires_at) state.wire.status = 'expired'
    if (state.wire.status !== 'pending') {
      return badRequest(`Upload ${state.wire.id} is ${state.wire.status}; no further changes are allowed.`)
    }
    return undefined
  }

  async create(req: Request): Promise<Response> {
    const body: unknown = await req.json().catch(() => undefined)
    if (!isPlainObject(body)) return badRequest('We could not parse the JSON body of your request.')
    for (const key of ['filename', 'purpose', 'bytes', 'mime_type'] as const) {
      if (body[key] === undefined || body[key] === null) return badRequest(`Missing required parameter: '${key}'.`, key)
    }
    const purposeError = checkPurpose(String(body.purpose), UPLOAD_API_PURPOSES)
    if (purposeError) return purposeError
    const bytes = body.bytes
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0 || bytes > MAX_UPLOAD_BYTES) {
      return badRequest(`Invalid 'bytes': expected an integer between 0 and ${MAX_UPLOAD_BYTES}.`, 'bytes')
    }
    const ea = isPlainObject(body.expires_after) ? body.expires_after : {}
    const expires = body.expires_after === undefined ? undefined : checkExpiresAfter(ea.anchor, ea.seconds, 'expires_after')
    if (expires instanceof Response) return expires
    const created = nowSeconds()
    const wire: UploadObject = {
      id: newId.upload(),
      object: 'upload',
      bytes,
      created_at: created,
      expires_at: created + UPLOAD_TTL_SECONDS,
      filename: String(body.filename),
      purpose: String(body.purpose),
      status: 'pending',
      file: null,
    }
    this.uploads.set(wire.id, { wire, parts: new Map(), fileExpiresAfter: expires })
    return json(wire)
  }

  /** POST /uploads/{id}/parts — multipart with a single binary field `data`, ≤ 64 MB. */
  async addPart(req: Request, id: string): Promise<Response> {
    const state = this.get(id)
    if (state instanceof Response) return state
    const blocked = this.notPending(state)
    if (blocked) return blocked
    let form
    try {
      form = await readMultipart(req, { fileField: 'data', maxBytes: MAX_PART_BYTES, pathFor: () => this.ctx.store.tempPath('part') })
    } catch (err) {
      if (err instanceof MultipartError) return badRequest(err.message)
      throw err
    }
    const part = form.file
    if (!part) return badRequest(`Missing required parameter: 'data'.`, 'data')
    if (part.tooLarge) {
      rmSync(part.path, { force: true })
      return badRequest(`Part is too large: each part may be at most ${MAX_PART_BYTES} bytes.`, 'data')
    }
    const partId = newId.part()
    state.parts.set(partId, { path: part.path, bytes: part.bytes })
    return json({ id: partId, object: 'upload.part', created_at: nowSeconds(), upload_id: id })
  }

  /** POST /uploads/{id}/complete — `part_ids` fix the order; the byte total must equal `bytes`. */
  async complete(req: Request, id: string): Promise<Response> {
    const state = this.get(id)
    if (state instanceof Response) return state
    const blocked = this.notPending(state)
    if (blocked) return blocked
    const body: unknown = await req.json().catch(() => undefined)
    if (!isPlainObject(body)) return badRequest('We could not parse the JSON body of your request.')
    const ids = body.part_ids
    if (!Array.isArray(ids) || ids.length === 0) return badRequest(`Missing required parameter: 'part_ids'.`, 'part_ids')
    const parts: { path: string; bytes: number }[] = []
    for (const partId of ids) {
      const part = typeof partId === 'string' ? state.parts.get(partId) : undefined
      if (!part) return badRequest(`Invalid part id '${String(partId)}' for upload ${id}.`, 'part_ids')
      parts.push(part)
    }
    const total = parts.reduce((sum, p) => sum + p.bytes, 0)
    if (total !== state.wire.bytes) {
      return badRequest(`The number of bytes uploaded (${total}) does not match the expected number of bytes (${state.wire.bytes}).`, 'part_ids')
    }
    const path = this.ctx.store.tempPath('assembled')
    const out = createWriteStream(path)
    for (const part of parts) await pipeline(createReadStream(part.path), out, { end: false })
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    for (const part of state.parts.values()) rmSync(part.path, { force: true })
    state.parts.clear()
    const stored = this.ctx.store.register(path, {
      filename: state.wire.filename,
      purpose: state.wire.purpose,
      bytes: total,
      expiresAfterSeconds: state.fileExpiresAfter,
    })
    state.wire.status = 'completed'
    state.wire.file = toWireFile(stored)
    return json(state.wire)
  }

  cancel(id: string): Response {
    const state = this.get(id)
    if (state instanceof Response) return state
    const blocked = this.notPending(state)
    if (blocked) return blocked
    for (const part of state.parts.values()) rmSync(part.path, { force: true })
    state.parts.clear()
    state.wire.status = 'cancelled'
    return json(state.wire)
  }
}
