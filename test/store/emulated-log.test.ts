// store/emulated-log.ts: an emulated run's answers appended to one file per run on SQLite. What a
// record counts for, what a crash in the middle of a write leaves, and that the index kept while
// appending says what a fresh read of the file says.

import { afterAll, describe, expect, test } from 'bun:test'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ResultLog } from '../../src/store/emulated-log'
import type { Outcome, RecordedResult } from '../../src/store/emulated-result'

const root = mkdtempSync(join(tmpdir(), 'batchgate-rlog-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => join(root, `d${n++}`)

const rec = (line: number, outcome: Outcome, body = `{"l":${line}}`): RecordedResult => ({ line, outcome, body })

async function all(log: ResultLog, run: string, part: 'output' | 'error', total: number): Promise<RecordedResult[]> {
  const out: RecordedResult[] = []
  for await (const group of log.results(run, part, total)) out.push(...group)
  return out
}

describe('result log', () => {
  test('counts and the done map follow the first record of each line; result files take it too, in arrival order', async () => {
    const dir = freshDir()
    const log = new ResultLog(dir)
    log.append('batch_a', [rec(3, 'succeeded'), rec(1, 'errored')])
    log.append('batch_a', [rec(3, 'errored', '{"again":3}'), rec(0, 'succeeded'), rec(4, 'expired'), rec(2, 'canceled')])
    const index = await log.index('batch_a', 6)
    expect(index.counts).toEqual({ succeeded: 2, errored: 1, expired: 1, canceled: 1 })
    expect([...index.done].map((v) => (v === 0 ? 0 : 1))).toEqual([1, 1, 1, 1, 1, 0])
    expect(await all(log, 'batch_a', 'output', 6)).toEqual([rec(3, 'succeeded'), rec(0, 'succeeded')])
    expect((await all(log, 'batch_a', 'error', 6)).map((r) => r.line)).toEqual([1, 4, 2])
    // Another handle reading the file from scratch agrees with the index kept while appending.
    expect((await new ResultLog(dir).index('batch_a', 6)).counts).toEqual(index.counts)
    log.close()
  })

  test('answers in any script survive the round trip (lengths are UTF-16 units, the file UTF-8)', async () => {
    const log = new ResultLog(freshDir())
    const body = '@200\t"é-1"\t\t{"content":"日本語 🙂 \\" tab\there"}'
    log.append('batch_u', [rec(0, 'succeeded', body)])
    expect(await all(log, 'batch_u', 'output', 1)).toEqual([rec(0, 'succeeded', body)])
    log.close()
  })

  test('a record torn by a crash does not count; the next writer closes it off and goes on', async () => {
    const dir = freshDir()
    const first = new ResultLog(dir)
    first.append('batch_t', [rec(0, 'succeeded'), rec(1, 'succeeded')])
    first.close()
    const file = join(dir, 'emulated', 'batch_t.log')
    // The process died in the middle of writing line 2's record: its end never reached the file.
    appendFileSync(file, '2\ts\t7\t{"l":')
    const after = new ResultLog(dir)
    expect((await after.index('batch_t', 4)).counts.succeeded).toBe(2)
    expect([...(await after.index('batch_t', 4)).done].map((v) => (v === 0 ? 0 : 1))).toEqual([1, 1, 0, 0])
    // Line 2 is sent again and recorded whole after the torn piece.
    after.append('batch_t', [rec(2, 'succeeded'), rec(3, 'errored')])
    expect((await after.index('batch_t', 4)).counts).toEqual({ succeeded: 3, errored: 1, expired: 0, canceled: 0 })
    expect((await all(after, 'batch_t', 'output', 4)).map((r) => r.body)).toEqual(['{"l":0}', '{"l":1}', '{"l":2}'])
    expect(readFileSync(file, 'utf8')).toContain('2\ts\t7\t{"l":\n2\ts\t7\t{"l":2}\n')
    after.close()
  })

  test('a line whose length does not match its record, or that is no record, is ignored', async () => {
    const dir = freshDir()
    const log = new ResultLog(dir)
    log.append('batch_c', [rec(0, 'succeeded')])
    appendFileSync(join(dir, 'emulated', 'batch_c.log'), '1\ts\t99\t{"short":1}\nnot a record\n2\tq\t2\t{}\n')
    log.append('batch_c', [rec(3, 'succeeded')])
    const fresh = new ResultLog(dir)
    expect((await fresh.index('batch_c', 4)).counts.succeeded).toBe(2)
    expect((await all(fresh, 'batch_c', 'output', 4)).map((r) => r.line)).toEqual([0, 3])
    log.close()
  })

  test('an index being read when a group lands still ends up counting every record once', async () => {
    const dir = freshDir()
    const log = new ResultLog(dir)
    const total = 20_000
    for (let g = 0; g < 100; g++) log.append('batch_r', Array.from({ length: 100 }, (_, k) => rec(g * 100 + k, 'succeeded', 'x'.repeat(200))))
    const reading = log.index('batch_r', total)
    log.append('batch_r', [rec(15_000, 'errored')])
    await reading
    log.append('batch_r', [rec(15_001, 'canceled')])
    const index = await log.index('batch_r', total)
    expect(index.counts).toEqual({ succeeded: 10_000, errored: 1, expired: 0, canceled: 1 })
    expect((await new ResultLog(dir).index('batch_r', total)).counts).toEqual(index.counts)
    log.close()
  })

  test('remove deletes the run’s file; a run never written has nothing to read', async () => {
    const dir = freshDir()
    const log = new ResultLog(dir)
    log.append('batch_x', [rec(0, 'succeeded')])
    log.remove('batch_x')
    expect(existsSync(join(dir, 'emulated', 'batch_x.log'))).toBe(false)
    expect((await log.index('batch_x', 1)).counts.succeeded).toBe(0)
    expect(await all(log, 'batch_none', 'output', 1)).toEqual([])
  })
})

test('the start-up sweep removes result logs whose run is gone, and keeps the others', async () => {
  const { openStore } = await import('../../src/store/store')
  const dir = freshDir()
  const store = openStore(dir)
  try {
    await store.emulated.create({ id: 'batch_kept', provider: 'local', endpoint: '/v1/chat/completions', total: 2, model: null, createdAt: 1, expiresAt: 99 })
    await store.emulated.recordMany('batch_kept', [rec(0, 'succeeded')])
    // A log left by a run whose row is gone (deleted, or a database restored from before it).
    const other = new ResultLog(dir)
    other.append('batch_gone', [rec(0, 'succeeded')])
    other.close()
    expect(await store.emulated.removeOrphanLogs()).toBe(1)
    expect(existsSync(join(dir, 'emulated', 'batch_gone.log'))).toBe(false)
    expect((await store.emulated.get('batch_kept'))?.counts.succeeded).toBe(1)
  } finally {
    await store.close()
  }
})

test('counts of a run this handle does not hold are read without keeping anything', async () => {
  const dir = freshDir()
  const writer = new ResultLog(dir)
  writer.append('batch_other', [rec(0, 'succeeded'), rec(1, 'errored')])
  writer.close()
  const reader = new ResultLog(dir)
  expect(await reader.counts('batch_other', 2)).toEqual({ succeeded: 1, errored: 1, expired: 0, canceled: 0 })
  // Nothing held: a later append by the reader starts from a fresh index, and still counts right.
  reader.append('batch_other', [rec(1, 'succeeded')])
  expect(await reader.counts('batch_other', 2)).toEqual({ succeeded: 1, errored: 1, expired: 0, canceled: 0 })
  reader.close()
})

test('an ended run leaves nothing in the store handle: reads of old batches do not pile up', async () => {
  const { openStore } = await import('../../src/store/store')
  const store = openStore(freshDir())
  const held = () => (store.emulated as unknown as { known: Map<string, unknown> }).known.size
  try {
    await store.emulated.create({ id: 'batch_end', provider: 'local', endpoint: '/v1/chat/completions', total: 1, model: null, createdAt: 1, expiresAt: 99 })
    await store.emulated.recordMany('batch_end', [rec(0, 'succeeded')])
    expect(held()).toBe(1)
    await store.emulated.setStatus('batch_end', 'completed', 2)
    expect(held()).toBe(0)
    // Reading the ended batch (a poll, a download) keeps nothing either.
    expect((await store.emulated.get('batch_end'))?.counts.succeeded).toBe(1)
    for await (const group of store.emulated.results('batch_end', 'output')) expect(group.map((r) => r.line)).toEqual([0])
    expect(held()).toBe(0)
  } finally {
    await store.close()
  }
})

test('a run recorded as rows before the log (an upgrade mid-run) is finished and read as rows', async () => {
  const { openStore } = await import('../../src/store/store')
  const { EmulatedRuns } = await import('../../src/store/emulated-runs')
  const dir = freshDir()
  // The previous version: the same database, runs recorded as rows (no log).
  const before = openStore(dir)
  const asRows = new EmulatedRuns(before.sql)
  await asRows.create({ id: 'batch_old', provider: 'local', endpoint: '/v1/chat/completions', total: 3, model: null, createdAt: 1, expiresAt: 99 })
  await asRows.recordMany('batch_old', [rec(0, 'succeeded')])
  await before.close()
  // This version resumes it: its answers still go to rows, and its counts and results come from them.
  const after = openStore(dir)
  try {
    await after.emulated.recordMany('batch_old', [rec(1, 'errored'), rec(2, 'succeeded')])
    expect((await after.emulated.get('batch_old'))?.counts).toEqual({ succeeded: 2, errored: 1, expired: 0, canceled: 0 })
    expect([...(await after.emulated.recorded('batch_old', 3))]).toEqual([1, 1, 1])
    const output: number[] = []
    for await (const group of after.emulated.results('batch_old', 'output')) output.push(...group.map((r) => r.line))
    expect(output).toEqual([0, 2])
    expect(existsSync(join(dir, 'emulated', 'batch_old.log'))).toBe(false)
    // A run created now goes to the log.
    await after.emulated.create({ id: 'batch_new', provider: 'local', endpoint: '/v1/chat/completions', total: 1, model: null, createdAt: 1, expiresAt: 99 })
    await after.emulated.recordMany('batch_new', [rec(0, 'succeeded')])
    expect(existsSync(join(dir, 'emulated', 'batch_new.log'))).toBe(true)
  } finally {
    await after.close()
  }
})
