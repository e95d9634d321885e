// Emulated batches on PostgreSQL with two gateway processes sharing the store (issue 17): each run
// is leased, so while both instances live no request is sent twice (the chat server's counts
// prove it); kill -9 of the instance running a batch hands that batch to the survivor, which
// completes it without sending any recorded request again (only the dead one's in-flight ones).

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expandResult } from '../../src/convert/results/emulated-line'
import OpenAI from 'openai'
import { SQL } from 'bun'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type ChatFake, startChatFake } from '../fakes/chat-completions'
import { DEFAULT_AWS_CREDENTIALS, type S3Fake, startS3Fake } from '../fakes/s3'
import { sharedPostgres } from '../pg/server'
import { type SpawnedGateway, spawnGateway, waitFor } from '../resilience/spawned-gateway'

// Long enough that a gateway starved of CPU by parallel test suites still renews its leases in
// time (at 1.5 s a stalled heartbeat let the other instance take a live run over: a flaky repeat).
const TTL_MS = 3000
const CONCURRENCY = 8
const TOTAL = 2000
const BUCKET = 'batchgate-emulated'

const dirs: string[] = []
const live: SpawnedGateway[] = []
let fake: ChatFake
let s3: S3Fake
let db: SQL
let env: Record<string, string>

const tempDir = (tag: string) => {
  const dir = mkdtempSync(join(tmpdir(), `batchgate-${tag}-`))
  dirs.push(dir)
  return dir
}

/** Spawns one instance and returns it with its instance id (the row it added to `instances`). */
async function spawnInstance(): Promise<{ gw: SpawnedGateway; id: string; client: OpenAI }> {
  // The first instance creates the tables (migrations run at start).
  const before = new Set(((await db`SELECT id FROM instances`.catch(() => [])) as { id: string }[]).map((r) => r.id))
  const gw = await spawnGateway({ ...env, BATCHGATE_DATA_DIR: tempDir('emu-multi') })
  live.push(gw)
  const added = (await db`SELECT id FROM instances`).map((r: { id: string }) => r.id).filter((id: string) => !before.has(id))
  expect(added).toHaveLength(1)
  return { gw, id: added[0] as string, client: new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 }) }
}

const holderOf = async (batchId: string): Promise<string | null> =>
  ((await db`SELECT holder FROM leases WHERE name = ${`emulated:${batchId}`}`)[0] as { holder: string } | undefined)?.holder ?? null

const recordedIds = async (batchId: string): Promise<string[]> =>
  (await db`SELECT line, body FROM emulated_results WHERE run_id = ${batchId}`).map(
    (r: { line: string; body: string }) => JSON.parse(expandResult(batchId, Number(r.line), r.body)).custom_id as string,
  )

// Every prompt is SLOW (the fake waits slowMs), so each batch runs for a few seconds.
const prompt = (tag: string, i: number) => `SLOW ${tag}-${i}`
const input = (tag: string) => jsonl(...Array.from({ length: TOTAL }, (_, i) => chatLine(`${tag}-${i}`, prompt(tag, i), 'm')))

beforeAll(async () => {
  // 2000 requests at 8 in flight and 40 ms each: about 10 s per batch, so both still run at the kill
  // (30 % sent, then one TTL).
  fake = startChatFake({ slowMs: 40 })
  s3 = startS3Fake({ buckets: [BUCKET] })
  const dbUrl = await (await sharedPostgres()).freshDatabase('emulated_multi')
  db = new SQL(dbUrl, { max: 2 })
  const config = join(tempDir('emu-config'), 'batchgate.toml')
  writeFileSync(config, `[providers.local]\nkind = "emulated"\nbase_url = "${fake.url}"\napi_key_env = "LOCAL_KEY"\nconcurrency = ${CONCURRENCY}\n`)
  env = {
    BATCHGATE_CONFIG: config,
    LOCAL_KEY: fake.apiKey,
    BATCHGATE_DATABASE_URL: dbUrl,
    BATCHGATE_BLOB_URL: `s3://${BUCKET}/gateway-blobs`,
    AWS_ACCESS_KEY_ID: DEFAULT_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_AWS_CREDENTIALS.secretAccessKey,
    AWS_REGION: DEFAULT_AWS_CREDENTIALS.region,
    S3_ENDPOINT: s3.url,
    BATCHGATE_LEASE_TTL_MS: String(TTL_MS),
  }
}, 30_000)

afterAll(async () => {
  for (const gw of live) gw.proc.kill('SIGKILL')
  await Promise.all(live.map((gw) => gw.exited))
  await db?.close()
  await fake?.close()
  await s3?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

test('two instances on PostgreSQL: runs are leased, a killed instance’s batch completes on the other with no recorded request repeated', async () => {
  const a = await spawnInstance()
  const b = await spawnInstance()

  // One batch created through each instance; both instances also scan for open runs every TTL/2.
  const fileA = await uploadBatchFile(a.client, input('a'), { provider: 'local' })
  const batchA = await a.client.batches.create({ input_file_id: fileA.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  const fileB = await uploadBatchFile(b.client, input('b'), { provider: 'local' })
  const batchB = await b.client.batches.create({ input_file_id: fileB.id, endpoint: '/v1/chat/completions', completion_window: '24h' })

  await waitFor('30 % of both batches sent', () => fake.received() >= TOTAL * 2 * 0.3, 60_000)
  // Several scans of both instances have passed (one every TTL/2): still nothing sent twice.
  await Bun.sleep(TTL_MS)
  expect(Math.max(...fake.counts.values())).toBe(1)
  const holderA = await holderOf(batchA.id)
  const holderB = await holderOf(batchB.id)
  expect([a.id, b.id]).toContain(holderA as string)
  expect([a.id, b.id]).toContain(holderB as string)

  // Kill the instance running batch A mid-run; the other one must finish what it held.
  const victim = holderA === a.id ? a : b
  const survivor = victim === a ? b : a
  victim.gw.proc.kill('SIGKILL')
  await victim.gw.exited
  live.splice(live.indexOf(victim.gw), 1)
  const recordedAtKill = await recordedIds(batchA.id)
  expect(recordedAtKill.length).toBeGreaterThan(0)
  expect(recordedAtKill.length).toBeLessThan(TOTAL)
  const countsAtKill = new Map(fake.counts)

  const ended: OpenAI.Batch[] = []
  for (const batch of [batchA, batchB]) {
    let done: OpenAI.Batch | undefined
    await waitFor(
      `${batch.id} to complete on the survivor`,
      async () => {
        done = await survivor.client.batches.retrieve(batch.id)
        return done.status === 'completed'
      },
      120_000,
    )
    ended.push(done as OpenAI.Batch)
  }
  for (const done of ended) expect(done.request_counts).toEqual({ total: TOTAL, completed: TOTAL, failed: 0 })
  // The survivor took the dead instance's lease over.
  expect(await holderOf(batchA.id)).not.toBe(victim.id)

  // No request recorded before the kill went out again.
  for (const id of recordedAtKill) {
    const p = prompt('a', Number(id.slice(2)))
    expect(fake.counts.get(p)).toBe(countsAtKill.get(p) as number)
  }
  // Only batch A's requests in flight at the kill were repeated; a batch the victim did not run never repeats.
  const repeatedA = Array.from({ length: TOTAL }, (_, i) => fake.counts.get(prompt('a', i)) ?? 0)
  expect(repeatedA.every((n) => n >= 1)).toBe(true)
  expect(repeatedA.filter((n) => n > 1).length).toBeLessThanOrEqual(CONCURRENCY)
  const repeatedB = Array.from({ length: TOTAL }, (_, i) => fake.counts.get(prompt('b', i)) ?? 0)
  expect(repeatedB.every((n) => n >= 1)).toBe(true)
  if (holderB === survivor.id) expect(repeatedB.every((n) => n === 1)).toBe(true)
  else expect(repeatedB.filter((n) => n > 1).length).toBeLessThanOrEqual(CONCURRENCY)

  // Both result files hold exactly one line per request, in input order.
  for (const [done, tag] of [
    [ended[0], 'a'],
    [ended[1], 'b'],
  ] as const) {
    const text = await (await survivor.client.files.content(done?.output_file_id as string)).text()
    const ids = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id)
    expect(ids).toEqual(Array.from({ length: TOTAL }, (_, i) => `${tag}-${i}`))
  }
}, 240_000)

test('a cancel sent to the instance not running the batch stops the runner on the other one', async () => {
  // A fresh instance beside the survivor of the previous test.
  const fresh = await spawnInstance()
  const running = [...live].filter((gw) => gw !== fresh.gw)
  expect(running).toHaveLength(1)
  const other = { gw: running[0] as SpawnedGateway, client: new OpenAI({ baseURL: `${(running[0] as SpawnedGateway).url}/openai/v1`, apiKey: 'x', maxRetries: 0 }) }
  const total = 1000
  const tag = 'c'
  const file = await uploadBatchFile(fresh.client, input(tag).split('\n').slice(0, total).join('\n') + '\n', { provider: 'local' })
  const batch = await fresh.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  await waitFor('the run to be leased and under way', async () => (await holderOf(batch.id)) !== null && (await recordedIds(batch.id)).length >= 50, 30_000)
  // Cancel through whichever instance does not hold the run.
  const canceller = (await holderOf(batch.id)) === fresh.id ? other.client : fresh.client
  expect((await canceller.batches.cancel(batch.id)).status).toBe('cancelling')
  let done: OpenAI.Batch | undefined
  await waitFor(
    'the batch to end cancelled',
    async () => {
      done = await canceller.batches.retrieve(batch.id)
      return done.status === 'cancelled'
    },
    30_000,
  )
  const sentAtEnd = Array.from({ length: total }, (_, i) => fake.counts.get(prompt(tag, i)) ?? 0)
  const sent = sentAtEnd.filter((n) => n > 0).length
  expect(sent).toBeLessThan(total)
  expect(sentAtEnd.every((n) => n <= 1)).toBe(true)
  // Every request sent was let finish and recorded; the rest end batch_cancelled.
  expect(done?.request_counts).toEqual({ total, completed: sent, failed: total - sent })
  const errors = (await (await canceller.files.content(done?.error_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
  expect(errors).toHaveLength(total - sent)
  expect(errors.every((e) => e.error.code === 'batch_cancelled' && e.response === null)).toBe(true)
  // Nothing goes out after the end.
  await Bun.sleep(300)
  expect(Array.from({ length: total }, (_, i) => fake.counts.get(prompt(tag, i)) ?? 0)).toEqual(sentAtEnd)
}, 120_000)
