// On-disk object store behind the S3 fake: buckets hold objects whose bytes live in files
// under a temp directory (uploads stream straight to disk), multipart uploads keep one file
// per part; a completed multipart object is made of its parts' files, joined into one file the
// first time its bytes are read (spec bedrock.md §4).

import { createHash } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { readFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesCrc32 } from './body'
import { noSuchBucket, noSuchKey, noSuchUpload, S3Error } from './errors'

export interface StoredObject {
  key: string
  /** File holding the bytes (a multipart object's parts are joined into it when first asked). */
  readonly path: string
  /** Files to delete with the object: `path`, or the parts of a multipart object not read yet. */
  readonly files?: readonly string[]
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
    if (old) for (const file of filesOf(old)) if (!filesOf(obj).includes(file)) void unlink(file).catch(() => {})
  }

  delete(bucket: string, key: string): void {
    const b = this.bucket(bucket)
    const old = b.objects.get(key)
    if (!old) return
    b.objects.delete(key)
    for (const file of filesOf(old)) void unlink(file).catch(() => {})
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
    const md5s = createHash('md5')
    for (const part of chosen) md5s.update(Buffer.from(stripQuotes(part.etag), 'hex'))
    // Like S3, completing does not rewrite the bytes: the object is its parts until read. (A copy
    // here cost ~1 s of kernel time per 256 MiB on the bench machine, on the same cores as the
    // gateway being measured; real S3 spends none of ours.)
    const obj = joinedOnRead(
      {
        key: upload.key,
        size: chosen.reduce((n, p) => n + p.size, 0),
        etag: `"${md5s.digest('hex')}-${chosen.length}"`,
        lastModified: new Date(),
        contentType: upload.contentType,
        metadata: upload.metadata,
      },
      chosen.map((p) => p.path),
      this.tempPath(),
    )
    this.commit(upload.bucket, obj)
    this.uploads.delete(upload.uploadId)
    // Parts uploaded but not listed are not part of the object.
    for (const part of upload.parts.values()) if (!chosen.includes(part)) void unlink(part.path).catch(() => {})
    return obj
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

const filesOf = (o: StoredObject): readonly string[] => o.files ?? [o.path]

/**
 * A multipart object whose `path` joins its parts into one file on first access (synchronously,
 * 4 MiB at a time, so readers see the whole object at once), after which the parts are gone.
 */
function joinedOnRead(fields: Omit<StoredObject, 'path' | 'files'>, parts: string[], path: string): StoredObject {
  let joined = false
  return {
    ...fields,
    get path(): string {
      if (!joined) {
        joinFiles(parts, path)
        joined = true
        for (const part of parts) unlinkSync(part)
      }
      return path
    },
    get files(): readonly string[] {
      return joined ? [path] : parts
    },
  }
}

function joinFiles(parts: string[], out: string): void {
  const fd = openSync(out, 'w')
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024)
  try {
    for (const part of parts) {
      const input = openSync(part, 'r')
      try {
        for (let n = readSync(input, buffer); n > 0; n = readSync(input, buffer)) writeSync(fd, buffer, 0, n)
      } finally {
        closeSync(input)
      }
    }
  } finally {
    closeSync(fd)
  }
}

export function stripQuotes(etag: string): string {
  return etag.replace(/^"+|"+$/g, '')
}

/** UTF-8 byte order, which is what S3 sorts keys by. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
