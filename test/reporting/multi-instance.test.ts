// Three gateway processes on one PostgreSQL (a real server the tests start), blobs in the S3
// fake, every watcher running: batches created round-robin and never polled end settled once
// and announced once, whichever instance happened to hold each lease (issue 15).

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { SQL } from 'bun'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { sharedPostgres } from '../pg/server'
import { type SpawnedGateway, spawnGateway, waitFor } from '../resilience/spawned-gateway'
import { type Receiver, startReceiver } from './receiver'

let fakes: AllFakes
let receiver: Receiver
let db: SQL
const dirs: string[] = []
const live: SpawnedGateway[] = []

beforeAll(async () => {
  fakes = startAllFakes()
  receiver = startReceiver()
  const dbUrl = await (await sharedPostgres()).freshDatabase('watch')
  db = new SQL(dbUrl, { max: 2 })
  const env = {
    ...fakes.env,
    BATCHGATE_DATABASE_URL: dbUrl,
    BATCHGATE_BLOB_URL: `s3://${TEST_BUCKET}/watch-blobs`,
    BATCHGATE_LEASE_TTL_MS: '1500',
    BATCHGATE_WATCH_INTERVAL_MS: '20',
    BATCHGATE_WEBHOOK_URL: receiver.url,
    BATCHGATE_WEBHOOK_SECRET: receiver.secret,
    BATCHGATE_WEBHOOK_RETRY_BASE_MS: '50',
  }
  for (let i = 0; i < 3; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'batchgate-watch-multi-'))
    dirs.push(dataDir)
    live.push(await spawnGateway({ ...env, BATCHGATE_DATA_DIR: dataDir }))
  }
}, 30_000)

afterAll(async () => {
  for (const gw of live) {
    gw.proc.kill('SIGTERM')
    await gw.exited
  }
  await db?.close()
  await fakes?.close()
  receiver?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

test('each batch is settled by exactly one instance and its event delivered once', async () => {
  const lanes = [
    ['openai', 'gpt-4o-mini'],
    ['gemini', 'gemini-2.0-flash'],
    ['anthropic', 'claude-3-haiku-20240307'],
  ] as const
  const ids: string[] = []
  for (let i = 0; i < 12; i++) {
    const gw = live[i % live.length] as SpawnedGateway
    const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
    const [provider, model] = lanes[i % lanes.length] as (typeof lanes)[number]
    const file = await uploadBatchFile(client, jsonl(chatLine(`r${i}-1`, 'hello there', model), chatLine(`r${i}-2`, 'FAIL', model)), { provider })
    const b = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', provider, model } as never)
    ids.push(b.id)
  }
  await waitFor('every batch announced', () => ids.every((id) => receiver.eventsFor(id).length === 1), 30_000)
  await Bun.sleep(300) // room for a duplicate to show up, were there one

  // One settlement each: the log line is written only by the instance whose settlement won.
  const settledLines = live.flatMap((gw) => gw.output().split('\n').filter((l) => l.includes('"batch usage settled"')))
  for (const id of ids) expect(settledLines.filter((l) => l.includes(`"batch":"${id}"`))).toHaveLength(1)
  const rows = await db`SELECT batch_id, COUNT(*)::int AS n FROM batch_usage GROUP BY batch_id`
  expect(rows.length).toBe(ids.length)
  const unsettled = await db`SELECT COUNT(*)::int AS n FROM batches WHERE settled_at IS NULL AND state = 'ready'`
  expect(unsettled[0].n).toBe(0)

  // One delivery per event: no instance sent an event another had already sent.
  expect(receiver.deliveries).toHaveLength(ids.length)
  expect(new Set(receiver.seenIds).size).toBe(ids.length)
  expect(receiver.rejected).toBe(0)
  const outbox = await db`SELECT COUNT(*)::int AS n FROM webhook_outbox WHERE delivered_at IS NOT NULL AND attempts = 1`
  expect(outbox[0].n).toBe(ids.length)
}, 60_000)
