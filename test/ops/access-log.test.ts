// The access log and request ids: one JSON line per request whose request_id is the one in the
// `x-request-id` and `request-id` headers (what the OpenAI SDK shows as `_request_id` and the
// Anthropic SDK as `_request_id`/`request_id` in errors), in every other line the request
// causes, and next to the upstream request ids it caused. No key ever appears in a line.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { setLogLevel, setLogSink } from '../../src/log'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'

const KEY = 'bg-log-alice-3f9a0c7e51'
let fakes: AllFakes
let gw: Gateway
let lines: Array<Record<string, unknown>>
let raw: string[]

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: `alice=${KEY}` })
  setLogLevel('info')
  lines = []
  raw = []
  setLogSink((_level, line) => {
    raw.push(line)
    lines.push(JSON.parse(line) as Record<string, unknown>)
  })
})
afterAll(async () => {
  setLogSink(null)
  setLogLevel('warn')
  await gw.close()
  await fakes.close()
})

const accessLines = (id: string) => lines.filter((l) => l.msg === 'request' && l.request_id === id)
/** The access line is written when the last byte has gone: give the server a moment. */
const settle = () => Bun.sleep(20)

const chat = (id: string, model: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 } })

describe('access log', () => {
  test('one line per request, its id in both headers and in what the OpenAI SDK reports', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: KEY, maxRetries: 0 })
    const file = await openai.files.create({ file: await toFile(Buffer.from(`${chat('a', 'gpt-4o-mini')}\n`), 'in.jsonl'), purpose: 'batch' })
    const { data: batch, response } = await openai.batches
      .create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      .withResponse()
    await settle()
    const id = response.headers.get('x-request-id')!
    expect(id).toMatch(/^req_[0-9a-f]{32}$/)
    expect(response.headers.get('request-id')).toBe(id)
    // openai 7.x still sets `_request_id` on results, but no longer types it.
    expect((batch as { _request_id?: string })._request_id).toBe(id)
    const [line, ...more] = accessLines(id)
    expect(more).toEqual([])
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      request_id: id,
      tenant: 'alice',
      dialect: 'openai',
      method: 'POST',
      route: '/openai/v1/batches',
      provider: 'openai',
      status: 200,
    })
    expect(line!.duration_ms).toBeGreaterThan(0)
    expect(line!.bytes_in).toBeGreaterThan(0)
    expect(line!.bytes_out).toBeGreaterThan(0)
    expect(typeof line!.t).toBe('string')
    // The OpenAI fake answered the create with its own x-request-id; the line names it.
    const upstream = line!.upstream_request_ids as string[]
    expect(upstream).toHaveLength(1)
    expect(upstream[0]).toMatch(/^req_/)
    expect(upstream[0]).not.toBe(id)
  })

  test('upstream ids from Anthropic (request-id) and AWS (x-amzn-requestid, x-amz-request-id) are logged', async () => {
    for (const provider of ['anthropic', 'bedrock'] as const) {
      const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } })
      const model = provider === 'bedrock' ? 'anthropic.claude-3-haiku-20240307-v1:0' : 'claude-3-haiku-20240307'
      const { response } = await client.messages.batches
        .create({ requests: [{ custom_id: 'a', params: { model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } }] }, provider === 'bedrock' ? { headers: { 'x-bedrock-output-s3-uri': `s3://${TEST_BUCKET}/o` } } : {})
        .withResponse()
      await settle()
      const id = response.headers.get('request-id')!
      expect(response.headers.get('x-request-id')).toBe(id)
      const [line] = accessLines(id)
      expect(line).toMatchObject({ dialect: 'anthropic', route: '/anthropic/v1/messages/batches', provider, tenant: 'alice', status: 200 })
      const upstream = line!.upstream_request_ids as string[]
      // Anthropic: the create. Bedrock: S3 calls for the converted input, then the job create.
      if (provider === 'anthropic') expect(upstream).toHaveLength(1)
      else expect(upstream.length).toBeGreaterThanOrEqual(2)
      for (const u of upstream) expect(u.length).toBeGreaterThan(4)
    }
  })

  test('an error carries the same id in its headers, the Anthropic body, the SDK error and every log line', async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEY, maxRetries: 0 })
    const err = (await client.messages.batches.retrieve('msgbatch_nope').catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>
    await settle()
    expect(err.status).toBe(404)
    const id = err.requestID!
    expect(id).toMatch(/^req_/)
    expect((err.error as { request_id?: string }).request_id).toBe(id)
    const mine = lines.filter((l) => l.request_id === id)
    expect(mine.map((l) => l.msg)).toEqual(['request failed', 'request'])
    expect(mine[1]).toMatchObject({ status: 404, route: '/anthropic/v1/messages/batches/:id', tenant: 'alice', dialect: 'anthropic' })
  })

  test("a caller's sane x-request-id is kept; anything else is replaced", async () => {
    const get = (value: string) => fetch(`${gw.url}/openai/v1/files`, { headers: { authorization: `Bearer ${KEY}`, 'x-request-id': value } })
    const kept = await get('trace-2026.12_05:abc-1')
    expect(kept.headers.get('x-request-id')).toBe('trace-2026.12_05:abc-1')
    expect(kept.headers.get('request-id')).toBe('trace-2026.12_05:abc-1')
    for (const bad of ['has space', 'x'.repeat(129), '"quoted"', '-leading-dash', '<b>']) {
      const res = await get(bad)
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
    }
    await settle()
    expect(accessLines('trace-2026.12_05:abc-1')).toHaveLength(1)
  })

  test('unauthenticated and unknown routes are logged too, without a tenant; no key in any line', async () => {
    const res = await fetch(`${gw.url}/openai/v1/batches`, { headers: { authorization: 'Bearer wrong-key-123456' } })
    expect(res.status).toBe(401)
    await settle()
    const [line] = accessLines(res.headers.get('x-request-id')!)
    expect(line).toMatchObject({ status: 401, tenant: null, route: 'unmatched', dialect: 'openai', provider: null })
    const all = raw.join('\n')
    for (const secret of [KEY, fakes.env.OPENAI_API_KEY!, fakes.env.ANTHROPIC_API_KEY!, fakes.env.AWS_SECRET_ACCESS_KEY!]) expect(all).not.toContain(secret)
    expect(all).not.toContain('wrong-key-123456')
  })
})
