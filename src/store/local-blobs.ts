// Spool and blobs on local disk under the data dir: `spool/` and `blobs/`. The default (single
// instance); a multi-instance deployment puts blobs in a bucket instead (s3-blobs.ts).

import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type BlobKind, type BlobRef, type BlobStore, blobName, parseBlobName } from './blobs'

export class LocalSpool {
  readonly spoolDir: string

  constructor(dataDir: string) {
    this.spoolDir = join(dataDir, 'spool')
    mkdirSync(this.spoolDir, { recursive: true })
  }

  spoolPath(tag: string): string {
    return join(this.spoolDir, `${Date.now()}-${crypto.randomUUID()}-${tag}`)
  }

  remove(path: string): void {
    rmSync(path, { force: true })
  }

  clearSpool(): number {
    const names = readdirSync(this.spoolDir)
    for (const name of names) rmSync(join(this.spoolDir, name), { force: true })
    return names.length
  }
}

export class LocalBlobStore extends LocalSpool implements BlobStore {
  readonly blobDir: string

  constructor(dataDir: string) {
    super(dataDir)
    this.blobDir = join(dataDir, 'blobs')
    mkdirSync(this.blobDir, { recursive: true })
  }

  path(fileId: string, kind: BlobKind): string {
    return join(this.blobDir, blobName(fileId, kind))
  }

  async put(spoolPath: string, fileId: string, kind: BlobKind): Promise<string> {
    const target = this.path(fileId, kind)
    renameSync(spoolPath, target)
    return target
  }

  async open(fileId: string, kind: BlobKind): Promise<ReadableStream<Uint8Array> | null> {
    const file = Bun.file(this.path(fileId, kind))
    return (await file.exists()) ? file.stream() : null
  }

  async has(fileId: string, kind: BlobKind): Promise<boolean> {
    return Bun.file(this.path(fileId, kind)).exists()
  }

  async delete(fileId: string, kind: BlobKind): Promise<void> {
    rmSync(this.path(fileId, kind), { force: true })
  }

  async list(): Promise<BlobRef[]> {
    return readdirSync(this.blobDir).flatMap((name) => parseBlobName(name) ?? [])
  }
}
