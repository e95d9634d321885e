// Drives the Anthropic fake with both official SDK generations: 1.12 (Bearer auth, no beta query)
// and 0.129 (x-api-key, `?beta=true` on beta.*), plus raw HTTP for the negative cases.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile } from '@anthropic-ai/sdk'
import Anthropic0, { toFile as toFile0 } from '@anthropic-ai/sdk-0'
import { Page } from '@anthropic-ai/sdk-0/core/pagination'
import { type AnthropicFake, startAnthropicFake } from './anthropic'

const KEY = 'sk-ant-test'
let fake: AnthropicFake
let client: Anthropic
let client0: Anthropic0

beforeAll(() => {
  fake = startAnthropicFake()
  // Retries off (spec: SDKs retry 408/409/429/5xx by default).
  client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 })
  client0 = new Anthropic0({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 })
})
afterAll(async () => {
  await fake.close()
})

const req = (custom_id: string, prompt: string, model = 'claude-sonnet-4-5') => ({
  custom_id,
  params: { model, max_tokens: 64, messages: [{ role: 'user' as const, content: prompt }] },
})

/** Raw call with valid auth unless overridden. */
function raw(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    ...init,
    headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', ...init.headers },
  })
}

/** The SDKs' APIPromise/PagePromise are lazy Promise subclasses, so bun's `.rejects` can't see them. */
function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(p).then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  )
}

async function expectError(res: Response, status: number, type: string, message?: RegExp): Promise<void> {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string }
  expect(body.type).toBe('error')
  expect(body.error.type).toBe(type)
  expect(body.request_id).toMatch(/^req_/)
  expect(res.headers.get('request-id')).toBe(body.request_id)
  if (message) expect(body.error.message).toMatch(message)
}

describe('message batches, SDK 1.12', () => {
  test('full lifecycle: create, poll, results, list, delete', async () => {
    const requests = [
      req('a-1', 'Hello there'),
      req('a-2', 'Please FAIL now'),
      {
        custom_id: 'a_3',
        params: {
          model: 'claude-haiku-4-5',
          max_tokens: 10,
          messages: [
            { role: 'user' as const, content: 'first question' },
            { role: 'assistant' as const, content: 'an answer' },
            {
              role: 'user' as const,
              content: [
                { type: 'text' as const, text: 'line one' },
                { type: 'text' as const, text: 'line two' },
              ],
            },
          ],
        },
      },
      req('a-4', 'Fourth prompt'),
    ]
    const created = await client.messages.batches.create({ requests })
    expect(created.id).toMatch(/^msgbatch_/)
    expect(created.type).toBe('message_batch')
    expect(created.processing_status).toBe('in_progress')
    expect(created.request_counts).toEqual({ processing: 4, succeeded: 0, errored: 0, canceled: 0, expired: 0 })
    expect(created.results_url).toBeNull()
    expect(created.ended_at).toBeNull()
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3600 * 1000)
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)

    // Results before the end: the SDK refuses without calling the results endpoint.
    const frozen = fake.autoAdvance
    fake.autoAdvance = false
    expect(String(await rejection(client.messages.batches.results(created.id)))).toMatch(/No batch `results_url`/)
    await expectError(await raw(`/v1/messages/batches/${created.id}/results`), 400, 'invalid_request_error')
    fake.autoAdvance = frozen

    const poll1 = await client.messages.batches.retrieve(created.id)
    expect(poll1.processing_status).toBe('in_progress')
    expect(poll1.request_counts.processing).toBe(4)
    const poll2 = await client.messages.batches.retrieve(created.id)
    expect(poll2.processing_status).toBe('ended')
    expect(poll2.request_counts).toEqual({ processing: 0, succeeded: 3, errored: 1, canceled: 0, expired: 0 })
    expect(poll2.ended_at).not.toBeNull()
    expect(poll2.cancel_initiated_at).toBeNull()
    expect(poll2.results_url).toBe(`${fake.url}/v1/messages/batches/${created.id}/results`)

    const lines = []
    for await (const line of await client.messages.batches.results(created.id)) lines.push(line)
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['a-1', 'a-2', 'a-4', 'a_3'])
    expect(lines.map((l) => l.custom_id)).not.toEqual(requests.map((r) => r.custom_id))
    const byId = new Map(lines.map((l) => [l.custom_id, l.result]))
    const texts: Record<string, string> = { 'a-1': 'Reply to: Hello there', a_3: 'Reply to: line one\nline two', 'a-4': 'Reply to: Fourth prompt' }
    for (const [id, text] of Object.entries(texts)) {
      const r = byId.get(id)
      if (r?.type !== 'succeeded') throw new Error(`${id} did not succeed`)
      expect(r.message.id).toMatch(/^msg_/)
      expect(r.message.type).toBe('message')
      expect(r.message.role).toBe('assistant')
      expect(r.message.content).toEqual([{ type: 'text', text }] as typeof r.message.content)
      expect(r.message.stop_reason).toBe('end_turn')
      expect(r.message.stop_sequence).toBeNull()
      expect(r.message.usage.input_tokens).toBeGreaterThan(0)
      expect(r.message.usage.output_tokens).toBeGreaterThan(0)
    }
    const a3 = byId.get('a_3')
    expect(a3?.type === 'succeeded' && a3.message.model).toBe('claude-haiku-4-5')
    const failed = byId.get('a-2')
    if (failed?.type !== 'errored') throw new Error('a-2 should be errored')
    expect(failed.error.type).toBe('error')
    expect(failed.error.error.type).toBe('invalid_request_error')
    expect(failed.error.error.message).toContain('Please FAIL now')

    // Raw body: \n-terminated lines, no blank line.
    const body = await (await raw(`/v1/messages/batches/${created.id}/results`)).text()
    expect(body.endsWith('\n')).toBe(true)
    expect(body.split('\n')).toHaveLength(5)
    expect(body).not.toContain('\n\n')

    const deleted = await client.messages.batches.delete(created.id)
    expect(deleted).toEqual({ id: created.id, type: 'message_batch_deleted' })
    expect(await rejection(client.messages.batches.retrieve(created.id))).toBeInstanceOf(Anthropic.NotFoundError)
  })

  test('list auto-paginates newest first (Page: after_id / before_id)', async () => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push((await client.messages.batches.create({ requests: [req(`l${i}`, `p${i}`)] })).id)
    const seen: string[] = []
    for await (const b of client.messages.batches.list({ limit: 2 })) seen.push(b.id)
    const newestFirst = [...ids].reverse()
    expect(seen.slice(0, 6)).toEqual(newestFirst)
    const afterIds = fake.requests.filter((r) => r.path === '/v1/messages/batches' && r.query.includes('after_id'))
    expect(afterIds.length).toBeGreaterThanOrEqual(2)

    const page = await client.messages.batches.list({ limit: 2, after_id: newestFirst[1] })
    expect(page.data.map((b) => b.id)).toEqual(newestFirst.slice(2, 4))
    expect(page.first_id).toBe(newestFirst[2] ?? null)
    expect(page.last_id).toBe(newestFirst[3] ?? null)
    expect(page.has_more).toBe(true)
    // Reverse paging: before_id walks back towards the newest.
    const back: string[] = []
    for await (const b of client.messages.batches.list({ limit: 2, before_id: newestFirst[5] })) back.push(b.id)
    expect(back.sort()).toEqual(newestFirst.slice(0, 5).sort())
    const before = await client.messages.batches.list({ limit: 2, before_id: newestFirst[4] })
    expect(before.data.map((b) => b.id)).toEqual(newestFirst.slice(2, 4))
  })

  test('cancel: canceling → ended with canceled results; delete only when ended', async () => {
    fake.autoAdvance = false
    try {
      const b = await client.messages.batches.create({ requests: [req('c1', 'one'), req('c2', 'two')] })
      await expectError(await raw(`/v1/messages/batches/${b.id}`, { method: 'DELETE' }), 400, 'invalid_request_error')
      const canceling = await client.messages.batches.cancel(b.id)
      expect(canceling.processing_status).toBe('canceling')
      expect(canceling.cancel_initiated_at).not.toBeNull()
      expect(canceling.request_counts.processing).toBe(2)
      expect((await client.messages.batches.retrieve(b.id)).processing_status).toBe('canceling')
      expect(await rejection(client.messages.batches.delete(b.id))).toBeInstanceOf(Anthropic.BadRequestError)
      const ended = fake.finish(b.id)
      expect(ended.processing_status).toBe('ended')
      expect(ended.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 2, expired: 0 })
      const results = []
      for await (const r of await client.messages.batches.results(b.id)) results.push(r)
      expect(results.map((r) => r.result)).toEqual([{ type: 'canceled' }, { type: 'canceled' }])
      expect(await rejection(client.messages.batches.cancel(b.id))).toBeInstanceOf(Anthropic.BadRequestError)
      expect((await client.messages.batches.delete(b.id)).type).toBe('message_batch_deleted')
    } finally {
      fake.autoAdvance = true
    }
  })

  test('cancel mid-way leaves a mix; expire() marks the rest expired', async () => {
    const b = await client.messages.batches.create({ requests: [req('m1', 'x'), req('m2', 'y'), req('m3', 'z'), req('m4', 'w')] })
    await client.messages.batches.retrieve(b.id) // step 1: first half processed
    await client.messages.batches.cancel(b.id)
    const ended = await client.messages.batches.retrieve(b.id)
    expect(ended.processing_status).toBe('ended')
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 2, expired: 0 })

    const e = await client.messages.batches.create({ requests: [req('e1', 'x'), req('e2', 'y')] })
    const expired = fake.expire(e.id)
    expect(expired.request_counts.expired).toBe(2)
    expect(expired.results_url).not.toBeNull()
    const results = []
    for await (const r of await client.messages.batches.results(e.id)) results.push(r.result.type)
    expect(results).toEqual(['expired', 'expired'])
  })

  test('create validation names the offending path', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ requests: [] }, /^requests: /],
      [{}, /^requests: Field required/],
      [{ requests: [req('ok', 'x'), req('bad id!', 'y')] }, /^requests\.1\.custom_id: /],
      [{ requests: [req('x'.repeat(65), 'y')] }, /^requests\.0\.custom_id: /],
      [{ requests: [req('d', 'x'), req('d', 'y')] }, /^requests\.1\.custom_id: Duplicate/],
      [{ requests: [{ custom_id: 'a' }] }, /^requests\.0\.params: Field required/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, model: 3 } }] }, /requests\.0\.params\.model/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, max_tokens: 0 } }] }, /requests\.0\.params\.max_tokens/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, max_tokens: 1.5 } }] }, /requests\.0\.params\.max_tokens/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, messages: [] } }] }, /requests\.0\.params\.messages/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, messages: [{ role: 'system', content: 'x' }] } }] }, /requests\.0\.params\.messages\.0\.role/],
      [{ requests: [{ custom_id: 'a', params: { ...req('a', 'x').params, stream: true } }] }, /requests\.0\.params\.stream/],
    ]
    for (const [body, message] of cases) {
      const res = await raw('/v1/messages/batches', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      await expectError(res, 400, 'invalid_request_error', message)
    }
    await expectError(await raw('/v1/messages/batches', { method: 'POST', body: '{nope' }), 400, 'invalid_request_error')
    await expectError(await raw('/v1/messages/batches?limit=0'), 400, 'invalid_request_error')
    await expectError(await raw('/v1/messages/batches?limit=1001'), 400, 'invalid_request_error')
    await expectError(await raw('/v1/messages/batches/msgbatch_nope'), 404, 'not_found_error')
    // Through the SDK too.
    const err = await client.messages.batches.create({ requests: [req('bad id', 'x')] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).type).toBe('invalid_request_error')
  })
  test('beta.messages.batches on 1.12 (no ?beta=true, Bearer auth)', async () => {
    const b = await client.beta.messages.batches.create({ requests: [req('z1', 'zed'), req('z2', 'FAIL zed')] })
    fake.finish(b.id)
    const got: Record<string, string> = {}
    for await (const l of await client.beta.messages.batches.results(b.id)) {
      got[l.custom_id] = l.result.type === 'succeeded' ? JSON.stringify(l.result.message.content) : l.result.type
    }
    expect(got).toEqual({ z1: JSON.stringify([{ type: 'text', text: 'Reply to: zed' }]), z2: 'errored' })
    const sent = fake.requests.filter((r) => r.path.startsWith(`/v1/messages/batches/${b.id}`))
    expect(sent.every((r) => r.query === '' && r.headers.authorization === `Bearer ${KEY}` && !r.headers['x-api-key'])).toBe(true)
  })
})

describe('message batches, SDK 0.129 (beta + GA)', () => {
  test('beta lifecycle sends ?beta=true and reads results', async () => {
    const created = await client0.beta.messages.batches.create({ requests: [req('b1', 'alpha'), req('b2', 'beta FAIL'), req('b3', 'gamma')] })
    expect(created.processing_status).toBe('in_progress')
    let status = created.processing_status
    const seen: string[] = []
    while (status !== 'ended') {
      status = (await client0.beta.messages.batches.retrieve(created.id)).processing_status
      seen.push(status)
    }
    expect(seen).toEqual(['in_progress', 'ended'])
    const results = new Map<string, string>()
    for await (const line of await client0.beta.messages.batches.results(created.id)) {
      const r = line.result
      results.set(line.custom_id, r.type === 'succeeded' ? (r.message.content[0]?.type === 'text' ? r.message.content[0].text : '?') : r.type)
    }
    expect(Object.fromEntries(results)).toEqual({ b1: 'Reply to: alpha', b2: 'errored', b3: 'Reply to: gamma' })
    const retrieves = fake.requests.filter((r) => r.path === `/v1/messages/batches/${created.id}` && r.method === 'GET')
    expect(retrieves.every((r) => r.query.includes('beta=true') && r.headers['x-api-key'] === KEY)).toBe(true)
    const resultsGet = fake.requests.filter((r) => r.path === `/v1/messages/batches/${created.id}/results`)
    expect(resultsGet.at(-1)?.query).toBe('') // results_url used verbatim

    const listed: string[] = []
    for await (const b of client0.beta.messages.batches.list({ limit: 2 })) listed.push(b.id)
    expect(listed.length).toBeGreaterThanOrEqual(5)
    expect(new Set(listed).size).toBe(listed.length)
    expect((await client0.beta.messages.batches.delete(created.id)).type).toBe('message_batch_deleted')
  })

  test('GA messages.batches results', async () => {
    const b = await client0.messages.batches.create({ requests: [req('g1', 'hi')] })
    fake.finish(b.id)
    const lines = []
    for await (const l of await client0.messages.batches.results(b.id)) lines.push(l)
    expect(lines).toHaveLength(1)
    const r = lines[0]?.result
    if (r?.type !== 'succeeded') throw new Error('g1 should succeed')
    expect(r.message.content[0]).toEqual({ type: 'text', text: 'Reply to: hi' } as never)
    expect(r.message.model).toBe('claude-sonnet-4-5')
  })
})

describe('files', () => {
  test('SDK 1.12: upload, metadata, PageCursor listing, download rules, delete', async () => {
    const f = await client.beta.files.upload({ file: await toFile(Buffer.from('hello world'), 'dir/notes.txt', { type: 'text/plain' }) })
    expect(f.id).toMatch(/^file_/)
    expect(f).toMatchObject({ type: 'file', filename: 'notes.txt', mime_type: 'text/plain', size_bytes: 11, downloadable: false })
    expect(Number.isNaN(Date.parse(f.created_at))).toBe(false)
    const ga = await client.files.upload({ file: await toFile(Buffer.from('{"a":1}'), 'x.json', { type: 'application/json' }), expires_in_seconds: 3600 })
    expect(ga.expires_at).not.toBeNull()
    expect((await client.beta.files.retrieveMetadata(f.id)).filename).toBe('notes.txt')

    for (let i = 0; i < 4; i++) await client.files.upload({ file: await toFile(Buffer.from(`n${i}`), `n${i}.txt`, { type: 'text/plain' }) })
    const listed: string[] = []
    for await (const m of client.beta.files.list({ limit: 2 })) listed.push(m.id)
    expect(listed.length).toBe(fake.files.size)
    expect(new Set(listed).size).toBe(listed.length)
    expect(listed.at(-1)).toBe(f.id) // newest first
    expect(fake.requests.some((r) => r.path === '/v1/files' && r.query.includes('page=page_'))).toBe(true)
    expect(fake.requests.find((r) => r.path === '/v1/files')?.headers.authorization).toBe(`Bearer ${KEY}`)

    const dlErr = await client.files.download(f.id).catch((e: unknown) => e)
    expect(dlErr).toBeInstanceOf(Anthropic.FileNotDownloadableError)
    expect((dlErr as InstanceType<typeof Anthropic.BadRequestError>).status).toBe(400)
    const gen = fake.addDownloadableFile('chart.png', new Uint8Array([137, 80, 78, 71]))
    const dl = await client.beta.files.download(gen.id)
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]))
    expect((await client.files.retrieveMetadata(gen.id)).downloadable).toBe(true)

    expect(await client.beta.files.delete(f.id)).toEqual({ id: f.id, type: 'file_deleted' })
    expect(await rejection(client.beta.files.retrieveMetadata(f.id))).toBeInstanceOf(Anthropic.NotFoundError)
  })

  test('SDK 0.129: ?beta=true upload/list, and the old Page (before_id/after_id) generation', async () => {
    const f = await client0.beta.files.upload({ file: await toFile0(Buffer.from('abc'), 'a.txt', { type: 'text/plain' }) })
    expect(f.size_bytes).toBe(3)
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/v1/files' && r.query === '?beta=true')).toBe(true)
    const cursorIds: string[] = []
    for await (const m of client0.beta.files.list({ limit: 3 })) cursorIds.push(m.id)
    expect(cursorIds).toEqual([...fake.files.values()].sort((a, b) => b.seq - a.seq).map((x) => x.id))

    // Old SDKs (≤ 0.121) page files with before_id/after_id and the files beta header.
    const headers = { 'anthropic-beta': 'files-api-2025-04-14' }
    const pageIds: string[] = []
    for await (const m of client0.getAPIList<{ id: string }, Page<{ id: string }>>('/v1/files', Page, { query: { limit: 2 }, headers })) pageIds.push(m.id)
    expect(pageIds).toEqual(cursorIds)
    const back: string[] = []
    const last = cursorIds.at(-1) ?? ''
    for await (const m of client0.getAPIList<{ id: string }, Page<{ id: string }>>('/v1/files', Page, { query: { limit: 2, before_id: last }, headers })) back.push(m.id)
    expect(back.sort()).toEqual(cursorIds.slice(0, -1).sort())
  })

  test('upload validation and streaming of a larger file', async () => {
    const noFile = new FormData()
    noFile.append('purpose', 'x')
    await expectError(await raw('/v1/files', { method: 'POST', body: noFile }), 400, 'invalid_request_error', /file/)
    for (const expiry of ['60', '7776001', 'soon']) {
      const form = new FormData()
      form.append('file', new Blob(['x'], { type: 'text/plain' }), 'a.txt')
      form.append('expires_in_seconds', expiry)
      await expectError(await raw('/v1/files', { method: 'POST', body: form }), 400, 'invalid_request_error', /expires_in_seconds/)
    }
    await expectError(await raw('/v1/files', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request_error')
    await expectError(await raw('/v1/files?page=garbage'), 400, 'invalid_request_error')
    await expectError(await raw('/v1/files/file_missing'), 404, 'not_found_error')

    const big = new Uint8Array(20 * 1024 * 1024).fill(97)
    const form = new FormData()
    form.append('file', new Blob([big], { type: 'application/octet-stream' }), 'big.bin')
    const res = await raw('/v1/files', { method: 'POST', body: form })
    expect(res.status).toBe(200)
    const meta = (await res.json()) as { id: string; size_bytes: number; mime_type: string }
    expect(meta.size_bytes).toBe(big.length)
    expect(meta.mime_type).toBe('application/octet-stream')
    expect(Bun.file(fake.files.get(meta.id)?.path ?? '').size).toBe(big.length)
  })
})

describe('auth and headers', () => {
  test('wrong or missing key → 401 authentication_error (both SDKs)', async () => {
    const bad = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 })
    const err = await bad.messages.batches.list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    })
    const bad0 = new Anthropic0({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 })
    expect(await rejection(bad0.beta.files.list())).toBeInstanceOf(Anthropic0.AuthenticationError)
    await expectError(await fetch(`${fake.url}/v1/files`, { headers: { 'anthropic-version': '2023-06-01' } }), 401, 'authentication_error')
    await expectError(await raw('/v1/files', { headers: { 'x-api-key': 'nope' } }), 401, 'authentication_error')
  })

  test('missing anthropic-version → 400; Bearer accepted; unknown route → 404', async () => {
    await expectError(await fetch(`${fake.url}/v1/files`, { headers: { 'x-api-key': KEY } }), 400, 'invalid_request_error', /anthropic-version/)
    const ok = await fetch(`${fake.url}/v1/messages/batches?beta=true`, {
      headers: { authorization: `Bearer ${KEY}`, 'anthropic-version': '2026-10-21', 'anthropic-beta': 'anything-2099-01-01' },
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('request-id')).toMatch(/^req_/)
    await expectError(await raw('/v1/nothing'), 404, 'not_found_error')
  })
})
