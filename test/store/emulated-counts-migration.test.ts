// Migration 8 (issue 17): emulated runs recorded under steps 4–7 (counted by COUNT(*) over their rows)
// get counters backfilled from those rows, and later rows move them through the trigger.

import { Database } from 'bun:sqlite'
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/store/db'
import { EmulatedRuns } from '../../src/store/emulated-runs'
import { forSqlite, MIGRATIONS } from '../../src/store/migrations'
import { SqliteDb } from '../../src/store/sqlite-db'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-mig7-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('step 8 backfills counts of runs recorded before it, then the trigger keeps them', async () => {
  const old = new Database(join(dir, 'batchgate.sqlite'), { strict: true })
  for (const step of MIGRATIONS.slice(0, 7)) old.exec(forSqlite(step))
  old.exec('PRAGMA user_version = 7')
  old.run(`INSERT INTO emulated_runs (id, provider, endpoint, total, status, created_at, expires_at) VALUES ('batch_old', 'local', '/v1/chat/completions', 5, 'in_progress', 1, 99)`)
  for (const [line, outcome] of [[0, 'succeeded'], [1, 'succeeded'], [2, 'errored']] as const) {
    old.run(`INSERT INTO emulated_results (run_id, line, outcome, part, body) VALUES ('batch_old', ?, ?, 'output', '{}')`, [line, outcome])
  }
  old.close()

  const runs = new EmulatedRuns(new SqliteDb(openDatabase(dir)))
  expect(await runs.counts('batch_old')).toEqual({ succeeded: 2, errored: 1, expired: 0, canceled: 0 })
  await runs.recordMany('batch_old', [
    { line: 2, outcome: 'succeeded', part: 'output', body: '{}' },
    { line: 3, outcome: 'expired', part: 'error', body: '{}' },
  ])
  expect(await runs.counts('batch_old')).toEqual({ succeeded: 2, errored: 1, expired: 1, canceled: 0 })
})
