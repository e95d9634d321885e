// Gateway batch id ↔ provider + upstream id, owner-scoped, with the last upstream snapshot.
// A create records its intent first ('creating'), then finalizes with the upstream id, so a
// crash in between leaves a row that start-up reconciliation can find (issue 7 §7).

import type { CustomIdScheme, StoredBatch, UpstreamBatch } from '../core/batch'
import type { Dialect, ProviderName } from '../core/provider-name'
import type { BatchUsage } from '../core/usage'
import { type Page, type PageRequest, pageQuery } from './page-query'
import { json, num, numOrNull, type SqlDb } from './sql'

export interface BatchRow {
  id: string
  tenant: string
  provider: string
  dialect: string
  upstream_id: string | null
  endpoint: string
  input_file_id: string | null
  completion_window: string
  metadata: string | null
  created_at: number | string
  snapshot: string | null
  output_file_id: string | null
  error_file_id: string | null
  id_scheme: string
  cancel_requested_at: number | string | null
  archived_at: number | string | null
  state: string
  intent: string | null
  usage: string | null
}

export interface BatchIntent {
  id: string
  tenant: string
  provider: ProviderName
  dialect: Dialect
  endpoint: string
  inputFileId: string | null
  completionWindow: string
  metadata: Record<string, string> | null
  createdAt: number
  idScheme: CustomIdScheme
  /** Free-form facts a reconciler needs to find or clean up the upstream object. */
  intent: Record<string, unknown>
}

export const toBatch = (row: BatchRow): StoredBatch => ({
  id: row.id,
  tenant: row.tenant,
  provider: row.provider as ProviderName,
  dialect: row.dialect as Dialect,
  upstreamId: row.upstream_id ?? '',
  endpoint: row.endpoint,
  inputFileId: row.input_file_id,
  completionWindow: row.completion_window,
  metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, string>),
  createdAt: num(row.created_at),
  snapshot: JSON.parse(row.snapshot ?? 'null') as UpstreamBatch,
  outputFileId: row.output_file_id,
  errorFileId: row.error_file_id,
  idScheme: row.id_scheme as CustomIdScheme,
  cancelRequestedAt: numOrNull(row.cancel_requested_at),
  archivedAt: numOrNull(row.archived_at),
  usage: row.usage === null ? null : (JSON.parse(row.usage) as BatchUsage),
})

export interface PendingCreate {
  /** The instance doing the create (store/leases.ts); null on rows from before schema v2. */
  owner: string | null
  id: string
  provider: ProviderName
  /** `creating`: the answer is awaited (or was lost in a crash); `unresolved`: see core/adoption.ts. */
  state: 'creating' | 'unresolved'
  intent: Record<string, unknown>
  createdAt: number
}

export class BatchMappings {
  /** `owner`: this instance's id, written on the intents of creates it starts. */
  constructor(
    private readonly db: SqlDb,
    private readonly owner: string,
  ) {}

  /** Step 1 of a create: the id exists, invisible to reads, before the upstream call. */
  async recordIntent(b: BatchIntent): Promise<void> {
    await this.db.run(
      `INSERT INTO batches (id, tenant, provider, dialect, upstream_id, endpoint, input_file_id,
         completion_window, metadata, created_at, snapshot, id_scheme, state, intent, owner)
       VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, 'creating', ?, ?)`,
      [
        b.id,
        b.tenant,
        b.provider,
        b.dialect,
        b.endpoint,
        b.inputFileId,
        b.completionWindow,
        b.metadata === null ? null : json(b.metadata),
        b.createdAt,
        b.idScheme,
        json(b.intent),
        this.owner,
      ],
    )
  }

  /** Step 2: the upstream answered; the batch becomes visible. */
  async finalize(id: string, snapshot: UpstreamBatch): Promise<void> {
    await this.db.run(`UPDATE batches SET upstream_id = ?, snapshot = ?, state = 'ready', intent = NULL WHERE id = ?`, [
      snapshot.upstreamId,
      json(snapshot),
      id,
    ])
    await this.recordStatus(id, snapshot.status)
  }

  /** The upstream refused: forget the intent entirely. */
  async abandon(id: string): Promise<void> {
    await this.db.run(`DELETE FROM batches WHERE id = ? AND state = 'creating'`, [id])
  }

  /**
   * The create lost its answer and the batch it may have made cannot be told apart from another:
   * kept (never abandoned) for an operator and for the next start's lookup, invisible to reads.
   */
  async markUnresolved(id: string): Promise<void> {
    await this.db.run(`UPDATE batches SET state = 'unresolved' WHERE id = ? AND state = 'creating'`, [id])
  }

  /** Creates without an upstream batch yet: in flight, interrupted, or unresolved. */
  async pendingCreates(): Promise<PendingCreate[]> {
    const rows = await this.db.all<{ id: string; provider: string; state: string; intent: string | null; created_at: number | string; owner: string | null }>(
      `SELECT id, provider, state, intent, created_at, owner FROM batches WHERE state IN ('creating', 'unresolved') ORDER BY id`,
    )
    return rows.map((r) => ({
      owner: r.owner,
      id: r.id,
      provider: r.provider as ProviderName,
      state: r.state === 'unresolved' ? ('unresolved' as const) : ('creating' as const),
      intent: JSON.parse(r.intent ?? '{}') as Record<string, unknown>,
      createdAt: num(r.created_at),
    }))
  }

  /** How many live batches (creating or ready) each provider name owns: start-up checks they all exist. */
  async countByProvider(): Promise<Map<string, number>> {
    const rows = await this.db.all<{ provider: string; n: number | string }>(
      `SELECT provider, COUNT(*) AS n FROM batches WHERE state != 'deleted' GROUP BY provider`,
    )
    return new Map(rows.map((r) => [r.provider, num(r.n)]))
  }

  /** Takes an intent over from `from` (a gone instance); exactly one concurrent claimer wins. */
  async claimIntent(id: string, from: string | null, to: string | null = this.owner): Promise<boolean> {
    return (
      (await this.db.run(`UPDATE batches SET owner = ? WHERE id = ? AND state IN ('creating', 'unresolved') AND COALESCE(owner, '') = ?`, [
        to,
        id,
        from ?? '',
      ])) === 1
    )
  }

  /** Gives up a claim (the lookup failed): the next sweep, on any instance, tries again. */
  async releaseIntent(id: string): Promise<void> {
    await this.claimIntent(id, this.owner, null)
  }

  /** Whether some gateway batch already maps this upstream batch (so a lookup must not adopt it). */
  async isMapped(provider: ProviderName, upstreamId: string): Promise<boolean> {
    return (await this.db.get(`SELECT 1 AS one FROM batches WHERE provider = ? AND upstream_id = ?`, [provider, upstreamId])) !== null
  }

  /** Whether any batch row (in flight, ready or deleted) names this file as its input. */
  async isInputOfAny(fileId: string): Promise<boolean> {
    return (await this.db.get(`SELECT 1 AS one FROM batches WHERE input_file_id = ?`, [fileId])) !== null
  }

  /** Batches (in flight or ready) reading this file as their input. */
  async usersOfInput(fileId: string): Promise<Array<{ id: string; state: string; status: UpstreamBatch['status'] | null }>> {
    const rows = await this.db.all<{ id: string; state: string; snapshot: string | null }>(
      `SELECT id, state, snapshot FROM batches WHERE input_file_id = ? AND state IN ('creating', 'ready')`,
      [fileId],
    )
    return rows.map((r) => ({ id: r.id, state: r.state, status: r.snapshot === null ? null : (JSON.parse(r.snapshot) as UpstreamBatch).status }))
  }

  async get(id: string, tenant: string): Promise<StoredBatch | null> {
    const row = await this.db.get<BatchRow>(`SELECT * FROM batches WHERE id = ? AND tenant = ? AND state = 'ready'`, [id, tenant])
    return row ? toBatch(row) : null
  }

  /** Saves the snapshot; true when its status is one this batch had not been seen in before. */
  async saveSnapshot(id: string, snapshot: UpstreamBatch): Promise<boolean> {
    await this.db.run(`UPDATE batches SET snapshot = ? WHERE id = ?`, [json(snapshot), id])
    return this.recordStatus(id, snapshot.status)
  }

  /** Each status a batch passes through, with when the gateway first saw it (issue 15). */
  private async recordStatus(id: string, status: string): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO batch_status_changes (batch_id, status, at) VALUES (?, ?, ?) ON CONFLICT (batch_id, status) DO NOTHING`,
      [id, status, Date.now()],
    )
    return changed === 1
  }

  async statusHistory(id: string): Promise<Array<{ status: string; at: number }>> {
    const rows = await this.db.all<{ status: string; at: number | string }>(
      `SELECT status, at FROM batch_status_changes WHERE batch_id = ? ORDER BY at`,
      [id],
    )
    return rows.map((r) => ({ status: r.status, at: num(r.at) }))
  }

  async setResultFiles(id: string, outputFileId: string | null, errorFileId: string | null): Promise<void> {
    await this.db.run(`UPDATE batches SET output_file_id = ?, error_file_id = ? WHERE id = ?`, [outputFileId, errorFileId, id])
  }

  async markCancelRequested(id: string, at: number): Promise<void> {
    await this.db.run(`UPDATE batches SET cancel_requested_at = COALESCE(cancel_requested_at, ?) WHERE id = ?`, [at, id])
  }

  async markDeleted(id: string): Promise<void> {
    await this.db.run(`UPDATE batches SET state = 'deleted' WHERE id = ?`, [id])
  }

  list(
    tenant: string,
    page: PageRequest,
    filter: { dialect?: Dialect; provider?: ProviderName } = {},
  ): Promise<Page<StoredBatch>> {
    const filters: Array<[string, string | number]> = [
      ['tenant = ?', tenant],
      ['state = ?', 'ready'],
    ]
    if (filter.dialect) filters.push(['dialect = ?', filter.dialect])
    if (filter.provider) filters.push(['provider = ?', filter.provider])
    return pageQuery(this.db, 'batches', filters, page, toBatch)
  }
}
