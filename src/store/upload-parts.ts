// OpenAI Uploads API state on this instance's disk: `<data>/uploads/<upload id>/` holds the
// upload's record (`upload.json`) and one file per part (`<part id>`). Kept out of the database
// on purpose: an Upload lives at most an hour, its parts are bytes on this disk anyway, and the
// record is read and written only by the requests of that one upload.
// Writes of the record go through a temporary file and a rename, so a crash never leaves half.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type UploadStatus = 'pending' | 'completed' | 'cancelled' | 'expired'

export interface UploadPart {
  id: string
  bytes: number
  createdAt: number
}

export interface UploadRecord {
  id: string
  tenant: string
  provider: string
  filename: string
  purpose: string
  bytes: number
  mimeType: string
  createdAt: number
  expiresAt: number
  status: UploadStatus
  /** expires_after of the file the upload becomes, in seconds, or null. */
  fileExpiresAfter: number | null
  parts: UploadPart[]
  /** The gateway file it became (status completed). */
  fileId: string | null
}

const SAFE_ID = /^[a-z0-9_-]{1,100}$/i

export class UploadPartStore {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'uploads')
    mkdirSync(this.dir, { recursive: true })
  }

  create(record: UploadRecord): void {
    mkdirSync(this.folder(record.id), { recursive: true })
    this.save(record)
  }

  /** The record, or null for an unknown (or malformed) id. */
  get(id: string): UploadRecord | null {
    if (!SAFE_ID.test(id)) return null
    try {
      return JSON.parse(readFileSync(join(this.folder(id), 'upload.json'), 'utf8')) as UploadRecord
    } catch {
      return null
    }
  }

  save(record: UploadRecord): void {
    const path = join(this.folder(record.id), 'upload.json')
    writeFileSync(`${path}.tmp`, JSON.stringify(record))
    renameSync(`${path}.tmp`, path)
  }

  /** Where a part's bytes live. Ids are minted by the gateway ([a-z0-9_-]), safe as names. */
  partPath(uploadId: string, partId: string): string {
    return join(this.folder(uploadId), partId)
  }

  /** Moves a spooled part into the upload's folder. */
  keepPart(uploadId: string, partId: string, spoolPath: string): void {
    renameSync(spoolPath, this.partPath(uploadId, partId))
  }

  /** Drops every part's bytes, keeping the record. */
  dropParts(record: UploadRecord): void {
    for (const part of record.parts) rmSync(this.partPath(record.id, part.id), { force: true })
  }

  /** Drops the upload entirely. */
  remove(id: string): void {
    if (SAFE_ID.test(id)) rmSync(this.folder(id), { recursive: true, force: true })
  }

  ids(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((name) => SAFE_ID.test(name)) : []
  }

  private folder(id: string): string {
    return join(this.dir, id)
  }
}
