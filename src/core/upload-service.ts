// The OpenAI Uploads API for every provider (issue 12): create an Upload, add parts (≤ 64 MB
// each), complete with the parts' order (and an optional md5), or cancel. The record and the
// part list live in the store and the parts' bytes in the blob store (issue 14), so each call
// of one upload may reach a different instance. On complete the parts are read back, in
// `part_ids` order, as one stream into one spooled file — the md5 is taken in the same pass —
// which then goes through the ordinary upload path (validation, conversion, the provider), so
// an Upload becomes a normal gateway file.
// An Upload lives one hour. Expired and cancelled uploads keep no bytes: parts go when the
// upload is cancelled, completed or found expired (on any access and at start-up), and the
// small record goes once it is past its expiry.

import type { Config } from '../config'
import { GatewayError, invalid, notFound } from '../errors'
import type { Store } from '../store/store'
import type { UploadRecord } from '../store/upload-parts'
import type { FilePurpose, StoredFile } from './file'
import type { FileService } from './file-service'
import type { ProviderName } from './provider-name'

/** Purposes POST /uploads takes (a narrower set than POST /files). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision'] as const
export const MAX_PART_BYTES = 64 * 1024 * 1024
export const UPLOAD_TTL_SECONDS = 3600
const WRITE_BYTES = 1024 * 1024

export interface UploadCreate {
  tenant: string
  provider: ProviderName
  filename: string
  purpose: string
  bytes: number
  mimeType: string
  fileExpiresAfter: number | null
}

const now = (): number => Math.floor(Date.now() / 1000)

let lastId = ''
/** upload_… / part_… ids: time-ordered and unguessable, like the gateway's other ids. */
function mint(prefix: 'upload_' | 'part_'): string {
  let id: string
  do id = `${prefix}${Date.now().toString(36)}${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`
  while (id === lastId)
  lastId = id
  return id
}

export class UploadService {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly files: FileService,
  ) {}

  async create(req: UploadCreate): Promise<UploadRecord> {
    await this.sweep()
    if (!(UPLOAD_PURPOSES as readonly string[]).includes(req.purpose)) {
      throw invalid(`'${req.purpose.slice(0, 64)}' is not a valid purpose for an Upload. Expected one of: ${UPLOAD_PURPOSES.join(', ')}.`, {
        param: 'purpose',
      })
    }
    if (!Number.isSafeInteger(req.bytes) || req.bytes < 1) {
      throw invalid("Invalid 'bytes': expected a positive integer.", { param: 'bytes' })
    }
    const limit = this.files.maxUploadBytes(req.provider, 'uploads')
    if (req.bytes > limit) {
      throw new GatewayError('too_large', `${req.provider} accepts files up to ${limit} bytes; this Upload declares ${req.bytes}.`, {
        param: 'bytes',
        code: 'limit_exceeded',
      })
    }
    const createdAt = now()
    const record: UploadRecord = {
      id: mint('upload_'),
      tenant: req.tenant,
      provider: req.provider,
      filename: req.filename,
      purpose: req.purpose,
      bytes: req.bytes,
      mimeType: req.mimeType,
      createdAt,
      expiresAt: createdAt + UPLOAD_TTL_SECONDS,
      status: 'pending',
      fileExpiresAfter: req.fileExpiresAfter,
      parts: [],
      fileId: null,
    }
    await this.store.uploads.create(record)
    return record
  }

  /** Keeps a spooled part (the dialect parsed the multipart `data` field into `spool.path`). */
  async addPart(tenant: string, id: string, spool: { path: string; bytes: number }): Promise<{ id: string; createdAt: number; uploadId: string }> {
    const record = await this.pending(tenant, id)
    if (spool.bytes === 0) throw invalid('The part is empty.', { param: 'data' })
    const held = record.parts.reduce((n, p) => n + p.bytes, 0)
    // One part's worth of slack: a part re-sent after a lost answer must still fit.
    if (held + spool.bytes > record.bytes + MAX_PART_BYTES) {
      throw invalid(`The parts would hold ${held + spool.bytes} bytes; this Upload declared ${record.bytes}.`, { param: 'data' })
    }
    const part = { id: mint('part_'), bytes: spool.bytes, createdAt: now() }
    // The row first: a blob sweep on any instance then sees the part's bytes as owned.
    await this.store.uploads.addPart(record.id, part)
    try {
      await this.store.blobs.put(spool.path, part.id, 'part')
    } catch (err) {
      await this.store.uploads.forgetPart(part.id)
      throw err
    }
    return { id: part.id, createdAt: part.createdAt, uploadId: record.id }
  }

  async complete(tenant: string, id: string, partIds: string[], md5: string | undefined): Promise<{ upload: UploadRecord; file: StoredFile }> {
    const record = await this.pending(tenant, id)
    if (partIds.length === 0) throw invalid("Missing required parameter: 'part_ids'.", { param: 'part_ids' })
    if (new Set(partIds).size !== partIds.length) throw invalid('part_ids names a part more than once.', { param: 'part_ids' })
    const byId = new Map(record.parts.map((p) => [p.id, p]))
    const chosen = partIds.map((partId) => {
      const part = byId.get(partId)
      if (!part) throw invalid(`Invalid part id '${partId.slice(0, 80)}' for upload ${record.id}.`, { param: 'part_ids' })
      return part
    })
    const total = chosen.reduce((n, p) => n + p.bytes, 0)
    if (total !== record.bytes) {
      throw invalid(`The number of bytes uploaded (${total}) does not match the expected number of bytes (${record.bytes}).`, {
        param: 'part_ids',
      })
    }
    const joined = this.store.blobs.spoolPath('upload')
    try {
      const digest = await this.joinParts(chosen.map((p) => p.id), joined)
      // Hex, as the API documents; base64 (Content-MD5 style) is accepted too.
      if (md5 !== undefined && md5 !== '' && md5.toLowerCase() !== digest && md5 !== Buffer.from(digest, 'hex').toString('base64')) {
        throw invalid(`The md5 of the uploaded bytes (${digest}) does not match the md5 given (${md5.slice(0, 64)}).`, { param: 'md5' })
      }
      const file = await this.files.upload({
        tenant,
        dialect: 'openai',
        provider: record.provider as ProviderName,
        raw: { path: joined, bytes: total, filename: record.filename, mimeType: record.mimeType },
        purpose: record.purpose as FilePurpose,
        storage: this.files.defaultStorage(record.provider as ProviderName),
        expiresAfterSeconds: record.fileExpiresAfter,
        via: 'uploads',
      })
      await this.store.uploads.settle(record.id, 'completed', file.id)
      await dropParts(this.store, record.id)
      return { upload: { ...record, status: 'completed', fileId: file.id, parts: [] }, file }
    } finally {
      this.store.blobs.remove(joined)
    }
  }

  async cancel(tenant: string, id: string): Promise<UploadRecord> {
    const record = await this.pending(tenant, id)
    await this.store.uploads.settle(record.id, 'cancelled')
    await dropParts(this.store, record.id)
    return { ...record, status: 'cancelled', parts: [] }
  }

  /** See sweepUploads; runs on each create. */
  sweep(at = now()): Promise<void> {
    return sweepUploads(this.store, at)
  }

  /** The tenant's upload, still open: expired, cancelled and completed ones refuse changes. */
  private async pending(tenant: string, id: string): Promise<UploadRecord> {
    const record = await this.store.uploads.get(id)
    if (!record || record.tenant !== tenant) throw notFound('upload', id)
    const current = await expireIfDue(this.store, record, now())
    if (!current || current.status !== 'pending') {
      throw invalid(`Upload ${id} is ${current?.status ?? 'expired'}; no further changes are allowed.`, { param: 'upload_id' })
    }
    return current
  }

  /** Streams the parts' blobs, in order, into `out` in one pass; resolves to the md5 (hex) written. */
  private async joinParts(partIds: string[], out: string): Promise<string> {
    const hasher = new Bun.CryptoHasher('md5')
    await Bun.write(out, '')
    const sink = Bun.file(out).writer({ highWaterMark: WRITE_BYTES })
    try {
      for (const partId of partIds) {
        const stream = await this.store.blobs.open(partId, 'part')
        if (!stream) throw new GatewayError('internal', `The bytes of part ${partId} are missing from the blob store.`)
        for await (const chunk of stream) {
          hasher.update(chunk)
          sink.write(chunk)
          await sink.flush()
        }
      }
    } finally {
      await sink.end()
    }
    return hasher.digest('hex')
  }
}

/** Forgets an upload's parts, then deletes their bytes (a crash between leaves blobs the start-up sweep removes). */
async function dropParts(store: Store, uploadId: string): Promise<void> {
  for (const partId of await store.uploads.forgetParts(uploadId)) await store.blobs.delete(partId, 'part')
}

/** The record after expiry rules, or null once it is gone. */
async function expireIfDue<R extends Pick<UploadRecord, 'id' | 'status' | 'expiresAt'>>(store: Store, record: R, at: number): Promise<R | null> {
  if (at >= record.expiresAt + UPLOAD_TTL_SECONDS) {
    await dropParts(store, record.id)
    await store.uploads.remove(record.id)
    return null
  }
  if (at >= record.expiresAt && record.status === 'pending') {
    await store.uploads.settle(record.id, 'expired')
    await dropParts(store, record.id)
    return { ...record, status: 'expired' }
  }
  return record
}

/**
 * Drops the bytes of every upload past its expiry (marking a pending one expired) and the
 * records of those that expired a TTL ago. Runs at start-up (core/reconcile.ts) and on each
 * create; on a shared store any instance may do it — every step is idempotent.
 */
export async function sweepUploads(store: Store, at = now()): Promise<void> {
  for (const due of await store.uploads.due(at)) {
    await expireIfDue(store, due, at)
  }
}
