// An emulated run's answers as rows of `emulated_results`: how PostgreSQL keeps them (every
// instance reads and writes the same run), and how SQLite kept them before the result log
// (emulated-log.ts) — runs recorded that way are read and finished that way.
// Counts are counters on the run row moved in the same transaction as the rows (SQLite: here,
// PostgreSQL: by a statement trigger, migration 8), so a count never runs ahead of a recorded row.

import { type Outcome, partOf, type RecordedResult } from './emulated-result'
import { num, type SqlDb } from './sql'

const INSERT_RESULT = `INSERT INTO emulated_results (run_id, line, outcome, part, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, line) DO NOTHING`
const ADD_COUNTS = `UPDATE emulated_runs SET n_succeeded = n_succeeded + ?, n_errored = n_errored + ?, n_expired = n_expired + ?, n_canceled = n_canceled + ? WHERE id = ?`
const PAGE_ROWS = 1000

export class ResultRows {
  constructor(private readonly db: SqlDb) {}

  /**
   * Records several answers in one transaction (the runner's group commit); first answers win.
   * On SQLite the counters move in the same transaction, by the rows really inserted (a per-row
   * trigger cost ~1.5 µs a row, a third of the write); PostgreSQL's statement trigger does it there.
   */
  async append(id: string, results: readonly RecordedResult[]): Promise<void> {
    if (this.db.transaction) {
      await this.db.transaction((run) => {
        const added: Record<Outcome, number> = { succeeded: 0, errored: 0, expired: 0, canceled: 0 }
        for (const r of results) added[r.outcome] += run(INSERT_RESULT, [id, r.line, r.outcome, partOf(r.outcome), r.body])
        run(ADD_COUNTS, [added.succeeded, added.errored, added.expired, added.canceled, id])
      })
      return
    }
    const values = results.map(() => '(?, ?, ?, ?, ?)').join(', ')
    const args = results.flatMap((r) => [id, r.line, r.outcome, partOf(r.outcome), r.body])
    await this.db.run(`INSERT INTO emulated_results (run_id, line, outcome, part, body) VALUES ${values} ON CONFLICT (run_id, line) DO NOTHING`, args)
  }

  /** The lines already answered, as a bitmap over `total`. */
  async recorded(id: string, total: number): Promise<Uint8Array> {
    const done = new Uint8Array(total)
    let after = -1
    for (;;) {
      const rows = await this.db.all<{ line: number | string }>(`SELECT line FROM emulated_results WHERE run_id = ? AND line > ? ORDER BY line LIMIT 5000`, [id, after])
      for (const r of rows) {
        const line = num(r.line)
        if (line < total) done[line] = 1
        after = line
      }
      if (rows.length < 5000) return done
    }
  }

  /** The stored results of one part, in input order, a page at a time. */
  async *results(id: string, part: 'output' | 'error'): AsyncGenerator<RecordedResult[]> {
    let after = -1
    for (;;) {
      const rows = await this.db.all<{ line: number | string; outcome: Outcome; body: string }>(
        `SELECT line, outcome, body FROM emulated_results WHERE run_id = ? AND part = ? AND line > ? ORDER BY line LIMIT ?`,
        [id, part, after, PAGE_ROWS],
      )
      if (rows.length === 0) return
      after = num((rows.at(-1) as { line: number | string }).line)
      yield rows.map((r) => ({ line: num(r.line), outcome: r.outcome, body: r.body }))
      if (rows.length < PAGE_ROWS) return
    }
  }

  async remove(id: string): Promise<void> {
    await this.db.run(`DELETE FROM emulated_results WHERE run_id = ?`, [id])
  }
}
