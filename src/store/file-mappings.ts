// Gateway file id ↔ provider + location, owner-scoped: every read takes the tenant, so another
// tenant's id behaves exactly like an unknown one.

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

  /** Records a file as ready. The row exists before its id is handed to anyone. */
  insert(file: StoredFile, upstreamKey: string | null = null): void {
    this.write('INSERT', file, upstreamKey)
  }

  /**
   * Returns the gateway file for an upstream-created object (a batch's output file), minting it
   * on first sight. The unique index on (provider, upstream_key) makes concurrent callers agree.
   */
  adopt(file: StoredFile, upstreamKey: string): StoredFile {
    const existing = this.byKeyStmt.get(file.provider, upstreamKey)
    if (existing) return toFile(existing)
    this.write('INSERT OR IGNORE', file, upstreamKey)
    const row = this.byKeyStmt.get(file.provider, upstreamKey)
    if (!row) throw new Error(`adopted file ${file.id} vanished`)
    return toFile(row)
  }

  private write(verb: 'INSERT' | 'INSERT OR IGNORE', file: StoredFile, upstreamKey: string | null): void {
    this.db
      .query(
        `${verb} INTO files (id, tenant, provider, dialect, location, upstream_key, purpose, filename, bytes,
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
