// Gateway file id ↔ provider + location, owner-scoped: every read takes the tenant, so another
// tenant's id behaves exactly like an unknown one. An upload is recorded 'pending' before its
// bytes move and completed after, so a crash mid-upload leaves a row start-up can act on
// (core/reconcile.ts); pending rows are invisible to every read.

import type { Database, Statement } from 'bun:sqlite'
import type { FileFacts, FileLocation, FilePurpose, StoredFile } from '../core/file'
import type { Dialect, ProviderName } from '../core/provider-name'
import { type Page, type PageRequest, pageQuery } from './page-query'

interface FileRow {
  id: string
  tenant: string
  provider: string
  dialect: string
  location: string
  purpose: string
  filename: string
  bytes: number
  mime_type: string
  created_at: number
  expires_at: number | null
  facts: string
}

/** Where a Bedrock upload was headed (the S3 key derives from it and the id). */
export interface PendingStorage {
  bucket: string
  region: string | null
  prefix: string
}

/** An upload in flight: what it was, and what start-up needs to find what it left behind. */
export interface PendingUpload {
  id: string
  tenant: string
  provider: ProviderName
  dialect: Dialect
  purpose: FilePurpose
  filename: string
  bytes: number
  mimeType: string
  /** Unix seconds, just before the bytes started moving. */
  startedAt: number
  storage: PendingStorage | null
}

/** The `location` column of a pending row: not a FileLocation yet, only where it was going. */
interface PendingLocation {
  kind: 'pending'
  storage: PendingStorage | null
}

export interface FileFilter {
  purpose?: string
  provider?: ProviderName
}

const toFile = (row: FileRow): StoredFile => ({
  id: row.id,
  tenant: row.tenant,
  provider: row.provider as ProviderName,
  dialect: row.dialect as Dialect,
  location: JSON.parse(row.location) as FileLocation,
  purpose: row.purpose as FilePurpose,
  filename: row.filename,
  bytes: row.bytes,
  mimeType: row.mime_type,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  facts: JSON.parse(row.facts) as FileFacts,
})

export class FileMappings {
  private readonly getStmt: Statement<FileRow, [string, string]>
  private readonly byKeyStmt: Statement<FileRow, [string, string]>

  constructor(private readonly db: Database) {
    this.getStmt = db.query(`SELECT * FROM files WHERE id = ? AND tenant = ? AND state = 'ready'`)
    this.byKeyStmt = db.query(`SELECT * FROM files WHERE provider = ? AND upstream_key = ?`)
  }

  /**
   * Returns the gateway file for an upstream-created object (a batch's output file), minting it
   * on first sight. The unique index on (provider, upstream_key) makes concurrent callers agree.
   */
  adopt(file: StoredFile, upstreamKey: string): StoredFile {
    const existing = this.byKeyStmt.get(file.provider, upstreamKey)
    if (existing) return toFile(existing)
    this.insertIfAbsent(file, upstreamKey)
    const row = this.byKeyStmt.get(file.provider, upstreamKey)
    if (!row) throw new Error(`adopted file ${file.id} vanished`)
    return toFile(row)
  }

  private insertIfAbsent(file: StoredFile, upstreamKey: string): void {
    this.db
      .query(
        `INSERT OR IGNORE INTO files (id, tenant, provider, dialect, location, upstream_key, purpose, filename, bytes,
           mime_type, created_at, expires_at, facts, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready')`,
      )
      .run(
        file.id,
        file.tenant,
        file.provider,
        file.dialect,
        JSON.stringify(file.location),
        upstreamKey,
        file.purpose,
        file.filename,
        file.bytes,
        file.mimeType,
        file.createdAt,
        file.expiresAt,
        JSON.stringify(file.facts),
      )
  }

  /** Step 1 of an upload: the id exists, invisible to reads, before any byte moves. */
  recordPending(p: PendingUpload): void {
    const location: PendingLocation = { kind: 'pending', storage: p.storage }
    this.db
      .query(
        `INSERT INTO files (id, tenant, provider, dialect, location, upstream_key, purpose, filename, bytes,
           mime_type, created_at, expires_at, facts, state)
         VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, '{"format":"raw"}', 'pending')`,
      )
      .run(
        p.id,
        p.tenant,
        p.provider,
        p.dialect,
        JSON.stringify(location),
        p.purpose,
        p.filename,
        p.bytes,
        p.mimeType,
        p.startedAt,
      )
  }

  /** Step 2: the bytes are in place; the file becomes visible with its final location. */
  complete(file: StoredFile): void {
    const changed = this.db
      .query(
        `UPDATE files SET location = ?, purpose = ?, filename = ?, bytes = ?, mime_type = ?, created_at = ?,
           expires_at = ?, facts = ?, state = 'ready'
         WHERE id = ? AND tenant = ? AND state = 'pending'`,
      )
      .run(
        JSON.stringify(file.location),
        file.purpose,
        file.filename,
        file.bytes,
        file.mimeType,
        file.createdAt,
        file.expiresAt,
        JSON.stringify(file.facts),
        file.id,
        file.tenant,
      ).changes
    if (changed !== 1) throw new Error(`pending upload ${file.id} is missing`)
  }

  /** The upload failed or was cleaned up: forget the pending row (never a ready one). */
  dropPending(id: string): void {
    this.db.query(`DELETE FROM files WHERE id = ? AND state = 'pending'`).run(id)
  }

  pendingUploads(): PendingUpload[] {
    return this.db
      .query<FileRow & { state: string }, []>(`SELECT * FROM files WHERE state = 'pending' ORDER BY id`)
      .all()
      .map((row) => ({
        id: row.id,
        tenant: row.tenant,
        provider: row.provider as ProviderName,
        dialect: row.dialect as Dialect,
        purpose: row.purpose as FilePurpose,
        filename: row.filename,
        bytes: row.bytes,
        mimeType: row.mime_type,
        startedAt: row.created_at,
        storage: (JSON.parse(row.location) as PendingLocation).storage ?? null,
      }))
  }

  /** Whether any row, in any state, holds this id (blob sweeping at start-up). */
  exists(id: string): boolean {
    return this.db.query<{ one: number }, [string]>(`SELECT 1 AS one FROM files WHERE id = ?`).get(id) !== null
  }

  get(id: string, tenant: string): StoredFile | null {
    const row = this.getStmt.get(id, tenant)
    return row ? toFile(row) : null
  }

  delete(id: string, tenant: string): boolean {
    return this.db.query(`DELETE FROM files WHERE id = ? AND tenant = ?`).run(id, tenant).changes > 0
  }

  updateBytes(id: string, bytes: number): void {
    this.db.query(`UPDATE files SET bytes = ? WHERE id = ?`).run(bytes, id)
  }

  list(tenant: string, filter: FileFilter, page: PageRequest): Page<StoredFile> {
    const filters: Array<[string, string | number]> = [
      ['tenant = ?', tenant],
      ["state = ?", 'ready'],
    ]
    if (filter.purpose) filters.push(['purpose = ?', filter.purpose])
    if (filter.provider) filters.push(['provider = ?', filter.provider])
    return pageQuery(this.db, 'files', filters, page, toFile)
  }
}
