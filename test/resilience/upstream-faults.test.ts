// Upstream faults injected at the fakes, seen through the official SDKs (issue 7 §6): a 429 with
// retry-after on an idempotent GET is waited out and retried; a 5xx on a create is surfaced with
// its status and message, never retried, and leaves nothing behind; an upstream slower than
// BATCHGATE_UPSTREAM_TIMEOUT_MS is a 504; a dropped connection is a 502 and the gateway serves on.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { failure } from './api-failure'

let fakes: AllFakes
/** Two retries, default timeout. */
let gw: Gateway
/** No retries, a 1 s timeout. */
let impatient: Gateway

const MODEL = 'claude-3-haiku-20240307'
const item = (customId: string) => ({
  custom_id: customId,
  params: { model: MODEL, max_tokens: 50, messages: [{ role: 'user' as const, content: `hello ${customId}` }] },
})
const batchLine = (customId: string) =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${customId}` }] },
  })

const openaiClient = (g: Gateway) => new OpenAI({ baseURL: `${g.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
const anthropicClient = (g: Gateway) => new Anthropic({ baseURL: `${g.url}/anthropic`, apiKey: 'open-gateway', maxRetries: 0 })

async function openaiBatch(client: OpenAI): Promise<OpenAI.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(`${batchLine('a')}\n`), 'in.jsonl'), purpose: 'batch' })
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
}

const hits = (fake: { requests: Array<{ method: string; path: string }> }, method: string, path: string) =>
  fake.requests.filter((r) => r.method === method && r.path === path).length
const upstreamIdOf = async (g: Gateway, id: string) => (await g.store.batches.get(id, 'default'))?.upstreamId
const batchRows = (g: Gateway) => g.store.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM batches').get()?.n

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway({ ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '2' })
  impatient = await startGateway({ ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0', BATCHGATE_UPSTREAM_TIMEOUT_MS: '1000' })
})

afterAll(async () => {
  await gw.close()
  await impatient.close()
  await fakes.close()
})

describe('retries of idempotent calls', () => {
  test('a 429 with retry-after on a GET is waited out, retried once and succeeds (REST and openai client paths)', async () => {
    const anthropic = anthropicClient(gw)
    const openai = openaiClient(gw)
    const msgBatch = await anthropic.messages.batches.create({ requests: [item('r1')] })
    const oaBatch = await openaiBatch(openai)
    const msgPath = `/v1/messages/batches/${await upstreamIdOf(gw, msgBatch.id)}`
    const oaPath = `/v1/batches/${await upstreamIdOf(gw, oaBatch.id)}`
    const tooMany = (path: string, body: unknown) => ({
      match: (req: Request, url: URL) => req.method === 'GET' && url.pathname === path,
      status: 429,
      headers: { 'retry-after': '1' },
      body,
    })
    fakes.anthropic.faults.add(tooMany(msgPath, { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } }))
    const limited = { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }
    fakes.openai.faults.add(tooMany(oaPath, limited))
    const before = { msg: hits(fakes.anthropic, 'GET', msgPath), oa: hits(fakes.openai, 'GET', oaPath) }

    const started = performance.now()
    const [gotMsg, gotOa] = await Promise.all([
      anthropic.messages.batches.retrieve(msgBatch.id),
      openai.batches.retrieve(oaBatch.id),
    ])
    const waited = performance.now() - started

    expect(gotMsg.id).toBe(msgBatch.id)
    expect(gotOa.id).toBe(oaBatch.id)
    // retry-after: 1 is honoured (full-jitter backoff alone would retry within 200 ms).
    expect(waited).toBeGreaterThanOrEqual(950)
    expect(hits(fakes.anthropic, 'GET', msgPath) - before.msg).toBe(2)
    expect(hits(fakes.openai, 'GET', oaPath) - before.oa).toBe(2)
  })
})

describe('non-retryable failures on create', () => {
  test('a 500 on an OpenAI create is surfaced in the OpenAI envelope, sent once, and records nothing', async () => {
    const openai = openaiClient(gw)
    const file = await openai.files.create({ file: await toFile(Buffer.from(`${batchLine('x')}\n`), 'in.jsonl'), purpose: 'batch' })
    const rowsBefore = batchRows(gw)
    const createsBefore = hits(fakes.openai, 'POST', '/v1/batches')
    fakes.openai.faults.add({
      match: (req, url) => req.method === 'POST' && url.pathname === '/v1/batches',
      status: 500,
      body: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } },
    })

    const err = await failure(
      openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    )

    expect(err.status).toBe(500)
    expect(err.error).toMatchObject({ message: 'The server had an error while processing your request.', type: 'server_error' })
    expect(hits(fakes.openai, 'POST', '/v1/batches') - createsBefore).toBe(1)
    expect(batchRows(gw)).toBe(rowsBefore)
    const listed = await openai.batches.list({ limit: 100 })
    expect(listed.data.some((b) => b.input_file_id === file.id)).toBe(false)
  })

  test('a 503 on an Anthropic create is surfaced as overloaded_error, sent once, and records nothing', async () => {
    const anthropic = anthropicClient(gw)
    const rowsBefore = batchRows(gw)
    const createsBefore = hits(fakes.anthropic, 'POST', '/v1/messages/batches')
    fakes.anthropic.faults.add({
      match: (req, url) => req.method === 'POST' && url.pathname === '/v1/messages/batches',
      status: 503,
      body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    })

    const err = await failure(anthropic.messages.batches.create({ requests: [item('r1'), item('r2')] }))

    expect(err.status).toBe(503)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
    expect(hits(fakes.anthropic, 'POST', '/v1/messages/batches') - createsBefore).toBe(1)
    expect(batchRows(gw)).toBe(rowsBefore)
  })
})

describe('slow and broken upstreams', () => {
  test('an upstream slower than BATCHGATE_UPSTREAM_TIMEOUT_MS answers 504 upstream_timeout', async () => {
    const openai = openaiClient(impatient)
    const anthropic = anthropicClient(impatient)
    const oaBatch = await openaiBatch(openai)
    const msgBatch = await anthropic.messages.batches.create({ requests: [item('slow')] })
    const slow = (prefix: string) => ({
      match: (req: Request, url: URL) => req.method === 'GET' && url.pathname.startsWith(prefix),
      delayMs: 3000,
    })
    fakes.openai.faults.add(slow('/v1/batches/'))
    fakes.anthropic.faults.add(slow('/v1/messages/batches/'))

    const started = performance.now()
    const [oaErr, msgErr] = await Promise.all([
      failure(openai.batches.retrieve(oaBatch.id)),
      failure(anthropic.messages.batches.retrieve(msgBatch.id)),
    ])

    expect(performance.now() - started).toBeLessThan(2800)
    expect(oaErr.status).toBe(504)
    expect(oaErr.error).toMatchObject({ code: 'upstream_timeout', type: 'server_error' })
    expect(msgErr.status).toBe(504)
    expect(msgErr.error).toMatchObject({ type: 'error', error: { type: 'timeout_error' } })
  })

  // A create, because Bun's fetch itself re-sends an idempotent GET once when a pooled
  // keep-alive connection dies before answering; a POST it never re-sends.
  test('a dropped connection on create answers 502, records nothing, and the gateway keeps serving', async () => {
    const openai = openaiClient(impatient)
    const anthropic = anthropicClient(impatient)
    const file = await openai.files.create({ file: await toFile(Buffer.from(`${batchLine('d')}\n`), 'in.jsonl'), purpose: 'batch' })
    const rowsBefore = batchRows(impatient)
    const drop = (path: string) => ({
      match: (req: Request, url: URL) => req.method === 'POST' && url.pathname === path,
      drop: true,
    })
    fakes.openai.faults.add(drop('/v1/batches'))
    fakes.anthropic.faults.add(drop('/v1/messages/batches'))
    const createOpenAI = () =>
      openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    // Three requests: no other batch on this (shared) fake account has that size, so the lookup
    // after the lost answer finds no look-alike (lost-create-answer.test.ts covers adoption).
    const createAnthropic = () => anthropic.messages.batches.create({ requests: [item('drop'), item('drop-2'), item('drop-3')] })

    const [oaErr, msgErr] = await Promise.all([failure(createOpenAI()), failure(createAnthropic())])

    expect(oaErr.status).toBe(502)
    expect(oaErr.error).toMatchObject({ code: 'upstream_unreachable', type: 'server_error' })
    expect(msgErr.status).toBe(502)
    expect(msgErr.error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
    expect(batchRows(impatient)).toBe(rowsBefore)
    // The fault is spent: the same calls now succeed on the same gateway.
    expect((await createOpenAI()).input_file_id).toBe(file.id)
    expect((await createAnthropic()).processing_status).toBe('in_progress')
    expect(batchRows(impatient)).toBe((rowsBefore ?? 0) + 2)
  })
})
