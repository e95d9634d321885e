// OpenAI Uploads API state, shared by every instance: the Upload record and one row per part in
// the database (`uploads`, `upload_parts`), each part's bytes in the blob store (kind 'part',
// named by the part id). So create, parts and complete may each reach a different instance.
// Parts are rows of their own, not a list inside the record: parts sent in parallel to several
// instances each insert one row, and none can overwrite another's.

import { num, numOrNull, type SqlDb } from './sql'

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

interface UploadRow {
  id: string
  tenant: string
  provider: string
  filename: string
  purpose: string
  bytes: number | string
  mime_type: string
  created_at: number | string
  expires_at: number | string
  status: UploadStatus
  file_expires_after: number | string | null
  file_id: string | null
}

interface PartRow {
  id: string
  bytes: number | string
  created_at: number | string
}

export class UploadRecords {
  constructor(private readonly sql: SqlDb) {}

  async create(record: UploadRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO uploads (id, tenant, provider, filename, purpose, bytes, mime_type, created_at, expires_at, status, file_expires_after, file_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        record.id,
        record.tenant,
        record.provider,
        record.filename,
        record.purpose,
        record.bytes,
        record.mimeType,
        record.createdAt,
        record.expiresAt,
        record.status,
        record.fileExpiresAfter,
        record.fileId,
      ],
    )
  }

  /** The record with its parts (in arrival order), or null for an unknown id. */
  async get(id: string): Promise<UploadRecord | null> {
    const row = await this.sql.get<UploadRow>('SELECT * FROM uploads WHERE id = ?', [id])
    if (!row) return null
    const parts = await this.sql.all<PartRow>('SELECT id, bytes, created_at FROM upload_parts WHERE upload_id = ? ORDER BY id', [id])
    return {
      id: row.id,
      tenant: row.tenant,
      provider: row.provider,
      filename: row.filename,
      purpose: row.purpose,
      bytes: num(row.bytes),
      mimeType: row.mime_type,
      createdAt: num(row.created_at),
      expiresAt: num(row.expires_at),
      status: row.status,
      fileExpiresAfter: numOrNull(row.file_expires_after),
      parts: parts.map((p) => ({ id: p.id, bytes: num(p.bytes), createdAt: num(p.created_at) })),
      fileId: row.file_id,
    }
  }

  /** Records a part; written before its bytes go to the blob store, so no sweep takes them for orphans. */
  async addPart(uploadId: string, part: UploadPart): Promise<void> {
    await this.sql.run('INSERT INTO upload_parts (id, upload_id, bytes, created_at) VALUES (?, ?, ?, ?)', [part.id, uploadId, part.bytes, part.createdAt])
  }

  async hasPart(partId: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS one FROM upload_parts WHERE id = ?', [partId])) !== null
  }

  /** Forgets the upload's parts; resolves to their ids, whose blobs the caller deletes. */
  async forgetParts(uploadId: string): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>('SELECT id FROM upload_parts WHERE upload_id = ?', [uploadId])
    await this.sql.run('DELETE FROM upload_parts WHERE upload_id = ?', [uploadId])
    return rows.map((r) => r.id)
  }

  async forgetPart(partId: string): Promise<void> {
    await this.sql.run('DELETE FROM upload_parts WHERE id = ?', [partId])
  }

  /** Moves a pending upload to `status`; false when it was no longer pending (another call won). */
  async settle(id: string, status: Exclude<UploadStatus, 'pending'>, fileId: string | null = null): Promise<boolean> {
    return (await this.sql.run(`UPDATE uploads SET status = ?, file_id = ? WHERE id = ? AND status = 'pending'`, [status, fileId, id])) > 0
  }

  async setExpiry(id: string, expiresAt: number): Promise<void> {
    await this.sql.run('UPDATE uploads SET expires_at = ? WHERE id = ?', [expiresAt, id])
  }

  async remove(id: string): Promise<void> {
    await this.sql.run('DELETE FROM uploads WHERE id = ?', [id])
  }

  /** Uploads whose expiry has passed at `at` (unix s). */
  async due(at: number): Promise<{ id: string; status: UploadStatus; expiresAt: number }[]> {
    const rows = await this.sql.all<{ id: string; status: UploadStatus; expires_at: number | string }>(
      'SELECT id, status, expires_at FROM uploads WHERE expires_at <= ? ORDER BY id',
      [at],
    )
    return rows.map((r) => ({ id: r.id, status: r.status, expiresAt: num(r.expires_at) }))
  }
}
