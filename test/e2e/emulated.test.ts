// kind = "emulated" (issue 17): the gateway runs batches itself against an OpenAI-compatible
// chat-completions server (test/fakes/chat-completions.ts), driven by both official SDKs.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { type ChatFake, startChatFake } from '../fakes/chat-completions'
import { type ConfigWorld, instanceToml, startConfigWorld } from './config-world'
import { chatLine, jsonl, readResults, uploadBatchFile } from './openai-seed'

const MODEL = 'llama3.2:1b'

async function waitEnd(client: OpenAI, id: string, timeoutMs = 60_000): Promise<OpenAI.Batch> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const b = await client.batches.retrieve(id)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b
    if (Date.now() > until) throw new Error(`batch ${id} still ${b.status}`)
    await Bun.sleep(100)
  }
}

function world(fake: ChatFake, extra: Record<string, string | number> = {}, name = 'local'): Promise<ConfigWorld> {
  return startConfigWorld(instanceToml(name, 'emulated', fake.url, 'LOCAL_KEY', { concurrency: 4, ...extra }), { LOCAL_KEY: fake.apiKey })
}

describe('emulated provider', () => {
  let fake: ChatFake
  let w: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    fake = startChatFake({ slowMs: 400 })
    w = await world(fake, { models: ['llama3.2:1b'] as unknown as string } as never)
    client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await w.close()
    await fake.close()
  })

  test('OpenAI SDK seed workflow: answers, a 400 in the error file, a 429 retried after retry-after', async () => {
    const input = jsonl(chatLine('e-1', 'What is 2+2?', MODEL), chatLine('e-2', 'FAIL here', MODEL), chatLine('e-3', 'RATE1 then fine', MODEL))
    const file = await uploadBatchFile(client, input, { provider: 'local' })
    expect(await (await client.files.content(file.id)).text()).toBe(input)
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(['validating', 'in_progress']).toContain(batch.status)
    const done = await waitEnd(client, batch.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 })
    const results = await readResults(client, done)
    expect(results.answers).toEqual({ 'e-1': 'Reply to: What is 2+2?', 'e-3': 'Reply to: RATE1 then fine' })
    expect(results.errors).toEqual({ 'e-2': { status_code: 400, code: null } })
    expect(fake.counts.get('RATE1 then fine')).toBe(2)
    expect(fake.counts.get('What is 2+2?')).toBe(1)
  })

  test('usage settles through the normal results path: counts and tokens per model', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('u-1', 'one two three', MODEL), chatLine('u-2', 'FAIL now', MODEL)), { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect((await waitEnd(client, batch.id)).status).toBe('completed')
    const stored = await w.gw.store.batches.get(batch.id, 'default')
    expect(stored).not.toBeNull()
    expect(await w.gw.services.settlement.settle(stored as NonNullable<typeof stored>)).toBe(true)
    const rows = await w.gw.store.usage.rows({ tenants: null, startTime: 0, endTime: Math.ceil(Date.now() / 1000) + 60, batchIds: [batch.id] })
    expect(rows).toHaveLength(1)
    // The fake counts words: "one two three" is 3 prompt tokens, "Reply to: one two three" 5.
    expect(rows[0]).toMatchObject({ provider: 'local', model: MODEL, succeeded: 1, errored: 1, inputTokens: 3, outputTokens: 5 })
  })

  test('a model outside the allowlist is refused at create, before anything runs', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('m-1', 'x', 'gpt-4o')), { provider: 'local' })
    const before = fake.received()
    const err = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'gpt-4o' } as never).catch((e) => e)
    expect(err.status).toBe(400)
    expect(fake.received()).toBe(before)
  })

  test('an allowed create model does not let lines naming another model through: they end model_not_found, unsent', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('n-1', 'not sent one', 'gpt-4o'), chatLine('n-2', 'not sent two', 'gpt-4o')), { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never)
    const done = await waitEnd(client, batch.id)
    expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 })
    expect(fake.counts.get('not sent one')).toBeUndefined()
    expect(fake.counts.get('not sent two')).toBeUndefined()
    const errors = (await (await client.files.content(done.error_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(errors.map((e) => [e.custom_id, e.response.status_code, e.response.body.error.code]).sort()).toEqual([
      ['n-1', 404, 'model_not_found'],
      ['n-2', 404, 'model_not_found'],
    ])
  })

  test('Anthropic SDK: inline requests through x-model-provider, results in the Anthropic shape', async () => {
    const anthropic = new Anthropic({ baseURL: `${w.gw.url}/anthropic`, apiKey: 'x', maxRetries: 0, defaultHeaders: { 'x-model-provider': 'local' } })
    const created = await anthropic.messages.batches.create({
      requests: [
        { custom_id: 'a-1', params: { model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'Hello there' }] } },
        { custom_id: 'a-2', params: { model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'FAIL please' }] } },
      ],
    })
    let b = created
    for (let i = 0; i < 300 && b.processing_status !== 'ended'; i++) {
      await Bun.sleep(100)
      b = await anthropic.messages.batches.retrieve(created.id)
    }
    expect(b.processing_status).toBe('ended')
    expect(b.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 })
    const out: Record<string, string> = {}
    for await (const line of await anthropic.messages.batches.results(created.id)) {
      const r = line.result
      out[line.custom_id] = r.type === 'succeeded' ? (r.message.content[0] as { text: string }).text : r.type
    }
    expect(out).toEqual({ 'a-1': 'Reply to: Hello there', 'a-2': 'errored' })
  })

  test('cancel stops new sends, lets in-flight finish; the rest end batch_cancelled', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => chatLine(`c-${i}`, `SLOW cancel ${i}`, MODEL))
    const file = await uploadBatchFile(client, jsonl(...lines), { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await Bun.sleep(250)
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelling')
    const done = await waitEnd(client, batch.id)
    expect(done.status).toBe('cancelled')
    const results = await readResults(client, done)
    const sent = lines.map((_, i) => fake.counts.get(`SLOW cancel ${i}`) ?? 0).reduce((a, b) => a + b, 0)
    expect(sent).toBeLessThan(12)
    expect(Object.keys(results.answers).length).toBe(sent)
    expect(Object.values(results.errors).every((e) => e.code === 'batch_cancelled')).toBe(true)
    expect(Object.keys(results.answers).length + Object.keys(results.errors).length).toBe(12)
    expect(done.request_counts).toEqual({ total: 12, completed: sent, failed: 12 - sent })
  })
})

describe('emulated provider: completion window', () => {
  test('requests left at the end of the window end batch_expired; the batch is expired', async () => {
    // Six answers of 500 ms one at a time take 3 s: a 2 s window leaves room for the first
    // answers even on a loaded machine and still cuts the batch short.
    const fake = startChatFake({ slowMs: 500 })
    const w = await world(fake, { concurrency: 1, completion_window: '2s' })
    try {
      const client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
      const lines = Array.from({ length: 6 }, (_, i) => chatLine(`x-${i}`, `SLOW expire ${i}`, MODEL))
      const file = await uploadBatchFile(client, jsonl(...lines), { provider: 'local' })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const done = await waitEnd(client, batch.id)
      expect(done.status).toBe('expired')
      const results = await readResults(client, done)
      const answered = Object.keys(results.answers).length
      expect(answered).toBeGreaterThan(0)
      expect(answered).toBeLessThan(6)
      expect(Object.values(results.errors).every((e) => e.code === 'batch_expired')).toBe(true)
      expect(answered + Object.keys(results.errors).length).toBe(6)
    } finally {
      await w.close()
      await fake.close()
    }
  })
})

describe('emulated provider: request timeout', () => {
  test('an attempt with no answer within request_timeout_seconds is abandoned and sent again', async () => {
    const fake = startChatFake({ slowMs: 5_000 })
    const w = await world(fake, { request_timeout_seconds: 1 })
    try {
      const client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
      const file = await uploadBatchFile(client, jsonl(chatLine('t-1', 'STALL1 hangs once', MODEL), chatLine('t-2', 'answers at once', MODEL)), { provider: 'local' })
      const started = Date.now()
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const done = await waitEnd(client, batch.id, 20_000)
      // Well before the stalled attempt would have answered (5 s): it was cut at 1 s and retried.
      expect(Date.now() - started).toBeLessThan(4_500)
      expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
      const results = await readResults(client, done)
      expect(results.answers).toEqual({ 't-1': 'Reply to: STALL1 hangs once', 't-2': 'Reply to: answers at once' })
      expect(fake.counts.get('STALL1 hangs once')).toBe(2)
      expect(fake.counts.get('answers at once')).toBe(1)
    } finally {
      await w.close()
      await fake.close()
    }
  })
})

describe('emulated provider: scale and durability', () => {
  test('10 000 requests at concurrency 64 complete with exact results', async () => {
    const fake = startChatFake()
    const w = await world(fake, { concurrency: 64 })
    try {
      const client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
      const lines = Array.from({ length: 10_000 }, (_, i) => chatLine(`r-${i}`, `prompt ${i}`, MODEL))
      const file = await uploadBatchFile(client, jsonl(...lines), { provider: 'local' })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const done = await waitEnd(client, batch.id, 170_000)
      expect(done.request_counts).toEqual({ total: 10_000, completed: 10_000, failed: 0 })
      const results = await readResults(client, done)
      for (let i = 0; i < 10_000; i++) expect(results.answers[`r-${i}`]).toBe(`Reply to: prompt ${i}`)
      expect(fake.received()).toBe(10_000)
    } finally {
      await w.close()
      await fake.close()
    }
  }, 180_000)

  test('a restart at ~30 % resumes: no recorded request is sent again, at most the in-flight ones', async () => {
    const fake = startChatFake()
    const concurrency = 16
    const w = await world(fake, { concurrency })
    try {
      const client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
      const total = 3000
      const lines = Array.from({ length: total }, (_, i) => chatLine(`k-${i}`, `keep ${i}`, MODEL))
      const file = await uploadBatchFile(client, jsonl(...lines), { provider: 'local' })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      while (fake.received() < total * 0.3) await Bun.sleep(5)
      await w.gw.restart()
      const resumed = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
      const done = await waitEnd(resumed, batch.id, 170_000)
      expect(done.request_counts).toEqual({ total, completed: total, failed: 0 })
      const results = await readResults(resumed, done)
      expect(Object.keys(results.answers).length).toBe(total)
      const repeated = [...fake.counts.values()].filter((n) => n > 1).length
      expect([...fake.counts.values()].every((n) => n <= 2)).toBe(true)
      expect(repeated).toBeLessThanOrEqual(concurrency)
      expect(fake.received()).toBeLessThanOrEqual(total + concurrency)
    } finally {
      await w.close()
      await fake.close()
    }
  }, 180_000)
})
