// store/checkpointer.ts: once an emulated run's group commits start (runs recorded as rows: on
// SQLite those begun before the result log, see store/emulated-log.ts), the WAL is copied into the
// database file by a worker thread, not inside the commits (whose own threshold moves to 10 000
// pages), the log is emptied once it holds 16 MiB, and closing the store still ends with
// everything in the database file.

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmulatedRuns } from '../../src/store/emulated-runs'
import { openStore, type SqliteStore } from '../../src/store/store'

/** The store's runs recorded as rows (PostgreSQL's way; SQLite's before the log). */
const asRows = (store: SqliteStore) => new EmulatedRuns(store.sql)

async function lastResults(runs: EmulatedRuns, id: string, n: number): Promise<string[]> {
  const out: string[] = []
  for await (const group of runs.results(id, 'output')) out.push(...group.map((r) => r.body))
  return out.slice(-n)
}

const dir = mkdtempSync(join(tmpdir(), 'batchgate-ckpt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sizeOf = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

async function waitFor(what: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(20)) if (what()) return true
  return what()
}

test('group commits are checkpointed by the worker thread; the store closes with every row in the database file', async () => {
  const store = openStore(dir)
  const runs = asRows(store)
  const file = join(dir, 'batchgate.sqlite')
  const pragma = (name: string) => Object.values(store.db.query(`PRAGMA ${name}`).get() as object)[0]
  expect(pragma('wal_autocheckpoint')).toBe(1000)
  await runs.create({ id: 'batch_ckpt', provider: 'local', endpoint: '/v1/chat/completions', total: 2000, model: null, createdAt: 1, expiresAt: 99 })
  const before = sizeOf(file)
  const body = 'x'.repeat(1000)
  // ~2 MB in 500 commits: far below the commits' own threshold of 10 000 pages.
  for (let g = 0; g < 500; g++) {
    await runs.recordMany('batch_ckpt', [0, 1, 2, 3].map((k) => ({ line: g * 4 + k, outcome: 'succeeded' as const, body: `${body}${g * 4 + k}` })))
  }
  expect(pragma('wal_autocheckpoint')).toBe(10_000)
  expect(await waitFor(() => sizeOf(file) > before + 1_500_000, 3000)).toBe(true)
  await store.close()

  const again = openStore(dir)
  expect(await asRows(again).counts('batch_ckpt')).toEqual({ succeeded: 2000, errored: 0, expired: 0, canceled: 0 })
  expect(await lastResults(asRows(again), 'batch_ckpt', 1)).toEqual([`${body}1999`])
  await again.close()
})

test('the log is emptied while commits keep coming, so it does not grow with the batch', async () => {
  const sub = join(dir, 'rewind')
  const store = openStore(sub)
  const runs = asRows(store)
  const wal = join(sub, 'batchgate.sqlite-wal')
  await runs.create({ id: 'batch_big', provider: 'local', endpoint: '/v1/chat/completions', total: 40_000, model: null, createdAt: 1, expiresAt: 99 })
  const body = 'y'.repeat(1500)
  // ~60 MB of rows in commits a few milliseconds apart, as a running batch writes them. Only a
  // TRUNCATE checkpoint shrinks the file (a rewind by the commits reuses it at its size).
  let shrank = false
  let last = 0
  for (let g = 0; g < 2000; g++) {
    await runs.recordMany('batch_big', Array.from({ length: 20 }, (_, k) => ({ line: g * 20 + k, outcome: 'succeeded' as const, body })))
    if (g % 50 === 0) await Bun.sleep(5)
    const size = sizeOf(wal)
    if (size < last) shrank = true
    last = size
  }
  expect(shrank).toBe(true)
  expect(await runs.counts('batch_big')).toEqual({ succeeded: 40_000, errored: 0, expired: 0, canceled: 0 })
  await store.close()
})
