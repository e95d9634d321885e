// Migration 8 (issue 17): emulated runs recorded under steps 4–7 (counted by COUNT(*) over their rows)
// get counters backfilled from those rows, and later rows move them. Migration 9: on SQLite the
// counters move in recordMany's transaction instead of by a per-row trigger — still all or nothing
// with the rows they count.

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

test('step 8 backfills counts of runs recorded before it, then recordMany keeps them', async () => {
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
    { line: 2, outcome: 'succeeded', body: '{}' },
    { line: 3, outcome: 'expired', body: '{}' },
  ])
  expect(await runs.counts('batch_old')).toEqual({ succeeded: 2, errored: 1, expired: 1, canceled: 0 })
})

test('step 9: no trigger is left; a group whose write fails records nothing and counts nothing', async () => {
  const db = openDatabase(join(dir, 'step9'))
  expect(db.query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all()).toEqual([])
  const runs = new EmulatedRuns(new SqliteDb(db))
  await runs.create({ id: 'batch_9', provider: 'local', endpoint: '/v1/chat/completions', total: 4, model: null, createdAt: 1, expiresAt: 99 })
  await runs.recordMany('batch_9', [{ line: 0, outcome: 'succeeded', body: '{"l":0}' }])
  // The second row breaks NOT NULL: the whole group, and its counts, roll back.
  const broken = [
    { line: 1, outcome: 'succeeded', body: '{"l":1}' },
    { line: 2, outcome: 'errored', body: null as unknown as string },
  ] as const
  expect(runs.recordMany('batch_9', broken)).rejects.toThrow()
  expect(await runs.counts('batch_9')).toEqual({ succeeded: 1, errored: 0, expired: 0, canceled: 0 })
  expect([...(await runs.recorded('batch_9', 4))]).toEqual([1, 0, 0, 0])
  // A duplicate line keeps its first answer and is not counted again.
  await runs.recordMany('batch_9', [
    { line: 0, outcome: 'errored', body: '{"again":0}' },
    { line: 3, outcome: 'canceled', body: '{"l":3}' },
  ])
  expect(await runs.counts('batch_9')).toEqual({ succeeded: 1, errored: 0, expired: 0, canceled: 1 })
})
