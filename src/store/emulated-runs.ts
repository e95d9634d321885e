// Batches the gateway runs itself (providers/emulated): the run's state as a row, and its answers,
// each recorded before anything counts it, so after a crash the runner resumes by skipping every
// recorded line (issue 17, durable progress). Where the answers go depends on the engine:
// - SQLite (one process per data dir): a log file per run (emulated-log.ts), one write per group;
// - PostgreSQL (instances share runs): rows of `emulated_results` (emulated-rows.ts).
// A run keeps the kind it was created with (column `results`): SQLite runs recorded as rows
// before the log existed are finished and read as rows.

import type { ResultLog } from './emulated-log'
import type { Outcome, RecordedResult } from './emulated-result'
import { ResultRows } from './emulated-rows'
import { num, numOrNull, type SqlDb } from './sql'

export type { Outcome, RecordedResult } from './emulated-result'
export type RunStatus = 'in_progress' | 'cancelling' | 'finalizing' | 'completed' | 'cancelled' | 'expired'

export interface EmulatedRun {
  id: string
  provider: string
  endpoint: string
  total: number
  model: string | null
  status: RunStatus
  createdAt: number
  expiresAt: number
  startedAt: number | null
  finalizingAt: number | null
  endedAt: number | null
  cancellingAt: number | null
  /** Answered lines by outcome (see counts). */
  counts: Record<Outcome, number>
}

interface CountRow {
  n_succeeded: number | string
  n_errored: number | string
  n_expired: number | string
  n_canceled: number | string
}

const countsOf = (r: CountRow): Record<Outcome, number> => ({
  succeeded: num(r.n_succeeded),
  errored: num(r.n_errored),
  expired: num(r.n_expired),
  canceled: num(r.n_canceled),
})

interface RunRow extends CountRow {
  id: string
  provider: string
  endpoint: string
  total: number | string
  model: string | null
  status: RunStatus
  created_at: number | string
  expires_at: number | string
  started_at: number | string | null
  finalizing_at: number | string | null
  ended_at: number | string | null
  cancelling_at: number | string | null
  results: 'rows' | 'log'
}

const fromRow = (r: RunRow): EmulatedRun => ({
  id: r.id,
  provider: r.provider,
  endpoint: r.endpoint,
  total: num(r.total),
  model: r.model,
  status: r.status,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  startedAt: numOrNull(r.started_at),
  finalizingAt: numOrNull(r.finalizing_at),
  endedAt: numOrNull(r.ended_at),
  cancellingAt: numOrNull(r.cancelling_at),
  counts: countsOf(r),
})

const OPEN = `('in_progress', 'cancelling', 'finalizing')`
const ENDED: ReadonlySet<RunStatus> = new Set(['completed', 'cancelled', 'expired'])
const NO_COUNTS: Record<Outcome, number> = { succeeded: 0, errored: 0, expired: 0, canceled: 0 }

export class EmulatedRuns {
  private readonly rows: ResultRows
  /** Open runs' record kind and total, read once per run (the runner records many groups); an
   * ended run's entry goes (a long-lived gateway would otherwise keep one per batch it ever ran). */
  private readonly known = new Map<string, { results: 'rows' | 'log'; total: number }>()

  constructor(
    private readonly db: SqlDb,
    /** SQLite's result log; null on PostgreSQL, where runs are shared and recorded as rows. */
    private readonly log: ResultLog | null = null,
  ) {
    this.rows = new ResultRows(db)
  }

  async create(run: Pick<EmulatedRun, 'id' | 'provider' | 'endpoint' | 'total' | 'model' | 'createdAt' | 'expiresAt'>): Promise<void> {
    await this.db.run(
      `INSERT INTO emulated_runs (id, provider, endpoint, total, model, status, created_at, expires_at, started_at, results)
       VALUES (?, ?, ?, ?, ?, 'in_progress', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [run.id, run.provider, run.endpoint, run.total, run.model, run.createdAt, run.expiresAt, run.createdAt, this.log ? 'log' : 'rows'],
    )
  }

  /** The run; an open run recorded in the log has its counts read from there. */
  async get(id: string): Promise<EmulatedRun | null> {
    const row = await this.db.get<RunRow>(`SELECT * FROM emulated_runs WHERE id = ?`, [id])
    if (!row) return null
    const run = fromRow(row)
    if (!ENDED.has(run.status)) this.known.set(id, { results: row.results, total: run.total })
    if (this.log && row.results === 'log' && !ENDED.has(run.status)) run.counts = await this.log.counts(id, run.total)
    return run
  }

  /** The run's status alone (the runner re-reads it while it sends; no counts needed). */
  async status(id: string): Promise<RunStatus | null> {
    return (await this.db.get<{ status: RunStatus }>(`SELECT status FROM emulated_runs WHERE id = ?`, [id]))?.status ?? null
  }

  /** Runs of `provider` not yet ended: what a runner (re)starts. */
  async open(provider: string): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM emulated_runs WHERE provider = ? AND status IN ${OPEN} ORDER BY id`, [provider])
    return rows.map((r) => r.id)
  }

  /**
   * Only an open run moves; an ended one stays as it ended. True when the row changed. A run
   * recorded in the log has its final counts written to its row as it ends (its log is complete
   * by then: the runner ends a run only after every answer is written).
   */
  async setStatus(id: string, status: RunStatus, at: number): Promise<boolean> {
    const column = status === 'cancelling' ? 'cancelling_at' : status === 'finalizing' ? 'finalizing_at' : 'ended_at'
    const from = status === 'cancelling' ? `('in_progress')` : OPEN
    const kind = await this.kindOf(id)
    if (ENDED.has(status)) this.known.delete(id)
    if (!this.log || kind?.results !== 'log' || !ENDED.has(status)) {
      return (await this.db.run(`UPDATE emulated_runs SET status = ?, ${column} = ? WHERE id = ? AND status IN ${from}`, [status, at, id])) > 0
    }
    const c = (await this.log.index(id, kind.total)).counts
    const changed = await this.db.run(
      `UPDATE emulated_runs SET status = ?, ${column} = ?, n_succeeded = ?, n_errored = ?, n_expired = ?, n_canceled = ? WHERE id = ? AND status IN ${from}`,
      [status, at, c.succeeded, c.errored, c.expired, c.canceled, id],
    )
    this.log.release(id)
    return changed > 0
  }

  /** Records an answer once; a line already recorded keeps its first answer. */
  async record(id: string, result: RecordedResult): Promise<void> {
    await this.recordMany(id, [result])
  }

  /** Records several answers at once (the runner's group commit); first answers win. */
  async recordMany(id: string, results: readonly RecordedResult[]): Promise<void> {
    if (results.length === 0) return
    const kind = await this.kindOf(id)
    if (this.log && kind?.results === 'log') return this.log.append(id, results)
    // Group commits come tens a second while a batch runs: no checkpoint stalls inside them.
    this.db.checkpointAside?.()
    await this.rows.append(id, results)
  }

  /** The lines already answered, as a bitmap over `total`. */
  async recorded(id: string, total: number): Promise<Uint8Array> {
    const kind = await this.kindOf(id)
    if (!this.log || kind?.results !== 'log') return this.rows.recorded(id, total)
    // A copy: the index goes on changing as answers are appended.
    return (await this.log.index(id, total)).done.slice()
  }

  /** The run's answered lines by outcome (see get). */
  async counts(id: string): Promise<Record<Outcome, number>> {
    return (await this.get(id))?.counts ?? { ...NO_COUNTS }
  }

  /**
   * The stored results of one part, a group at a time: input order from rows, arrival order
   * from the log (first answer of each line only).
   */
  async *results(id: string, part: 'output' | 'error'): AsyncGenerator<RecordedResult[]> {
    const kind = await this.kindOf(id)
    if (!kind) return
    if (this.log && kind.results === 'log') yield* this.log.results(id, part, kind.total)
    else yield* this.rows.results(id, part)
  }

  async remove(id: string): Promise<void> {
    this.log?.remove(id)
    this.known.delete(id)
    await this.rows.remove(id)
    await this.db.run(`DELETE FROM emulated_runs WHERE id = ?`, [id])
  }

  /**
   * Removes result logs whose run is gone (a crash between deleting the run's row and its file, or
   * a database restored from before the run): the start-up sweep, beside orphan blobs.
   */
  async removeOrphanLogs(): Promise<number> {
    if (!this.log) return 0
    let removed = 0
    for (const run of this.log.runs()) {
      if ((await this.status(run)) !== null) continue
      this.log.remove(run)
      removed++
    }
    return removed
  }

  /** Closes the log's files (the store closes). */
  close(): void {
    this.log?.close()
  }

  private async kindOf(id: string): Promise<{ results: 'rows' | 'log'; total: number } | null> {
    const known = this.known.get(id)
    if (known) return known
    const row = await this.db.get<{ results: 'rows' | 'log'; total: number | string; status: RunStatus }>(`SELECT results, total, status FROM emulated_runs WHERE id = ?`, [id])
    if (!row) return null
    const kind = { results: row.results, total: num(row.total) }
    if (!ENDED.has(row.status)) this.known.set(id, kind)
    return kind
  }
}
