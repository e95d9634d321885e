// At-least-once webhooks from the real process (issue 15): the gateway is killed with SIGKILL
// while its delivery is held open by the receiver, restarted while the receiver is down, and
// the receiver still ends with exactly one verified event per batch, under the webhook-id the
// first attempt carried. The failed attempts are in the log and the outbox.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { rows, type SpawnedGateway, spawnGateway, waitFor } from '../resilience/spawned-gateway'
import { type Receiver, startReceiver } from './receiver'

let fakes: AllFakes
let receiver: Receiver
let dataDir: string
let env: Record<string, string>
let gw: SpawnedGateway | null = null

beforeAll(() => {
  fakes = startAllFakes()
  receiver = startReceiver()
  dataDir = mkdtempSync(join(tmpdir(), 'batchgate-webhook-crash-'))
  env = {
    ...fakes.env,
    BATCHGATE_DATA_DIR: dataDir,
    BATCHGATE_WATCH_INTERVAL_MS: '20',
    BATCHGATE_WEBHOOK_URL: receiver.url,
    BATCHGATE_WEBHOOK_SECRET: receiver.secret,
    BATCHGATE_WEBHOOK_RETRY_BASE_MS: '100',
  }
})

afterAll(async () => {
  gw?.proc.kill('SIGKILL')
  await gw?.exited
  await fakes.close()
  receiver.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('kill -9 mid-delivery, receiver down across the restart: one verified event per batch, same webhook-id', async () => {
  receiver.mode = 'hang'
  gw = await spawnGateway(env)
  const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
  const ids: string[] = []
  for (const [provider, model] of [['openai', 'gpt-4o-mini'], ['gemini', 'gemini-2.0-flash']] as const) {
    const file = await uploadBatchFile(client, jsonl(chatLine(`${provider}-1`, 'hello', model)), { provider })
    const b = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', provider, model } as never)
    ids.push(b.id)
  }
  // Both events are being delivered and held open by the receiver: kill the gateway right there.
  await waitFor('both deliveries in flight', () => new Set(receiver.seenIds).size >= 2, 15_000)
  const firstIds = [...new Set(receiver.seenIds)]
  gw.proc.kill('SIGKILL')
  await gw.exited
  expect(receiver.deliveries).toHaveLength(0)

  // Down for a while: every attempt after the restart is refused with 503.
  receiver.mode = 503
  const hitsBefore = receiver.hits
  gw = await spawnGateway(env)
  await waitFor('retries while the receiver is down', () => receiver.hits >= hitsBefore + 4, 15_000)
  const pending = rows<{ attempts: number; delivered_at: number | null; last_error: string }>(dataDir, 'SELECT attempts, delivered_at, last_error FROM webhook_outbox')
  expect(pending).toHaveLength(2)
  expect(pending.every((r) => r.delivered_at === null && r.attempts >= 1 && r.last_error.includes('503'))).toBe(true)
  expect(gw.errors()).toContain('webhook attempt failed')

  receiver.mode = 200
  await waitFor('every event delivered', () => ids.every((id) => receiver.eventsFor(id).length === 1), 20_000)
  for (const id of ids) {
    const [event] = receiver.eventsFor(id)
    expect(event?.event.type).toBe('batch.completed')
    expect(firstIds).toContain(event?.webhookId as string)
  }
  // Every attempt of one event carried the same webhook-id: only two ids were ever seen.
  expect(new Set(receiver.seenIds).size).toBe(2)
  expect(receiver.rejected).toBe(0)
  await waitFor('outbox marked delivered', () =>
    rows<{ n: number }>(dataDir, 'SELECT COUNT(*) AS n FROM webhook_outbox WHERE delivered_at IS NOT NULL')[0]?.n === 2)
  // Nothing more is sent once delivered.
  const settledHits = receiver.hits
  await Bun.sleep(400)
  expect(receiver.hits).toBe(settledHits)
}, 60_000)

test('the watch survives a kill -9: a batch still running at the kill ends settled and announced after the restart', async () => {
  gw?.proc.kill('SIGKILL')
  await gw?.exited
  receiver.mode = 200
  fakes.gemini.autoAdvance = false
  gw = await spawnGateway(env)
  const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
  const file = await uploadBatchFile(client, jsonl(chatLine('late-1', 'hello', 'gemini-2.0-flash')), { provider: 'gemini' })
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', provider: 'gemini', model: 'gemini-2.0-flash' } as never)
  // Polled (and left running) by the watcher before the kill.
  await waitFor('a watcher poll', () => rows<{ n: number }>(dataDir, `SELECT COUNT(*) AS n FROM batches WHERE id = '${created.id}' AND watch_interval_ms IS NOT NULL`)[0]?.n === 1)
  gw.proc.kill('SIGKILL')
  await gw.exited
  fakes.gemini.autoAdvance = true
  gw = await spawnGateway(env)
  await waitFor('the event after the restart', () => receiver.eventsFor(created.id).length === 1, 20_000)
  const settled = rows<{ settled_at: number | null }>(dataDir, `SELECT settled_at FROM batches WHERE id = '${created.id}'`)
  expect(settled[0]?.settled_at).not.toBeNull()
  const history = rows<{ status: string }>(dataDir, `SELECT status FROM batch_status_changes WHERE batch_id = '${created.id}' ORDER BY at`).map((r) => r.status)
  expect(history).toContain('completed')
}, 60_000)
