// The watcher's side of the batches table: when each unsettled batch is due for a poll and which
// instance holds it. A claim is one UPDATE … RETURNING whose WHERE re-checks the lease, so two
// watchers on one database never hold the same batch (on PostgreSQL a row locked by a racing
// claim is re-checked after the lock and skipped); a lease that runs out because its holder died
// is simply claimable again.

import type { StoredBatch } from '../core/batch'
import { type BatchRow, toBatch } from './batch-mappings'
import { numOrNull, type SqlDb } from './sql'

export interface ClaimRequest {
  owner: string
  now: number
  leaseMs: number
  limit: number
  /** A batch never polled is due this long after its creation. */
  firstPollMs: number
}

export interface WatchedBatch {
  batch: StoredBatch
  /** The backoff step the last poll left, null before the first. */
  intervalMs: number | null
}

/** The lease interface the watcher takes through the store. */
export interface WatchLeases {
  claimDue(req: ClaimRequest): Promise<WatchedBatch[]>
  /** Gives the lease back and says when the batch is due again. */
  reschedule(id: string, owner: string, nextAt: number, intervalMs: number): Promise<void>
  /** Makes a batch due at once (it was seen ending outside the watcher). */
  dueNow(id: string): Promise<void>
  /** Single-instance start: leases a previous run of this process held are dead. */
  releaseAll(): Promise<void>
}

const FREE = `(watch_until IS NULL OR watch_until < ?)`
const DUE = `COALESCE(watch_next_at, created_at * 1000 + ?)`

export class SqlWatchLeases implements WatchLeases {
  constructor(private readonly db: SqlDb) {}

  async claimDue({ owner, now, leaseMs, limit, firstPollMs }: ClaimRequest): Promise<WatchedBatch[]> {
    const rows = await this.db.all<BatchRow & { watch_interval_ms: number | string | null }>(
      `UPDATE batches SET watch_owner = ?, watch_until = ?
       WHERE ${FREE} AND id IN (
         SELECT id FROM batches
         WHERE state = 'ready' AND settled_at IS NULL AND ${DUE} <= ? AND ${FREE}
         ORDER BY ${DUE} LIMIT ?)
       RETURNING *`,
      [owner, now + leaseMs, now, firstPollMs, now, now, firstPollMs, limit],
    )
    return rows.map((row) => ({ batch: toBatch(row), intervalMs: numOrNull(row.watch_interval_ms) }))
  }

  async reschedule(id: string, owner: string, nextAt: number, intervalMs: number): Promise<void> {
    await this.db.run(
      `UPDATE batches SET watch_next_at = ?, watch_interval_ms = ?, watch_owner = NULL, watch_until = NULL
       WHERE id = ? AND watch_owner = ?`,
      [nextAt, intervalMs, id, owner],
    )
  }

  async dueNow(id: string): Promise<void> {
    await this.db.run(`UPDATE batches SET watch_next_at = 0 WHERE id = ? AND settled_at IS NULL`, [id])
  }

  async releaseAll(): Promise<void> {
    await this.db.run(`UPDATE batches SET watch_owner = NULL, watch_until = NULL WHERE watch_owner IS NOT NULL`)
    await this.db.run(`UPDATE webhook_outbox SET owner = NULL, lease_until = NULL WHERE owner IS NOT NULL`)
  }
}
