// The OpenAI Uploads API for every provider (issue 12): create an Upload, add parts (≤ 64 MB
// each, kept on this instance's disk), complete with the parts' order (and an optional md5), or
// cancel. On complete the parts are joined, in `part_ids` order, into one spooled file — the md5
// is taken in the same pass — which then goes through the ordinary upload path (validation,
// conversion, the provider), so an Upload becomes a normal gateway file.
// An Upload lives one hour. Expired and cancelled uploads keep no bytes: parts go when the
// upload is cancelled, completed or found expired (on any access and at start-up), and the
// small record goes once it is past its expiry.

import { open } from 'node:fs/promises'
import type { Config } from '../config'
import { GatewayError, invalid, notFound } from '../errors'
import type { Store } from '../store/store'
import type { UploadPartStore, UploadRecord } from '../store/upload-parts'
import type { FilePurpose, StoredFile } from './file'
import type { FileService } from './file-service'
import type { ProviderName } from './provider-name'

/** Purposes POST /uploads takes (a narrower set than POST /files). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision'] as const
export const MAX_PART_BYTES = 64 * 1024 * 1024
export const UPLOAD_TTL_SECONDS = 3600
const READ_BYTES = 1024 * 1024

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
    readonly parts: UploadPartStore,
    private readonly files: FileService,
  ) {}

  create(req: UploadCreate): UploadRecord {
    this.sweep()
    if (!(UPLOAD_PURPOSES as readonly string[]).includes(req.purpose)) {
      throw invalid(`'${req.purpose.slice(0, 64)}' is not a valid purpose for an Upload. Expected one of: ${UPLOAD_PURPOSES.join(', ')}.`, {
        param: 'purpose',
      })
    }
    if (!Number.isSafeInteger(req.bytes) || req.bytes < 1) {
      throw invalid("Invalid 'bytes': expected a positive integer.", { param: 'bytes' })
    }
    const limit = this.files.maxUploadBytes(req.provider)
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
    this.parts.create(record)
    return record
  }

  /** Keeps a spooled part (the dialect parsed the multipart `data` field into `spoolPath`). */
  addPart(tenant: string, id: string, spool: { path: string; bytes: number }): { id: string; createdAt: number; uploadId: string } {
    const record = this.pending(tenant, id)
    if (spool.bytes === 0) throw invalid('The part is empty.', { param: 'data' })
    const held = record.parts.reduce((n, p) => n + p.bytes, 0)
    // One part's worth of slack: a part re-sent after a lost answer must still fit.
    if (held + spool.bytes > record.bytes + MAX_PART_BYTES) {
      throw invalid(`The parts would hold ${held + spool.bytes} bytes; this Upload declared ${record.bytes}.`, { param: 'data' })
    }
    const part = { id: mint('part_'), bytes: spool.bytes, createdAt: now() }
    this.parts.keepPart(record.id, part.id, spool.path)
    // No await since pending() read the record: parallel parts cannot lose each other's entry.
    record.parts.push(part)
    this.parts.save(record)
    return { id: part.id, createdAt: part.createdAt, uploadId: record.id }
  }

  async complete(tenant: string, id: string, partIds: string[], md5: string | undefined): Promise<{ upload: UploadRecord; file: StoredFile }> {
    const record = this.pending(tenant, id)
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
      const digest = await joinParts(chosen.map((p) => this.parts.partPath(record.id, p.id)), joined)
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
      })
      this.parts.dropParts(record)
      const done: UploadRecord = { ...record, status: 'completed', fileId: file.id, parts: [] }
      this.parts.save(done)
      return { upload: done, file }
    } finally {
      this.store.blobs.remove(joined)
    }
  }

  cancel(tenant: string, id: string): UploadRecord {
    const record = this.pending(tenant, id)
    this.parts.dropParts(record)
    const cancelled: UploadRecord = { ...record, status: 'cancelled', parts: [] }
    this.parts.save(cancelled)
    return cancelled
  }

  /**
   * Drops the bytes of every upload past its expiry (marking a pending one expired) and the
   * records of those that expired a TTL ago. Runs at start-up and on each create.
   */
  sweep(at = now()): void {
    for (const id of this.parts.ids()) {
      const record = this.parts.get(id)
      if (!record) this.parts.remove(id)
      else this.expireIfDue(record, at)
    }
  }

  /** The tenant's upload, still open: expired, cancelled and completed ones refuse changes. */
  private pending(tenant: string, id: string): UploadRecord {
    const record = this.parts.get(id)
    if (!record || record.tenant !== tenant) throw notFound('upload', id)
    const current = this.expireIfDue(record, now())
    if (!current || current.status !== 'pending') {
      throw invalid(`Upload ${id} is ${current?.status ?? 'expired'}; no further changes are allowed.`, { param: 'upload_id' })
    }
    return current
  }

  /** The record after expiry rules, or null once it is gone. */
  private expireIfDue(record: UploadRecord, at: number): UploadRecord | null {
    if (at >= record.expiresAt + UPLOAD_TTL_SECONDS) {
      this.parts.remove(record.id)
      return null
    }
    if (at >= record.expiresAt && record.status === 'pending') {
      this.parts.dropParts(record)
      const expired: UploadRecord = { ...record, status: 'expired', parts: [] }
      this.parts.save(expired)
      return expired
    }
    return record
  }
}

/** Concatenates `paths` into `out` in one pass, returning the md5 (hex) of what was written. */
async function joinParts(paths: string[], out: string): Promise<string> {
  const hasher = new Bun.CryptoHasher('md5')
  await Bun.write(out, '')
  const sink = Bun.file(out).writer({ highWaterMark: READ_BYTES })
  const buffer = Buffer.allocUnsafe(READ_BYTES)
  try {
    for (const path of paths) {
      const handle = await open(path, 'r')
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null)
          if (bytesRead === 0) break
          const chunk = buffer.subarray(0, bytesRead)
          hasher.update(chunk)
          sink.write(chunk)
          // Written out before the buffer is reused.
          await sink.flush()
        }
      } finally {
        await handle.close()
      }
    }
  } finally {
    await sink.end()
  }
  return hasher.digest('hex')
}
