// The Anthropic dialect's edges over HTTP: bad input (each case of the issue), auth with both
// header styles, tenant isolation, the error envelope on unknown routes, results_url on a
// configured public URL, and the smaller wire details (ids[], expires_in_seconds, beta flags).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile } from '@anthropic-ai/sdk'
import Anthropic0 from '@anthropic-ai/sdk-0'
import { PROVIDER_NAMES } from '../../src/core/provider-name'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { errorOf, pollToEnded, request } from '../e2e/anthropic-sdk-workflow'
import { type Gateway, startGateway } from '../e2e/gateway'

let fakes: AllFakes
let gw: Gateway
let keyed: Gateway

const MODELS = {
  anthropic: 'claude-3-haiku-20240307',
  openai: 'gpt-4o-mini',
  gemini: 'gemini-2.0-flash',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
} as const

interface Envelope {
  type: string
  error: { type: string; message: string }
  request_id: string
}

async function call(path: string, init: RequestInit & { provider?: string } = {}, base = gw.url) {
  const headers = new Headers(init.headers)
  if (init.provider) headers.set('x-model-provider', init.provider)
  if (typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json')
  const res = await fetch(`${base}/anthropic${path}`, { ...init, headers })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, body: body as Envelope & Record<string, unknown>, text }
}

const createBody = (requests: unknown[]) => JSON.stringify({ requests })

/** Upstream object counts, to prove a refused request sent nothing anywhere. */
const upstreamCounts = () => ({
  anthropicBatches: fakes.anthropic.batches.size,
  openaiFiles: fakes.openai.countFiles(),
  openaiBatches: fakes.openai.batches.size,
  geminiFiles: fakes.gemini.files.size,
  geminiBatches: fakes.gemini.batches.size,
  bedrockJobs: fakes.bedrock.jobs.size,
  s3Keys: fakes.s3.listKeys('batchgate-test').length,
})

function expectEnvelope(r: { status: number; body: Envelope }, status: number, type: string) {
  expect(r.status).toBe(status)
  expect(r.body.type).toBe('error')
  expect(r.body.error.type).toBe(type)
  expect(r.body.request_id).toMatch(/^req_/)
}

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway(fakes.env)
  keyed = await startGateway({
    ...fakes.env,
    BATCHGATE_KEYS: 'alice=key-alice-123,bob=key-bob-4567',
    BATCHGATE_PUBLIC_URL: 'https://batchgate.example.com/',
  })
})
afterAll(async () => {
  await keyed.close()
  await gw.close()
  await fakes.close()
})

describe('batch create validation happens before anything goes upstream', () => {
  for (const provider of PROVIDER_NAMES) {
    const model = MODELS[provider]
    const cases: Array<[string, unknown[], string]> = [
      ['invalid custom_id', [request('bad id!', 'x', model)], 'requests.0.custom_id'],
      ['too long custom_id', [request('x'.repeat(65), 'x', model)], 'requests.0.custom_id'],
      ['duplicate custom_id', [request('same', 'a', model), request('same', 'b', model)], 'requests.1.custom_id'],
      [
        'missing max_tokens',
        [{ custom_id: 'm-1', params: { model, messages: [{ role: 'user', content: 'x' }] } }],
        'requests.0.params.max_tokens',
      ],
      ['missing model', [{ custom_id: 'm-2', params: { max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } }], 'requests.0.params.model'],
      ['empty messages', [{ custom_id: 'm-3', params: { model, max_tokens: 5, messages: [] } }], 'requests.0.params.messages'],
      ['empty requests', [], 'requests'],
    ]
    for (const [name, requests, field] of cases) {
      test(`${provider}: ${name} → 400 invalid_request_error naming ${field}`, async () => {
        const before = upstreamCounts()
        const r = await call('/v1/messages/batches', { method: 'POST', body: createBody(requests), provider })
        expectEnvelope(r, 400, 'invalid_request_error')
        expect(r.body.error.message).toContain(field)
        expect(upstreamCounts()).toEqual(before)
      })
    }
  }

  test('a body without requests is a 400 naming the field', async () => {
    const r = await call('/v1/messages/batches', { method: 'POST', body: '{}' })
    expectEnvelope(r, 400, 'invalid_request_error')
    expect(r.body.error.message).toContain('requests')
  })

  test('malformed JSON is a 400', async () => {
    const r = await call('/v1/messages/batches', { method: 'POST', body: '{"requests": [' })
    expectEnvelope(r, 400, 'invalid_request_error')
  })

  test('the SDK surfaces the validation error as a BadRequestError', async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
    const err = await errorOf(client.messages.batches.create({ requests: [request('ok', 'x', 'm'), request('ok', 'y', 'm')] }))
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect(err.error.error.type).toBe('invalid_request_error')
    expect(err.error.error.message).toContain('requests.1.custom_id')
  })
})

describe('x-model-provider', () => {
  test('an unknown provider is a 400 listing the supported ones, on every route', async () => {
    const form = new FormData()
    form.append('file', new Blob(['hi']), 'a.txt')
    const calls = [
      call('/v1/messages/batches', { method: 'POST', body: createBody([request('a', 'b', 'c')]), provider: 'mystery' }),
      call('/v1/messages/batches', { provider: 'mystery' }),
      call('/v1/files', { provider: 'mystery' }),
      call('/v1/files', { method: 'POST', body: form, provider: 'mystery' }),
    ]
    for (const r of await Promise.all(calls)) {
      expectEnvelope(r, 400, 'invalid_request_error')
      expect(r.body.error.message).toContain('x-model-provider')
      expect(r.body.error.message).toContain('openai, anthropic, gemini, bedrock')
    }
  })

  test('the header is case-insensitive in its value and defaults to anthropic', async () => {
    const r = await call('/v1/messages/batches', { method: 'POST', body: createBody([request('d-1', 'x', MODELS.openai)]), provider: 'OpenAI' })
    expect(r.status).toBe(200)
    expect((await gw.store.batches.get(r.body.id as string, 'default'))?.provider).toBe('openai')
    const d = await call('/v1/messages/batches', { method: 'POST', body: createBody([request('d-2', 'x', MODELS.anthropic)]) })
    expect((await gw.store.batches.get(d.body.id as string, 'default'))?.provider).toBe('anthropic')
  })

  test('id-addressed calls honour the header: another provider\'s id is a 404, the same provider or none finds it', async () => {
    const created = await call('/v1/messages/batches', { method: 'POST', body: createBody([request('i-1', 'x', MODELS.gemini)]), provider: 'gemini' })
    const other = await call(`/v1/messages/batches/${created.body.id}`, { provider: 'bedrock' })
    expect(other.status).toBe(404)
    for (const provider of ['gemini', undefined]) {
      const got = await call(`/v1/messages/batches/${created.body.id}`, { provider })
      expect(got.status).toBe(200)
      expect(got.body.id).toBe(created.body.id)
    }
  })

  test('batch lists show only Anthropic-dialect batches', async () => {
    // An OpenAI-dialect batch of the same tenant, on the same provider.
    const line = JSON.stringify({ custom_id: 'o-1', method: 'POST', url: '/v1/chat/completions', body: { model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }] } })
    const form = new FormData()
    form.append('purpose', 'batch')
    form.append('file', new File([`${line}\n`], 'o.jsonl'))
    const file = (await (await fetch(`${gw.url}/openai/v1/files`, { method: 'POST', body: form })).json()) as { id: string }
    const res = await fetch(`${gw.url}/openai/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    })
    const openaiBatch = (await res.json()) as { id: string }
    expect(openaiBatch.id).toMatch(/^batch_/)
    for (const provider of [undefined, 'openai']) {
      const all = await call('/v1/messages/batches?limit=1000', { provider })
      const ids = (all.body.data as Array<{ id: string }>).map((b) => b.id)
      expect(ids.length).toBeGreaterThan(0)
      for (const id of ids) expect(id).toMatch(/^msgbatch_/)
    }
  })
})

describe('ids the gateway does not know', () => {
  test('unknown batch id → 404 not_found_error on every batch route', async () => {
    const id = 'msgbatch_doesnotexist'
    for (const r of [
      await call(`/v1/messages/batches/${id}`),
      await call(`/v1/messages/batches/${id}/cancel`, { method: 'POST' }),
      await call(`/v1/messages/batches/${id}`, { method: 'DELETE' }),
      await call(`/v1/messages/batches/${id}/results`),
    ]) {
      expectEnvelope(r, 404, 'not_found_error')
      expect(r.body.error.message).toContain(id)
    }
  })

  test('unknown file id → 404 not_found_error on every file route', async () => {
    const id = 'file_doesnotexist'
    for (const r of [await call(`/v1/files/${id}`), await call(`/v1/files/${id}/content`), await call(`/v1/files/${id}`, { method: 'DELETE' })]) {
      expectEnvelope(r, 404, 'not_found_error')
    }
  })

  test('both SDK generations raise NotFoundError', async () => {
    const one = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
    const zero = new Anthropic0({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
    expect(await errorOf(one.messages.batches.retrieve('msgbatch_nope'))).toBeInstanceOf(Anthropic.NotFoundError)
    expect(await errorOf(zero.beta.messages.batches.retrieve('msgbatch_nope'))).toBeInstanceOf(Anthropic0.NotFoundError)
    expect(await errorOf(one.beta.files.retrieveMetadata('file_nope'))).toBeInstanceOf(Anthropic.NotFoundError)
    expect(await errorOf(zero.beta.files.retrieveMetadata('file_nope'))).toBeInstanceOf(Anthropic0.NotFoundError)
  })

  test('unknown routes under /anthropic answer in the Anthropic envelope', async () => {
    expectEnvelope(await call('/v1/nothing-here'), 404, 'not_found_error')
    expectEnvelope(await call('/v1/messages/batches/x/y/z'), 404, 'not_found_error')
  })
})

describe('batch lifecycle errors', () => {
  test('results before the batch has ended → 400 invalid_request_error; the SDK refuses too', async () => {
    fakes.anthropic.autoAdvance = false
    try {
      const created = await call('/v1/messages/batches', { method: 'POST', body: createBody([request('early', 'x', MODELS.anthropic)]) })
      expect(created.body.results_url).toBeNull()
      const r = await call(`/v1/messages/batches/${created.body.id}/results`)
      expectEnvelope(r, 400, 'invalid_request_error')
      expect(r.body.error.message).toContain('ended')
      const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
      await expect(client.messages.batches.results(created.body.id as string)).rejects.toThrow('No batch `results_url`')
      // Not ended: it cannot be deleted either.
      const del = await call(`/v1/messages/batches/${created.body.id}`, { method: 'DELETE' })
      expectEnvelope(del, 400, 'invalid_request_error')
      expect(del.body.error.message).toContain('cancel')
    } finally {
      fakes.anthropic.autoAdvance = true
    }
  })

  test('results are JSONL with content-type application/binary, one line per request, no blank lines', async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
    const created = await client.messages.batches.create({ requests: [request('j-1', 'one', MODELS.anthropic), request('j-2', 'FAIL two', MODELS.anthropic)] })
    await pollToEnded(client, created.id, 2)
    const res = await fetch(`${gw.url}/anthropic/v1/messages/batches/${created.id}/results?beta=true`)
    expect(res.headers.get('content-type')).toBe('application/binary')
    const text = await res.text()
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.slice(0, -1).split('\n')
    expect(lines).toHaveLength(2)
    expect(lines.map((l) => JSON.parse(l).custom_id).sort()).toEqual(['j-1', 'j-2'])
  })
})

describe('file uploads', () => {
  test('an upload without a file part → 400 naming file', async () => {
    const form = new FormData()
    form.append('purpose', 'user')
    const r = await call('/v1/files', { method: 'POST', body: form })
    expectEnvelope(r, 400, 'invalid_request_error')
    expect(r.body.error.message).toContain('file')
  })

  test('a non-multipart upload → 400', async () => {
    expectEnvelope(await call('/v1/files', { method: 'POST', body: '{}' }), 400, 'invalid_request_error')
  })

  test('openai: a non-JSONL upload is stored as user_data, a bad JSONL line is refused with its number', async () => {
    const form = new FormData()
    form.append('file', new File(['plain notes'], 'notes.txt', { type: 'text/plain' }))
    const ok = await call('/v1/files', { method: 'POST', body: form, provider: 'openai' })
    expect(ok.status).toBe(200)
    expect([...fakes.openai.files.values()].at(-1)).toMatchObject({ filename: `${ok.body.id}.txt`, purpose: 'user_data' })

    const before = fakes.openai.countFiles()
    const bad = new FormData()
    bad.append('file', new File(['{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}\nnot json\n'], 'in.jsonl'))
    const r = await call('/v1/files', { method: 'POST', body: bad, provider: 'openai' })
    expectEnvelope(r, 400, 'invalid_request_error')
    expect(r.body.error.message).toContain('line')
    expect(fakes.openai.countFiles()).toBe(before)
  })

  test('openai: a JSONL mime type makes a batch file whatever the name', async () => {
    const form = new FormData()
    const line = JSON.stringify({ custom_id: 'x', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } })
    form.append('file', new File([`${line}\n`], 'requests.txt', { type: 'application/x-ndjson' }))
    const ok = await call('/v1/files', { method: 'POST', body: form, provider: 'openai' })
    expect(ok.status).toBe(200)
    // Batch input goes up as .jsonl (OpenAI requires it), named after the gateway id.
    expect([...fakes.openai.files.values()].at(-1)).toMatchObject({ filename: `${ok.body.id}.jsonl`, purpose: 'batch' })
  })

  test('expires_in_seconds sets expires_at; out of range is a 400', async () => {
    const form = new FormData()
    form.append('file', new File(['x'], 'x.txt', { type: 'text/plain' }))
    form.append('expires_in_seconds', '3600')
    const r = await call('/v1/files?beta=true', { method: 'POST', body: form, headers: { 'anthropic-beta': 'files-api-2025-04-14' } })
    expect(r.status).toBe(200)
    expect(Date.parse(r.body.expires_at as string) - Date.parse(r.body.created_at as string)).toBe(3600 * 1000)
    const bad = new FormData()
    bad.append('file', new File(['x'], 'x.txt'))
    bad.append('expires_in_seconds', '60')
    const e = await call('/v1/files', { method: 'POST', body: bad })
    expectEnvelope(e, 400, 'invalid_request_error')
    expect(e.body.error.message).toContain('expires_in_seconds')
  })

  test('ids[] returns exactly the named files, newest first', async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
    const a = await client.files.upload({ file: await toFile(Buffer.from('a'), 'a.txt', { type: 'text/plain' }) })
    const b = await client.files.upload({ file: await toFile(Buffer.from('b'), 'b.txt', { type: 'text/plain' }) })
    const r = await call(`/v1/files?ids%5B%5D=${a.id}&ids%5B%5D=${b.id}&ids%5B%5D=file_unknown`)
    expect(r.status).toBe(200)
    expect((r.body.data as Array<{ id: string }>).map((f) => f.id)).toEqual([b.id, a.id])
    expect(r.body.next_page).toBeNull()
    expect(r.body.has_more).toBe(false)
    expectEnvelope(await call(`/v1/files?ids%5B%5D=${a.id}&limit=2`), 400, 'invalid_request_error')
  })

  test('list pages carry both generations’ fields', async () => {
    const r = await call('/v1/files?limit=1')
    expect(Object.keys(r.body).sort()).toEqual(['data', 'first_id', 'has_more', 'last_id', 'next_page'])
    expect(r.body.has_more).toBe(true)
    expect(r.body.next_page).toBe(r.body.last_id)
    const next = await call(`/v1/files?limit=1&page=${r.body.next_page}`)
    expect((next.body.data as Array<{ id: string }>)[0]?.id).not.toBe(r.body.last_id)
    expectEnvelope(await call('/v1/files?limit=0'), 400, 'invalid_request_error')
    expectEnvelope(await call('/v1/messages/batches?limit=1001'), 400, 'invalid_request_error')
  })
})

describe('auth and tenants (BATCHGATE_KEYS)', () => {
  const k = (key: string, gen: 0 | 1 = 1) =>
    gen === 1
      ? new Anthropic({ baseURL: `${keyed.url}/anthropic`, apiKey: key, maxRetries: 0 })
      : (new Anthropic0({ baseURL: `${keyed.url}/anthropic`, apiKey: key, maxRetries: 0 }) as unknown as Anthropic)

  test('no key or a wrong key → 401 authentication_error', async () => {
    expectEnvelope(await call('/v1/messages/batches', {}, keyed.url), 401, 'authentication_error')
    expectEnvelope(await call('/v1/files', { headers: { 'x-api-key': 'nope' } }, keyed.url), 401, 'authentication_error')
    expect(await errorOf(k('nope-nope-nope').messages.batches.list())).toBeInstanceOf(Anthropic.AuthenticationError)
  })

  test('x-api-key (0.x) and Bearer (1.x) both resolve the tenant; other tenants see 404', async () => {
    const alice0 = k('key-alice-123', 0)
    const alice1 = k('key-alice-123', 1)
    const created = await alice0.beta.messages.batches.create({ requests: [request('t-1', 'tenant', MODELS.anthropic)] })
    expect((await alice1.messages.batches.retrieve(created.id)).id).toBe(created.id)
    expect((await errorOf(k('key-bob-4567').messages.batches.retrieve(created.id))).status).toBe(404)
    const bobList = await k('key-bob-4567').messages.batches.list()
    expect(bobList.data.map((b) => b.id)).not.toContain(created.id)
  })

  test('results_url uses BATCHGATE_PUBLIC_URL when it is set', async () => {
    const alice = k('key-alice-123')
    const created = await alice.messages.batches.create({ requests: [request('p-1', 'public', MODELS.anthropic)] })
    let b = await alice.messages.batches.retrieve(created.id)
    for (let i = 0; i < 5 && b.processing_status !== 'ended'; i++) b = await alice.messages.batches.retrieve(created.id)
    expect(b.results_url).toBe(`https://batchgate.example.com/anthropic/v1/messages/batches/${created.id}/results`)
  })
})
