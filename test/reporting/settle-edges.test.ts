// Settlement edges: a batch a client polled to its end is settled (and announced) at the watcher's
// next tick, not after its backoff; results that stay unreadable a day after the batch ended
// settle it with every request missing instead of holding accounting and webhooks for ever.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { Settlement } from '../../src/core/settlement'
import type { BatchService } from '../../src/core/batch-service'
import { chatLine, jsonl, pollToEnd, uploadBatchFile } from '../e2e/openai-seed'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { eventually, type Receiver, startReceiver } from './receiver'

let fakes: AllFakes
let gw: Gateway
let receiver: Receiver
let client: OpenAI

beforeAll(async () => {
  fakes = startAllFakes()
  receiver = startReceiver()
  // A long interval: the watcher would not poll these batches during the test on its own.
  gw = await startGateway({ ...fakes.env, BATCHGATE_WATCH_INTERVAL_MS: '600000', BATCHGATE_WEBHOOK_URL: receiver.url, BATCHGATE_WEBHOOK_SECRET: receiver.secret })
  client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
  gw.services.watcher.start()
})

afterAll(async () => {
  await gw.services.watcher.stop()
  await gw.close()
  await fakes.close()
  receiver.close()
})

async function completedBatch(tag: string): Promise<string> {
  const file = await uploadBatchFile(client, jsonl(chatLine(`${tag}-1`, 'hello', 'gpt-4o-mini')))
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  const { batch } = await pollToEnd(client, created.id)
  expect(batch.status).toBe('completed')
  return batch.id
}

test('a batch a client polled to its end is settled and announced within a tick', async () => {
  const id = await completedBatch('polled')
  await eventually(() => receiver.eventsFor(id).length === 1, 5_000, 'the webhook')
  const batch = await client.batches.retrieve(id)
  expect(batch.usage?.total_tokens).toBeGreaterThan(0)
})

test('results unreadable a day after the end: settled with every request missing, webhook sent', async () => {
  // No watcher while the batch ends, so the settlement below is the first.
  await gw.services.watcher.stop()
  const id = await completedBatch('lost')
  const stored = await gw.store.batches.get(id, 'default')
  if (!stored) throw new Error('no batch')
  const failing = { allResults: () => { throw new Error('upstream results are gone') } } as unknown as BatchService
  const settlement = new Settlement(gw.services.config, gw.store, failing)
  const fresh = { ...stored, usage: null }
  const ended = (stored.snapshot.times.completedAt as number) * 1000
  expect(stored.usage).toBeNull()
  await expect(settlement.settle(fresh, ended + 3600 * 1000)).rejects.toThrow('upstream results are gone')
  expect(await settlement.settle(fresh, ended + 25 * 3600 * 1000)).toBe(true)
  const usage = (await gw.store.batches.get(id, 'default'))?.usage
  expect(usage).toMatchObject({ models: [], missingLines: 1, badLines: 0 })
  gw.services.watcher.start()
  await eventually(() => receiver.eventsFor(id).length === 1, 5_000, 'the webhook')
})
