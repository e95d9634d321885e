// On-disk object store behind the S3 fake: buckets hold objects whose bytes live in files
// under a temp directory (uploads stream straight to disk), multipart uploads keep one file
// per part until CompleteMultipartUpload concatenates them (spec bedrock.md §4).

import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, readFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesCrc32 } from './body'
import { noSuchBucket, noSuchKey, noSuchUpload, S3Error } from './errors'

export interface StoredObject {
  key: string
  /** File holding the bytes. */
  path: string
  size: number
  /** Quoted, as sent in the ETag header: `"<md5>"` or `"<md5-of-md5s>-N"` for multipart. */
  etag: string
  lastModified: Date
  contentType: string
  /** x-amz-meta-* headers (lower-cased names without the prefix). */
  metadata: Record<string, string>
  /** Full-object CRC32 (base64); absent for multipart objects (theirs is composite). */
  crc32?: string
}

export interface UploadedPart {
  partNumber: number
  path: string
  size: number
  etag: string
  lastModified: Date
}

export interface MultipartUpload {
  uploadId: string
  bucket: string
  key: string
  initiated: Date
  contentType: string
  metadata: Record<string, string>
  parts: Map<number, UploadedPart>
}

export interface Bucket {
  name: string
  created: Date
  objects: Map<string, StoredObject>
}

/** S3's multipart floor: every part but the last must be at least 5 MiB (§4 limits). */
export const MIN_PART_SIZE = 5 * 1024 * 1024

export class S3Store {
  readonly dir: string
  readonly buckets = new Map<string, Bucket>()
  readonly uploads = new Map<string, MultipartUpload>()
  private counter = 0

  constructor(bucketNames: string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'batchgate-s3-fake-'))
    for (const name of bucketNames) this.createBucket(name)
  }

  createBucket(name: string): Bucket {
    const existing = this.buckets.get(name)
    if (existing) return existing
    const bucket: Bucket = { name, created: new Date(), objects: new Map() }
    this.buckets.set(name, bucket)
    return bucket
  }

  bucket(name: string): Bucket {
    const b = this.buckets.get(name)
    if (!b) throw noSuchBucket(name)
    return b
  }

  object(bucket: string, key: string): StoredObject {
    const o = this.bucket(bucket).objects.get(key)
    if (!o) throw noSuchKey(key)
    return o
  }

  /** A fresh file path for incoming bytes. */
  tempPath(): string {
    this.counter += 1
    return join(this.dir, `blob-${this.counter}`)
  }

  /** Makes `obj` the current version of its key, deleting the replaced file. */
  commit(bucket: string, obj: StoredObject): void {
    const b = this.bucket(bucket)
    const old = b.objects.get(obj.key)
    b.objects.set(obj.key, obj)
    if (old && old.path !== obj.path) void unlink(old.path).catch(() => {})
  }

  delete(bucket: string, key: string): void {
    const b = this.bucket(bucket)
    const old = b.objects.get(key)
    if (!old) return
    b.objects.delete(key)
    void unlink(old.path).catch(() => {})
  }

  /** Sorted keys (S3 lists in UTF-8 binary order) with the given prefix. */
  keys(bucket: string, prefix = ''): string[] {
    return [...this.bucket(bucket).objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys)
  }

  /** Test/in-process helper: stores `body` as an object. */
  async put(bucket: string, key: string, body: string | Uint8Array, contentType = 'binary/octet-stream'): Promise<StoredObject> {
    this.bucket(bucket)
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
    const path = this.tempPath()
    await Bun.write(path, bytes)
    const obj: StoredObject = {
      key,
      path,
      size: bytes.length,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      lastModified: new Date(),
      contentType,
      metadata: {},
      crc32: bytesCrc32(bytes),
    }
    this.commit(bucket, obj)
    return obj
  }

  async readText(bucket: string, key: string): Promise<string> {
    return await readFile(this.object(bucket, key).path, 'utf8')
  }

  createUpload(bucket: string, key: string, contentType: string, metadata: Record<string, string>): MultipartUpload {
    this.bucket(bucket)
    const uploadId = `${crypto.randomUUID().replace(/-/g, '')}${Date.now().toString(36)}`
    const upload: MultipartUpload = { uploadId, bucket, key, initiated: new Date(), contentType, metadata, parts: new Map() }
    this.uploads.set(uploadId, upload)
    return upload
  }

  upload(bucket: string, key: string, uploadId: string): MultipartUpload {
    this.bucket(bucket)
    const u = this.uploads.get(uploadId)
    if (!u || u.bucket !== bucket || u.key !== key) throw noSuchUpload(uploadId)
    return u
  }

  abortUpload(upload: MultipartUpload): void {
    this.uploads.delete(upload.uploadId)
    for (const part of upload.parts.values()) void unlink(part.path).catch(() => {})
  }

  /**
   * CompleteMultipartUpload: the listed parts must exist with matching ETags, ascend, and all
   * but the last be ≥ 5 MiB (checked here, at completion, as S3 does). The object's ETag is
   * the md5 of the concatenated binary part md5s plus `-<count>`.
   */
  async completeUpload(upload: MultipartUpload, listed: { partNumber: number; etag: string }[]): Promise<StoredObject> {
    if (listed.length === 0) {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
    }
    const chosen: UploadedPart[] = []
    let last = 0
    for (const { partNumber, etag } of listed) {
      if (partNumber <= last) {
        throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.')
      }
      last = partNumber
      const part = upload.parts.get(partNumber)
      if (!part || stripQuotes(part.etag) !== stripQuotes(etag)) {
        throw new S3Error(
          400,
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: upload.uploadId, PartNumber: String(partNumber), ETag: etag },
        )
      }
      chosen.push(part)
    }
    chosen.forEach((part, i) => {
      if (i < chosen.length - 1 && part.size < MIN_PART_SIZE) {
        throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          ProposedSize: String(part.size),
          MinSizeAllowed: String(MIN_PART_SIZE),
          PartNumber: String(part.partNumber),
          ETag: part.etag,
        })
      }
    })
    const path = this.tempPath()
    const md5s = createHash('md5')
    let size = 0
    const out = await open(path, 'w')
    try {
      for (const part of chosen) {
        md5s.update(Buffer.from(stripQuotes(part.etag), 'hex'))
        // Stream each part across in slices so large objects are never held whole.
        const file = Bun.file(part.path)
        for await (const chunk of file.stream()) {
          await out.write(chunk)
          size += chunk.length
        }
      }
    } finally {
      await out.close()
    }
    const obj: StoredObject = {
      key: upload.key,
      path,
      size,
      etag: `"${md5s.digest('hex')}-${chosen.length}"`,
      lastModified: new Date(),
      contentType: upload.contentType,
      metadata: upload.metadata,
    }
    this.commit(upload.bucket, obj)
    this.abortUpload(upload)
    return obj
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export function stripQuotes(etag: string): string {
  return etag.replace(/^"+|"+$/g, '')
}

/** UTF-8 byte order, which is what S3 sorts keys by. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
