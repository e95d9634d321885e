// GET /metrics before and after real traffic: both dialects × all four providers through the
// official SDKs, asserting the counters and histograms moved by exactly what was sent, with the
// labels the README documents (route templates, never raw ids; no secrets anywhere).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { delta, scrape, series } from './scrape'

const KEY = 'bg-metrics-alice-7c2e94b1'
const MODELS = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-haiku-20240307',
  gemini: 'gemini-2.0-flash',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
} as const
type Kind = keyof typeof MODELS
const PROVIDERS = Object.keys(MODELS) as Kind[]

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: `alice=${KEY}`, BATCHGATE_UPSTREAM_RETRIES: '1' })
  openai = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

const line = (id: string, model: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `hi ${id}` }], max_tokens: 10 } })

/** The OpenAI seed workflow on one provider; returns how many retrieve calls it made. */
async function openaiWorkflow(provider: Kind): Promise<number> {
  const content = `${line('a', MODELS[provider])}\n${line('b', MODELS[provider])}\n`
  const file = await openai.files.create({ file: await toFile(Buffer.from(content), 'in.jsonl'), purpose: 'batch', provider } as never)
  const extra = provider === 'bedrock' ? { model: MODELS.bedrock, output_s3_uri: `s3://${TEST_BUCKET}/out` } : provider === 'openai' ? {} : { model: MODELS[provider] }
  const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra } as never)
  let polls = 0
  let batch = created
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
    batch = await openai.batches.retrieve(created.id)
    polls++
  }
  expect(batch.status).toBe('completed')
  expect((await (await openai.files.content(batch.output_file_id!)).text()).trim().split('\n')).toHaveLength(2)
  return polls
}

async function anthropicWorkflow(provider: Kind): Promise<number> {
  const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } })
  const params = { model: MODELS[provider], max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] }
  const created = await client.messages.batches.create({ requests: [{ custom_id: 'a', params }, { custom_id: 'b', params }] })
  let polls = 0
  let batch = created
  while (batch.processing_status !== 'ended') {
    batch = await client.messages.batches.retrieve(created.id)
    polls++
  }
  let results = 0
  for await (const _ of await client.messages.batches.results(created.id)) results++
  expect(results).toBe(2)
  return polls
}

describe('GET /metrics', () => {
  test('counts every request by dialect, route template, method and status; upstream calls by provider and operation', async () => {
    const before = await scrape(gw.url)
    const polls: Record<string, number> = {}
    for (const provider of PROVIDERS) {
      polls[`openai/${provider}`] = await openaiWorkflow(provider)
      polls[`anthropic/${provider}`] = await anthropicWorkflow(provider)
    }
    const after = await scrape(gw.url)
    const moved = delta(before, after)
    const sum = (dialect: string) => PROVIDERS.reduce((n, p) => n + polls[`${dialect}/${p}`]!, 0)

    // HTTP: one series per route template; the histogram counted the same requests.
    const http: Array<[string, string, string, number]> = [
      ['openai', 'POST', '/openai/v1/files', 4],
      ['openai', 'POST', '/openai/v1/batches', 4],
      ['openai', 'GET', '/openai/v1/batches/:id', sum('openai')],
      ['openai', 'GET', '/openai/v1/files/:id/content', 4],
      ['anthropic', 'POST', '/anthropic/v1/messages/batches', 4],
      // The Anthropic SDK reads the batch once more for its results_url before fetching results.
      ['anthropic', 'GET', '/anthropic/v1/messages/batches/:id', sum('anthropic') + 4],
      ['anthropic', 'GET', '/anthropic/v1/messages/batches/:id/results', 4],
      ['none', 'GET', '/metrics', 1],
    ]
    for (const [dialect, method, route, n] of http) {
      expect([route, moved.get(series('batchgate_http_requests_total', { dialect, method, route, status: '200' }))]).toEqual([route, n])
      expect([route, moved.get(series('batchgate_http_request_duration_seconds_count', { dialect, method, route }))]).toEqual([route, n])
      expect(moved.get(series('batchgate_http_request_duration_seconds_sum', { dialect, method, route }))).toBeGreaterThan(0)
    }
    const httpSeries = [...moved.keys()].filter((k) => k.startsWith('batchgate_http_requests_total{'))
    expect(httpSeries).toHaveLength(http.length)

    // Upstream: each workflow's create, upload and result read, once per dialect, all answered 200.
    const upstream: Array<[Kind, string]> = [
      ['openai', 'upload_file'],
      ['openai', 'create_batch'],
      ['openai', 'download_file'],
      ['anthropic', 'create_batch'],
      ['anthropic', 'download_batch_results'],
      ['gemini', 'start_upload'],
      ['gemini', 'upload_file_chunk'],
      ['gemini', 'create_batch'],
      ['gemini', 'download_file'],
      ['bedrock', 's3_upload_object'],
      ['bedrock', 'create_batch'],
      ['bedrock', 's3_read_object'],
    ]
    for (const [provider, operation] of upstream) {
      expect([provider, operation, moved.get(series('batchgate_upstream_requests_total', { provider, operation, status: '200' }))]).toEqual([provider, operation, 2])
      expect(moved.get(series('batchgate_upstream_request_duration_seconds_count', { provider, operation }))).toBe(2)
    }
    for (const provider of PROVIDERS) {
      expect(moved.get(series('batchgate_upstream_requests_total', { provider, operation: 'get_batch', status: '200' }))).toBeGreaterThan(0)
      for (const direction of ['client_in', 'client_out', 'upstream_out', 'upstream_in']) {
        expect([provider, direction, (moved.get(series('batchgate_transfer_bytes_total', { provider, direction })) ?? 0) > 0]).toEqual([provider, direction, true])
      }
      expect(after.get(series('batchgate_batches', { provider, status: 'completed' }))).toBe(2)
    }
    // Nothing failed, so nothing was retried or answered other than 2xx.
    expect([...moved.keys()].filter((k) => k.startsWith('batchgate_upstream_retries_total'))).toEqual([])
    // (2xx: S3 answers a delete, e.g. of a gateway-made input once its batch ended, with 204.)
    expect([...moved.keys()].filter((k) => k.startsWith('batchgate_upstream_requests_total') && !/status="2\d\d"/.test(k))).toEqual([])
    expect(after.get('batchgate_inflight_uploads')).toBe(0)

    // Lines through the converters: requests straight to each target, results through `chat`.
    const lines: Array<[string, string, number]> = [
      ['openai-line', 'anthropic-item', 2],
      ['openai-line', 'gemini-line', 2],
      ['openai-line', 'bedrock-record', 2],
      ['chat', 'openai-line', 2],
      ['chat', 'anthropic-item', 2],
      ['chat', 'gemini-line', 2],
      ['chat', 'bedrock-record', 2],
      ['openai-output', 'chat', 2],
      ['anthropic-results', 'chat', 2],
      ['gemini-responses', 'chat', 4],
      ['bedrock-out', 'chat', 4],
      ['chat', 'openai', 6],
      ['chat', 'anthropic', 6],
    ]
    for (const [from, to, n] of lines) expect([from, to, moved.get(series('batchgate_converted_lines_total', { from, to }))]).toEqual([from, to, n])
  })

  test('labels hold no ids, keys or paths with ids; process metrics are there', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    for (const secret of [KEY, fakes.env.OPENAI_API_KEY!, fakes.env.ANTHROPIC_API_KEY!, fakes.env.GEMINI_API_KEY!, fakes.env.AWS_SECRET_ACCESS_KEY!]) {
      expect(text).not.toContain(secret)
    }
    expect(text).not.toMatch(/\b(file-[A-Za-z0-9]{8,}|batch_[A-Za-z0-9]{16,}|msgbatch_[A-Za-z0-9]+|req_[A-Za-z0-9]{16,})/)
    expect(text).toMatch(/^process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d/m)
    expect(text).toContain('# TYPE batchgate_http_request_duration_seconds histogram')
  })

  test('bytes each way are the bytes on the wire', async () => {
    const body = JSON.stringify({ requests: [{ custom_id: 'x', params: { model: MODELS.gemini, max_tokens: 5, messages: [{ role: 'user', content: 'bytes' }] } }] })
    const before = await scrape(gw.url)
    const res = await fetch(`${gw.url}/anthropic/v1/messages/batches`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-model-provider': 'gemini' },
      body,
    })
    const received = (await res.arrayBuffer()).byteLength
    expect(res.status).toBe(200)
    const moved = delta(before, await scrape(gw.url))
    expect(moved.get(series('batchgate_transfer_bytes_total', { provider: 'gemini', direction: 'client_in' }))).toBe(Buffer.byteLength(body))
    expect(moved.get(series('batchgate_transfer_bytes_total', { provider: 'gemini', direction: 'client_out' }))).toBe(received)
  })

  test('a retried upstream call counts each attempt and the retry', async () => {
    const file = await openai.files.create({ file: await toFile(Buffer.from(`${line('r', MODELS.anthropic)}\n`), 'in.jsonl'), purpose: 'batch', provider: 'anthropic' } as never)
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const openaiFile = await openai.files.create({ file: await toFile(Buffer.from(`${line('r', MODELS.openai)}\n`), 'in.jsonl'), purpose: 'batch' })
    const openaiBatch = await openai.batches.create({ input_file_id: openaiFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const busy = { status: 503, body: { type: 'error', error: { type: 'overloaded_error', message: 'busy' } } }
    fakes.anthropic.faults.add({ ...busy, match: (req) => req.method === 'GET' && new URL(req.url).pathname.includes('/messages/batches/') })
    fakes.openai.faults.add({ status: 500, body: { error: { message: 'boom', type: 'server_error' } }, match: (req) => req.method === 'GET' && new URL(req.url).pathname.includes('/batches/') })
    const before = await scrape(gw.url)
    await openai.batches.retrieve(created.id)
    await openai.batches.retrieve(openaiBatch.id)
    const moved = delta(before, await scrape(gw.url))
    for (const [provider, failed] of [['anthropic', '503'], ['openai', '500']] as const) {
      expect(moved.get(series('batchgate_upstream_requests_total', { provider, operation: 'get_batch', status: failed }))).toBe(1)
      expect(moved.get(series('batchgate_upstream_requests_total', { provider, operation: 'get_batch', status: '200' }))).toBe(1)
      expect(moved.get(series('batchgate_upstream_retries_total', { provider, operation: 'get_batch' }))).toBe(1)
      expect(moved.get(series('batchgate_upstream_request_duration_seconds_count', { provider, operation: 'get_batch' }))).toBe(2)
    }
  })
})
