// Batches the gateway runs itself (providers/emulated): the run's state, and one row per answered
// request. A result row is written before anything counts it — counts are read from these rows —
// so after a crash the runner resumes by skipping every recorded line (issue 17, durable progress).
// Counts are counters on the run row moved in the same transaction as the rows (SQLite: by
// recordMany, PostgreSQL: by an insert trigger), so a count never runs ahead of a recorded row.

import { num, numOrNull, type SqlDb } from './sql'

export type RunStatus = 'in_progress' | 'cancelling' | 'finalizing' | 'completed' | 'cancelled' | 'expired'
export type Outcome = 'succeeded' | 'errored' | 'expired' | 'canceled'

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

export interface RecordedResult {
  line: number
  outcome: Outcome
  part: 'output' | 'error'
  body: string
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

const INSERT_RESULT = `INSERT INTO emulated_results (run_id, line, outcome, part, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, line) DO NOTHING`
const ADD_COUNTS = `UPDATE emulated_runs SET n_succeeded = n_succeeded + ?, n_errored = n_errored + ?, n_expired = n_expired + ?, n_canceled = n_canceled + ? WHERE id = ?`

const OPEN = `('in_progress', 'cancelling', 'finalizing')`

export class EmulatedRuns {
  constructor(private readonly db: SqlDb) {}

  async create(run: Pick<EmulatedRun, 'id' | 'provider' | 'endpoint' | 'total' | 'model' | 'createdAt' | 'expiresAt'>): Promise<void> {
    await this.db.run(
      `INSERT INTO emulated_runs (id, provider, endpoint, total, model, status, created_at, expires_at, started_at)
       VALUES (?, ?, ?, ?, ?, 'in_progress', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [run.id, run.provider, run.endpoint, run.total, run.model, run.createdAt, run.expiresAt, run.createdAt],
    )
  }

  async get(id: string): Promise<EmulatedRun | null> {
    const row = await this.db.get<RunRow>(`SELECT * FROM emulated_runs WHERE id = ?`, [id])
    return row ? fromRow(row) : null
  }

  /** Runs of `provider` not yet ended: what a runner (re)starts. */
  async open(provider: string): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM emulated_runs WHERE provider = ? AND status IN ${OPEN} ORDER BY id`, [provider])
    return rows.map((r) => r.id)
  }

  /** Only an open run moves; an ended one stays as it ended. True when the row changed. */
  async setStatus(id: string, status: RunStatus, at: number): Promise<boolean> {
    const column = status === 'cancelling' ? 'cancelling_at' : status === 'finalizing' ? 'finalizing_at' : 'ended_at'
    const from = status === 'cancelling' ? `('in_progress')` : OPEN
    return (await this.db.run(`UPDATE emulated_runs SET status = ?, ${column} = ? WHERE id = ? AND status IN ${from}`, [status, at, id])) > 0
  }

  /** Records an answer once; a line already recorded keeps its first answer. */
  async record(id: string, result: RecordedResult): Promise<void> {
    await this.recordMany(id, [result])
  }

  /**
   * Records several answers in one transaction (the runner's group commit); first answers win.
   * On SQLite the counters move in the same transaction, by the rows really inserted (a per-row
   * trigger cost ~1.5 µs a row, a third of the write); PostgreSQL's statement trigger does it there.
   */
  async recordMany(id: string, results: readonly RecordedResult[]): Promise<void> {
    if (results.length === 0) return
    if (this.db.transaction) {
      // Group commits come tens a second while a batch runs: no checkpoint stalls inside them.
      this.db.checkpointAside?.()
      await this.db.transaction((run) => {
        const added: Record<Outcome, number> = { succeeded: 0, errored: 0, expired: 0, canceled: 0 }
        for (const r of results) added[r.outcome] += run(INSERT_RESULT, [id, r.line, r.outcome, r.part, r.body])
        run(ADD_COUNTS, [added.succeeded, added.errored, added.expired, added.canceled, id])
      })
      return
    }
    const values = results.map(() => '(?, ?, ?, ?, ?)').join(', ')
    const args = results.flatMap((r) => [id, r.line, r.outcome, r.part, r.body])
    await this.db.run(`INSERT INTO emulated_results (run_id, line, outcome, part, body) VALUES ${values} ON CONFLICT (run_id, line) DO NOTHING`, args)
  }

  /** The lines already answered, as a bitmap over `total`. */
  async recorded(id: string, total: number): Promise<Uint8Array> {
    const done = new Uint8Array(total)
    let after = -1
    for (;;) {
      const rows = await this.db.all<{ line: number | string }>(
        `SELECT line FROM emulated_results WHERE run_id = ? AND line > ? ORDER BY line LIMIT 5000`,
        [id, after],
      )
      for (const r of rows) {
        const line = num(r.line)
        if (line < total) done[line] = 1
        after = line
      }
      if (rows.length < 5000) return done
    }
  }

  /**
   * The run's answered lines by outcome: counters moved in the same transaction that writes the
   * rows (recordMany; migrations 8 and 9), so they never count a line that is not recorded.
   */
  async counts(id: string): Promise<Record<Outcome, number>> {
    const row = await this.db.get<CountRow>(`SELECT n_succeeded, n_errored, n_expired, n_canceled FROM emulated_runs WHERE id = ?`, [id])
    return row ? countsOf(row) : { succeeded: 0, errored: 0, expired: 0, canceled: 0 }
  }

  /** One page of a result file's lines, in input order, after line `after`. */
  async page(id: string, part: 'output' | 'error', after: number, limit: number): Promise<Array<{ line: number; body: string }>> {
    const rows = await this.db.all<{ line: number | string; body: string }>(
      `SELECT line, body FROM emulated_results WHERE run_id = ? AND part = ? AND line > ? ORDER BY line LIMIT ?`,
      [id, part, after, limit],
    )
    return rows.map((r) => ({ line: num(r.line), body: r.body }))
  }

  async remove(id: string): Promise<void> {
    await this.db.run(`DELETE FROM emulated_results WHERE run_id = ?`, [id])
    await this.db.run(`DELETE FROM emulated_runs WHERE id = ?`, [id])
  }
}
