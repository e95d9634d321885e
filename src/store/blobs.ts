// The gateway's own bytes on disk: `spool/` holds uploads in flight (raw and converted), `blobs/`
// holds batch input files for providers that have no input files of their own (Anthropic).
// A file in spool/ never outlives its request; start-up empties spool/ (issue 7 §7).

import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

export class BlobStore {
  readonly spoolDir: string
  readonly blobDir: string

  constructor(dataDir: string) {
    this.spoolDir = join(dataDir, 'spool')
    this.blobDir = join(dataDir, 'blobs')
    mkdirSync(this.spoolDir, { recursive: true })
    mkdirSync(this.blobDir, { recursive: true })
  }

  /** A fresh spool path; `tag` only makes the name readable. */
  spoolPath(tag: string): string {
    return join(this.spoolDir, `${Date.now()}-${crypto.randomUUID()}-${tag}`)
  }

  /** Moves a finished spool file into the blob store under the file's gateway id. */
  promote(spoolPath: string, fileId: string, as: 'content' | 'ids' = 'content'): string {
    const target = as === 'content' ? this.blobPath(fileId) : this.idsPath(fileId)
    renameSync(spoolPath, target)
    return target
  }

  /**
   * The custom_ids of a batch input file whose provider may end a batch without a result line
   * for every request (Gemini, Bedrock on cancel or expiry), one JSON string per line.
   */
  idsPath(fileId: string): string {
    return join(this.blobDir, `${fileId}.ids`)
  }

  blobPath(fileId: string): string {
    // Gateway ids are [a-z0-9_-] only (core/ids.ts), so they are safe as file names.
    return join(this.blobDir, `${fileId}.jsonl`)
  }

  remove(path: string): void {
    rmSync(path, { force: true })
  }

  /** Removes every spool file: anything there belongs to a request that died with the process. */
  clearSpool(): number {
    const names = readdirSync(this.spoolDir)
    for (const name of names) rmSync(join(this.spoolDir, name), { force: true })
    return names.length
  }

  listBlobs(): string[] {
    return readdirSync(this.blobDir)
  }

  size(path: string): number {
    return statSync(path).size
  }
}
