// Gateway file id ↔ provider + location, owner-scoped: every read takes the tenant, so another
// tenant's id behaves exactly like an unknown one. An upload is recorded 'pending' before its
// bytes move and completed after, so a crash mid-upload leaves a row start-up can act on
// (core/reconcile.ts); pending rows are invisible to every read.

import type { FileFacts, FileLocation, FilePurpose, StoredFile, UpstreamLeftover } from '../core/file'
import type { Dialect, ProviderName } from '../core/provider-name'
import { type Page, type PageRequest, pageQuery } from './page-query'
import { json, num, numOrNull, type SqlDb } from './sql'

interface FileRow {
  id: string
  tenant: string
  provider: string
  dialect: string
  location: string
  purpose: string
  filename: string
  bytes: number | string
  mime_type: string
  created_at: number | string
  expires_at: number | string | null
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
  /** What the upload had opened upstream when it was last heard of (start-up closes it). */
  leftover?: UpstreamLeftover
  /** The instance doing the upload (store/leases.ts); null on rows from before schema v2. */
  owner?: string | null
}

/** The `location` column of a pending row: not a FileLocation yet, only where it was going. */
interface PendingLocation {
  kind: 'pending'
  storage: PendingStorage | null
  leftover?: UpstreamLeftover
}

export interface FileFilter {
  purpose?: string
  provider?: ProviderName
  /** Unix seconds: only files not expired at this time (expires_after / expires_in_seconds). */
  liveAt?: number
}

const toFile = (row: FileRow): StoredFile => ({
  id: row.id,
  tenant: row.tenant,
  provider: row.provider as ProviderName,
  dialect: row.dialect as Dialect,
  location: JSON.parse(row.location) as FileLocation,
  purpose: row.purpose as FilePurpose,
  filename: row.filename,
  bytes: num(row.bytes),
  mimeType: row.mime_type,
  createdAt: num(row.created_at),
  expiresAt: numOrNull(row.expires_at),
  facts: JSON.parse(row.facts) as FileFacts,
})

const FILE_COLUMNS = `id, tenant, provider, dialect, location, upstream_key, purpose, filename, bytes,
  mime_type, created_at, expires_at, facts, state`

export class FileMappings {
  /** `owner`: this instance's id, written on the rows of uploads it starts. */
  constructor(
    private readonly db: SqlDb,
    private readonly owner: string,
  ) {}

  private async byKey(provider: ProviderName, upstreamKey: string): Promise<StoredFile | null> {
    const row = await this.db.get<FileRow>(`SELECT * FROM files WHERE provider = ? AND upstream_key = ?`, [provider, upstreamKey])
    return row ? toFile(row) : null
  }

  /**
   * Returns the gateway file for an upstream-created object (a batch's output file), minting it
   * on first sight. The unique index on (provider, upstream_key) makes concurrent callers agree.
   */
  async adopt(file: StoredFile, upstreamKey: string): Promise<StoredFile> {
    const existing = await this.byKey(file.provider, upstreamKey)
    if (existing) return existing
    await this.insertIfAbsent(file, upstreamKey)
    const row = await this.byKey(file.provider, upstreamKey)
    if (!row) throw new Error(`adopted file ${file.id} vanished`)
    return row
  }

  private async insertIfAbsent(file: StoredFile, upstreamKey: string): Promise<void> {
    // ON CONFLICT DO NOTHING is spelled the same on SQLite and PostgreSQL.
    await this.db.run(
      `INSERT INTO files (${FILE_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready') ON CONFLICT DO NOTHING`,
      [
        file.id,
        file.tenant,
        file.provider,
        file.dialect,
        json(file.location),
        upstreamKey,
        file.purpose,
        file.filename,
        file.bytes,
        file.mimeType,
        file.createdAt,
        file.expiresAt,
        json(file.facts),
      ],
    )
  }

  /** Step 1 of an upload: the id exists, invisible to reads, before any byte moves. */
  async recordPending(p: PendingUpload): Promise<void> {
    const location: PendingLocation = { kind: 'pending', storage: p.storage }
    await this.db.run(
      `INSERT INTO files (${FILE_COLUMNS}, owner)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, '{"format":"raw"}', 'pending', ?)`,
      [p.id, p.tenant, p.provider, p.dialect, json(location), p.purpose, p.filename, p.bytes, p.mimeType, p.startedAt, this.owner],
    )
  }

  /**
   * Step 2: the bytes are in place; the file becomes visible with its final location — or, for
   * an input the gateway made itself (`internal`), stays out of every client read.
   */
  async complete(file: StoredFile, state: 'ready' | 'internal' = 'ready'): Promise<void> {
    const changed = await this.db.run(
      `UPDATE files SET location = ?, purpose = ?, filename = ?, bytes = ?, mime_type = ?, created_at = ?,
         expires_at = ?, facts = ?, state = ?
       WHERE id = ? AND tenant = ? AND state = 'pending'`,
      [
        json(file.location),
        file.purpose,
        file.filename,
        file.bytes,
        file.mimeType,
        file.createdAt,
        file.expiresAt,
        json(file.facts),
        state,
        file.id,
        file.tenant,
      ],
    )
    if (changed !== 1) throw new Error(`pending upload ${file.id} is missing`)
  }

  /** Records, durably, what a pending upload opened upstream (before it sends a byte there). */
  async notePendingLeftover(id: string, leftover: UpstreamLeftover): Promise<void> {
    const row = await this.db.get<{ location: string }>(`SELECT location FROM files WHERE id = ? AND state = 'pending'`, [id])
    if (!row) throw new Error(`pending upload ${id} is missing`)
    const location: PendingLocation = { ...(JSON.parse(row.location) as PendingLocation), leftover }
    await this.db.run(`UPDATE files SET location = ? WHERE id = ? AND state = 'pending'`, [json(location), id])
  }

  /** The upload failed or was cleaned up: forget the pending row (never a ready one). */
  async dropPending(id: string): Promise<void> {
    await this.db.run(`DELETE FROM files WHERE id = ? AND state = 'pending'`, [id])
  }

  async pendingUploads(): Promise<PendingUpload[]> {
    const rows = await this.db.all<FileRow & { owner: string | null }>(`SELECT * FROM files WHERE state = 'pending' ORDER BY id`)
    return rows.map((row) => ({
      id: row.id,
      tenant: row.tenant,
      provider: row.provider as ProviderName,
      dialect: row.dialect as Dialect,
      purpose: row.purpose as FilePurpose,
      filename: row.filename,
      bytes: num(row.bytes),
      mimeType: row.mime_type,
      startedAt: num(row.created_at),
      ...pendingWhere(row.location),
      owner: row.owner,
    }))
  }

  /** How many files (pending or ready) each provider name owns: start-up checks they all exist. */
  async countByProvider(): Promise<Map<string, number>> {
    const rows = await this.db.all<{ provider: string; n: number | string }>(`SELECT provider, COUNT(*) AS n FROM files GROUP BY provider`)
    return new Map(rows.map((r) => [r.provider, num(r.n)]))
  }

  /**
   * Takes a pending upload over from `from` (a gone instance): one conditional update, so of
   * several instances trying at once exactly one gets true.
   */
  async claimPending(id: string, from: string | null, to: string | null = this.owner): Promise<boolean> {
    return (
      (await this.db.run(`UPDATE files SET owner = ? WHERE id = ? AND state = 'pending' AND COALESCE(owner, '') = ?`, [
        to,
        id,
        from ?? '',
      ])) === 1
    )
  }

  /** Gives up a claim (the lookup failed): the next sweep, on any instance, tries again. */
  async releasePending(id: string): Promise<void> {
    await this.claimPending(id, this.owner, null)
  }

  /** Whether any row, in any state, holds this id (blob sweeping at start-up). */
  async exists(id: string): Promise<boolean> {
    return (await this.db.get(`SELECT 1 AS one FROM files WHERE id = ?`, [id])) !== null
  }

  async get(id: string, tenant: string): Promise<StoredFile | null> {
    const row = await this.db.get<FileRow>(`SELECT * FROM files WHERE id = ? AND tenant = ? AND state = 'ready'`, [id, tenant])
    return row ? toFile(row) : null
  }

  /**
   * Any completed row, whoever may see it: gateway-made inputs ('internal') and inputs the client
   * deleted while a batch still needed them ('retired', then 'released' once their bytes went)
   * included. For the gateway's own use only.
   */
  async getAny(id: string): Promise<StoredFile | null> {
    const row = await this.db.get<FileRow>(`SELECT * FROM files WHERE id = ? AND state IN ('ready', 'internal', 'retired', 'released')`, [id])
    return row ? toFile(row) : null
  }

  /** The client deleted it, but a batch still needs it: gone for every client read, bytes kept. */
  async retire(id: string): Promise<void> {
    await this.db.run(`UPDATE files SET state = 'retired' WHERE id = ? AND state = 'ready'`, [id])
  }

  /** A retired or gateway-made input whose batches have ended: its bytes are gone, its facts stay for them. */
  async release(id: string): Promise<void> {
    await this.db.run(`UPDATE files SET state = 'released' WHERE id = ? AND state IN ('retired', 'internal')`, [id])
  }

  async stateOf(id: string): Promise<string | null> {
    return (await this.db.get<{ state: string }>(`SELECT state FROM files WHERE id = ?`, [id]))?.state ?? null
  }

  async delete(id: string, tenant: string): Promise<boolean> {
    return (await this.db.run(`DELETE FROM files WHERE id = ? AND tenant = ?`, [id, tenant])) > 0
  }

  async updateBytes(id: string, bytes: number): Promise<void> {
    await this.db.run(`UPDATE files SET bytes = ? WHERE id = ?`, [bytes, id])
  }

  list(tenant: string, filter: FileFilter, page: PageRequest): Promise<Page<StoredFile>> {
    const filters: Array<[string, string | number]> = [
      ['tenant = ?', tenant],
      ['state = ?', 'ready'],
    ]
    if (filter.purpose) filters.push(['purpose = ?', filter.purpose])
    if (filter.provider) filters.push(['provider = ?', filter.provider])
    if (filter.liveAt !== undefined) filters.push(['(expires_at IS NULL OR expires_at > ?)', filter.liveAt])
    return pageQuery(this.db, 'files', filters, page, toFile)
  }
}

function pendingWhere(location: string): Pick<PendingUpload, 'storage' | 'leftover'> {
  const where = JSON.parse(location) as PendingLocation
  return where.leftover ? { storage: where.storage ?? null, leftover: where.leftover } : { storage: where.storage ?? null }
}
