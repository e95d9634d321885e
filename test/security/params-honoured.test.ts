// Issue 11 class 11: nothing the caller sends is dropped in silence. One table over every
// documented parameter in every place the docs let it appear (JSON body, multipart form field,
// query string, header): each row asserts the parameter was honoured (an effect a client or the
// upstream can see) or refused with a 400 naming it. Calls go through the official SDKs' own
// extension points (extra params, `query` options, default headers) where a client would use them.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { TEST_BUCKET } from '../fakes/start'
import { failure } from '../resilience/api-failure'
import { batchItem, batchLine, call, KEYS, MODELS, multipart, startWorld, type World } from './world'

let world: World
let openai: OpenAI
const anthropicFor = (provider?: string) =>
  new Anthropic({
    baseURL: `${world.gw.url}/anthropic`,
    apiKey: KEYS.alice,
    maxRetries: 0,
    defaultHeaders: provider ? { 'x-model-provider': provider } : {},
  })

beforeAll(async () => {
  world = await startWorld()
  openai = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: KEYS.alice, maxRetries: 0 })
})
afterAll(async () => {
  await world.close()
})

const jsonlFor = (model: string, ...ids: string[]) => `${ids.map((id) => batchLine(id, { model })).join('\n')}\n`
const upload = async (extra: Record<string, unknown> = {}, model: string = MODELS.openai) =>
  openai.files.create({ file: await toFile(Buffer.from(jsonlFor(model, 'a', 'b')), 'in.jsonl'), purpose: 'batch', ...extra } as never)
const createBatch = (fileId: string, extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
  openai.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra } as never, options as never)
const storedFile = async (id: string) => (await world.gw.store.files.get(id, 'alice'))!
const storedBatch = async (id: string) => (await world.gw.store.batches.get(id, 'alice'))!

/** A 400 in the OpenAI envelope naming `param` (in `param` or the message). */
async function refused(run: Promise<unknown>, param: string): Promise<void> {
  const got = await failure(run)
  expect(got.status).toBe(400)
  const error = got.error as { message: string; param: string | null }
  expect(`${error.param ?? ''} ${error.message}`).toContain(param)
}

/** The same for the Anthropic envelope. */
async function refusedAnthropic(run: Promise<unknown>, names: string): Promise<void> {
  const got = await failure(run)
  expect(got.status).toBe(400)
  expect((got.error as { error: { type: string; message: string } }).error).toMatchObject({ type: 'invalid_request_error' })
  expect(got.message).toContain(names)
}

interface Row {
  param: string
  place: 'body' | 'form' | 'query' | 'header'
  want: 'honoured' | 400
  /** What is sent, in words. */
  case: string
  run: () => Promise<void>
}

const ROWS: Row[] = [
  // ── provider, every OpenAI route ──
  { param: 'provider', place: 'form', want: 'honoured', case: 'upload to anthropic', run: async () => {
    const f = await upload({ provider: 'anthropic' })
    expect((await storedFile(f.id)).provider).toBe('anthropic')
  } },
  { param: 'provider', place: 'query', want: 'honoured', case: 'upload to gemini', run: async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from(jsonlFor(MODELS.gemini, 'a')), 'in.jsonl'), purpose: 'batch' }, { query: { provider: 'gemini' } } as never)
    expect((await storedFile(f.id)).provider).toBe('gemini')
  } },
  { param: 'provider', place: 'form', want: 400, case: 'form and query disagree', run: () =>
    refused((async () => openai.files.create({ file: await toFile(Buffer.from(jsonlFor(MODELS.openai, 'a')), 'in.jsonl'), purpose: 'batch', provider: 'anthropic' } as never, { query: { provider: 'gemini' } } as never))(), 'provider') },
  { param: 'provider', place: 'body', want: 'honoured', case: 'inline create on anthropic', run: async () => {
    const b = await createBatch('', { provider: 'anthropic', requests: [batchItem('a')] })
    expect((await storedBatch(b.id)).provider).toBe('anthropic')
  } },
  { param: 'provider', place: 'query', want: 'honoured', case: 'inline create on anthropic', run: async () => {
    const b = await createBatch('', { requests: [batchItem('a')] }, { query: { provider: 'anthropic' } })
    expect((await storedBatch(b.id)).provider).toBe('anthropic')
  } },
  { param: 'provider', place: 'body', want: 400, case: 'body and query disagree', run: () =>
    refused(createBatch('', { provider: 'anthropic', requests: [batchItem('a')] }, { query: { provider: 'gemini' } }), 'provider') },
  { param: 'provider', place: 'query', want: 'honoured', case: 'files.retrieve / content / delete with another provider: 404', run: async () => {
    const f = await upload()
    for (const run of [() => openai.files.retrieve(f.id, { query: { provider: 'gemini' } } as never), () => openai.files.content(f.id, { query: { provider: 'gemini' } } as never), () => openai.files.delete(f.id, { query: { provider: 'gemini' } } as never)]) {
      expect((await failure(run())).status).toBe(404)
    }
    expect((await openai.files.retrieve(f.id, { query: { provider: 'openai' } } as never)).id).toBe(f.id)
  } },
  { param: 'provider', place: 'query', want: 'honoured', case: 'files.list and batches.list filter by provider', run: async () => {
    await upload({ provider: 'anthropic' })
    const listed = await openai.files.list({ provider: 'anthropic' } as never)
    expect(listed.data.length).toBeGreaterThan(0)
    for (const f of listed.data) expect((await storedFile(f.id)).provider).toBe('anthropic')
    await createBatch('', { provider: 'anthropic', requests: [batchItem('l')] })
    const batches = await openai.batches.list({ provider: 'anthropic' } as never)
    expect(batches.data.length).toBeGreaterThan(0)
    for (const b of batches.data) expect((await storedBatch(b.id)).provider).toBe('anthropic')
  } },
  { param: 'provider', place: 'query', want: 'honoured', case: 'batches.retrieve with another provider: 404', run: async () => {
    const b = await createBatch('', { provider: 'anthropic', requests: [batchItem('r')] })
    expect((await failure(openai.batches.retrieve(b.id, { query: { provider: 'gemini' } } as never))).status).toBe(404)
  } },
  { param: 'provider', place: 'body', want: 'honoured', case: 'cancel with extra_body provider (the seed): another provider is a 404', run: async () => {
    const b = await createBatch('', { provider: 'anthropic', requests: [batchItem('c')] })
    const wrong = await call(world.gw.url, `/openai/v1/batches/${b.id}/cancel`, { json: { provider: 'gemini' } })
    expect(wrong.status).toBe(404)
    const right = await call(world.gw.url, `/openai/v1/batches/${b.id}/cancel`, { json: { provider: 'anthropic' } })
    expect(right.status).toBe(200)
  } },
  { param: 'colour', place: 'body', want: 400, case: 'unknown field on cancel', run: async () => {
    const b = await createBatch('', { provider: 'anthropic', requests: [batchItem('u')] })
    const got = await call(world.gw.url, `/openai/v1/batches/${b.id}/cancel`, { json: { colour: 'red' } })
    expect(got.status).toBe(400)
    expect((got.json as { error: { param: string } }).error.param).toBe('colour')
  } },
  // ── upload form fields ──
  { param: 'purpose', place: 'form', want: 'honoured', case: 'user_data', run: async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from('notes'), 'n.txt'), purpose: 'user_data' })
    expect(f.purpose).toBe('user_data')
  } },
  { param: 'purpose', place: 'query', want: 'honoured', case: 'files.list purpose filter', run: async () => {
    const listed = await openai.files.list({ purpose: 'user_data' })
    expect(listed.data.length).toBeGreaterThan(0)
    for (const f of listed.data) expect(f.purpose).toBe('user_data')
  } },
  { param: 'expires_after', place: 'form', want: 'honoured', case: 'anchor created_at, 7200 s', run: async () => {
    const f = await upload({ expires_after: { anchor: 'created_at', seconds: 7200 } })
    expect(f.expires_at).toBe(f.created_at + 7200)
  } },
  { param: 'expires_after', place: 'form', want: 'honoured', case: 'forwarded to openai, and past it the file is gone', run: async () => {
    const f = await upload({ expires_after: { anchor: 'created_at', seconds: 3600 } })
    const upstreamId = ((await storedFile(f.id)).location as { upstreamId: string }).upstreamId
    const res = await fetch(`${world.fakes.env.OPENAI_BASE_URL}/files/${upstreamId}`, { headers: { authorization: `Bearer ${world.fakes.env.OPENAI_API_KEY}` } })
    const up = (await res.json()) as { created_at: number; expires_at: number }
    expect(up.expires_at - up.created_at).toBe(3600)
    // An hour later (the clock moved by editing the row): not listed, not readable, bytes gone upstream.
    world.gw.store.db.query('UPDATE files SET expires_at = ? WHERE id = ?').run(Math.floor(Date.now() / 1000) - 1, f.id)
    expect((await openai.files.list({ limit: 10000 })).data.map((x) => x.id)).not.toContain(f.id)
    expect((await failure(openai.files.retrieve(f.id))).status).toBe(404)
    expect((await failure(openai.files.content(f.id))).status).toBe(404)
    expect(world.fakes.openai.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(upstreamId))).toBe(true)
  } },
  { param: 'expires_in_seconds', place: 'form', want: 'honoured', case: 'Anthropic upload, past it the file is gone', run: async () => {
    const f = await anthropicFor().beta.files.upload({ file: new File(['notes'], 'n.txt', { type: 'text/plain' }), expires_in_seconds: 3600 } as never)
    world.gw.store.db.query('UPDATE files SET expires_at = ? WHERE id = ?').run(Math.floor(Date.now() / 1000) - 1, f.id)
    expect((await failure(anthropicFor().beta.files.retrieveMetadata(f.id))).status).toBe(404)
  } },
  { param: 'expires_after[seconds]', place: 'form', want: 400, case: '60 s', run: () => refused(upload({ expires_after: { anchor: 'created_at', seconds: 60 } }), 'expires_after[seconds]') },
  { param: 'storage_config', place: 'form', want: 'honoured', case: 'bedrock bucket and prefix', run: async () => {
    const f = await upload({ provider: 'bedrock', storage_config: { s3: { bucket: TEST_BUCKET, prefix: 'mine/in' } } }, MODELS.bedrock)
    const location = (await storedFile(f.id)).location as { bucket?: string; key?: string }
    expect(location.bucket).toBe(TEST_BUCKET)
    expect(location.key).toStartWith('mine/in/')
  } },
  { param: 'storage_config', place: 'form', want: 400, case: 'on an openai upload', run: () =>
    refused(upload({ storage_config: { s3: { bucket: TEST_BUCKET } } }), 'storage_config') },
  { param: 'storage_config', place: 'query', want: 'honoured', case: 'files.list of bedrock files by prefix (the seed)', run: async () => {
    const a = await upload({ provider: 'bedrock', storage_config: { s3: { bucket: TEST_BUCKET, prefix: 'list-a' } } }, MODELS.bedrock)
    const b = await upload({ provider: 'bedrock', storage_config: { s3: { bucket: TEST_BUCKET, prefix: 'list-b' } } }, MODELS.bedrock)
    const listed = await openai.files.list({ provider: 'bedrock', storage_config: { s3: { bucket: TEST_BUCKET, prefix: 'list-a' } } } as never)
    const ids = listed.data.map((f) => f.id)
    expect(ids).toContain(a.id)
    expect(ids).not.toContain(b.id)
  } },
  { param: 'storage_config', place: 'query', want: 400, case: 'files.list of openai files', run: () =>
    refused(openai.files.list({ storage_config: { s3: { bucket: TEST_BUCKET } } } as never), 'storage_config') },
  { param: 'colour', place: 'form', want: 400, case: 'unknown upload field', run: () => refused(upload({ colour: 'red' }), 'colour') },
  // ── batch create body ──
  { param: 'model', place: 'body', want: 'honoured', case: 'gemini batch model', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    const b = await createBatch(f.id, { provider: 'gemini', model: MODELS.gemini })
    expect((await storedBatch(b.id)).snapshot.model).toBe(MODELS.gemini)
  } },
  { param: 'model', place: 'body', want: 'honoured', case: 'openai batch naming the model its lines name', run: async () => {
    const f = await upload()
    expect((await createBatch(f.id, { model: MODELS.openai })).id).toMatch(/^batch_/)
  } },
  { param: 'model', place: 'body', want: 400, case: 'openai batch naming another model', run: async () => {
    const f = await upload()
    await refused(createBatch(f.id, { model: 'gpt-4o' }), 'model')
  } },
  { param: 'output_s3_uri', place: 'body', want: 'honoured', case: 'bedrock output location', run: async () => {
    const f = await upload({ provider: 'bedrock' }, MODELS.bedrock)
    const b = await createBatch(f.id, { provider: 'bedrock', model: MODELS.bedrock, output_s3_uri: `s3://${TEST_BUCKET}/out-here/` })
    const job = world.fakes.bedrock.job((await storedBatch(b.id)).upstreamId)
    expect(job?.outputDataConfig.s3OutputDataConfig.s3Uri).toStartWith(`s3://${TEST_BUCKET}/out-here/`)
  } },
  { param: 'output_s3_uri', place: 'body', want: 400, case: 'on an openai batch', run: async () => {
    const f = await upload()
    await refused(createBatch(f.id, { output_s3_uri: `s3://${TEST_BUCKET}/out/` }), 'output_s3_uri')
  } },
  { param: 'role_arn', place: 'body', want: 400, case: 'on a gemini batch', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    await refused(createBatch(f.id, { provider: 'gemini', model: MODELS.gemini, role_arn: 'arn:aws:iam::123456789012:role/x' }), 'role_arn')
  } },
  { param: 'requests', place: 'body', want: 400, case: 'with a non-empty input_file_id', run: async () => {
    const f = await upload()
    await refused(createBatch(f.id, { requests: [batchItem('a')] }), 'requests')
  } },
  { param: 'metadata', place: 'body', want: 'honoured', case: 'on a gemini batch', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    const b = await createBatch(f.id, { provider: 'gemini', model: MODELS.gemini, metadata: { team: 'blue' } })
    expect((await openai.batches.retrieve(b.id)).metadata).toEqual({ team: 'blue' })
  } },
  { param: 'completion_window', place: 'body', want: 400, case: '72h on openai', run: async () => {
    const f = await upload()
    await refused(createBatch(f.id, { completion_window: '72h' }), 'completion_window')
  } },
  { param: 'output_expires_after', place: 'body', want: 'honoured', case: 'forwarded to openai', run: async () => {
    const f = await upload()
    const b = await createBatch(f.id, { output_expires_after: { anchor: 'created_at', seconds: 7200 } })
    let done = await openai.batches.retrieve(b.id)
    for (let i = 0; i < 10 && done.status !== 'completed'; i++) done = await openai.batches.retrieve(b.id)
    const upstream = world.fakes.openai.batches.get((await storedBatch(b.id)).upstreamId)
    const res = await fetch(`${world.fakes.env.OPENAI_BASE_URL}/files/${upstream?.output_file_id}`, { headers: { authorization: `Bearer ${world.fakes.env.OPENAI_API_KEY}` } })
    const out = (await res.json()) as { created_at: number; expires_at: number }
    expect(out.expires_at - out.created_at).toBe(7200)
  } },
  { param: 'output_expires_after', place: 'body', want: 400, case: 'on a gemini batch', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    await refused(createBatch(f.id, { provider: 'gemini', model: MODELS.gemini, output_expires_after: { anchor: 'created_at', seconds: 7200 } }), 'output_expires_after')
  } },
  { param: 'endpoint', place: 'body', want: 400, case: '/v1/embeddings on gemini', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    await refused(createBatch(f.id, { provider: 'gemini', model: MODELS.gemini, endpoint: '/v1/embeddings' }), 'endpoint')
  } },
  { param: 'colour', place: 'body', want: 400, case: 'unknown create field', run: () => refused(createBatch('file-x', { colour: 'red' }), 'colour') },
  // ── list params ──
  { param: 'limit/after', place: 'query', want: 'honoured', case: 'files.list pages', run: async () => {
    const first = await openai.files.list({ limit: 2 })
    expect(first.data.length).toBe(2)
    const next = await openai.files.list({ limit: 2, after: first.data[1]?.id })
    expect(next.data[0]?.id).not.toBe(first.data[0]?.id)
    expect(next.data.map((f) => f.id)).not.toContain(first.data[1]?.id)
  } },
  { param: 'order', place: 'query', want: 'honoured', case: 'asc is the reverse of desc', run: async () => {
    const asc = (await openai.files.list({ order: 'asc', limit: 100 })).data.map((f) => f.id)
    const desc = (await openai.files.list({ order: 'desc', limit: 100 })).data.map((f) => f.id)
    expect(asc).toEqual([...desc].reverse())
  } },
  { param: 'order', place: 'query', want: 400, case: 'on batches.list (OpenAI has none)', run: () => refused(openai.batches.list({ order: 'asc' } as never), 'order') },
  { param: 'model', place: 'query', want: 'honoured', case: 'batches.list filter (the seed, for bedrock)', run: async () => {
    const f = await upload({ provider: 'gemini' }, MODELS.gemini)
    const g = await createBatch(f.id, { provider: 'gemini', model: MODELS.gemini })
    const listed = await openai.batches.list({ model: MODELS.gemini, limit: 100 } as never)
    expect(listed.data.map((b) => b.id)).toContain(g.id)
    for (const b of listed.data) expect((await storedBatch(b.id)).snapshot.model).toBe(MODELS.gemini)
  } },
  { param: 'colour', place: 'query', want: 400, case: 'unknown query on every OpenAI route', run: async () => {
    const f = await upload()
    for (const path of ['/files', `/files/${f.id}`, `/files/${f.id}/content`, '/batches']) {
      const got = await call(world.gw.url, `/openai/v1${path}?colour=red`)
      expect(got.status, path).toBe(400)
      expect((got.json as { error: { param: string } }).error.param).toBe('colour')
    }
  } },
  // ── Anthropic dialect ──
  { param: 'x-model-provider', place: 'header', want: 'honoured', case: 'retrieve with another provider: 404', run: async () => {
    const b = await anthropicFor('openai').messages.batches.create({ requests: [batchItem('h', { params: { model: MODELS.openai } }) as never] })
    expect((await failure(anthropicFor('gemini').messages.batches.retrieve(b.id))).status).toBe(404)
    expect((await anthropicFor('openai').messages.batches.retrieve(b.id)).id).toBe(b.id)
  } },
  { param: 'limit/after_id/before_id', place: 'query', want: 'honoured', case: 'batches.list pages both ways', run: async () => {
    const client = anthropicFor()
    for (const id of ['p1', 'p2', 'p3']) await client.messages.batches.create({ requests: [batchItem(id) as never] })
    const first = await client.messages.batches.list({ limit: 2 })
    expect(first.data.length).toBe(2)
    const after = await client.messages.batches.list({ limit: 2, after_id: first.data[1]?.id })
    expect(after.data.map((b) => b.id)).not.toContain(first.data[1]?.id)
    const before = await client.messages.batches.list({ limit: 1, before_id: first.data[1]?.id })
    expect(before.data.map((b) => b.id)).toEqual([first.data[0]?.id as string])
  } },
  { param: 'before_id+after_id', place: 'query', want: 400, case: 'both cursors', run: () =>
    refusedAnthropic(anthropicFor().messages.batches.list({ before_id: 'msgbatch_a', after_id: 'msgbatch_b' }), 'before_id and after_id') },
  { param: 'colour', place: 'query', want: 400, case: 'unknown query on Anthropic routes', run: async () => {
    for (const path of ['/files', '/messages/batches']) {
      const got = await call(world.gw.url, `/anthropic/v1${path}?colour=red`)
      expect(got.status, path).toBe(400)
      expect(got.text).toContain('colour')
    }
  } },
  { param: 'colour', place: 'form', want: 400, case: 'unknown Anthropic upload field', run: async () => {
    const form = multipart([{ name: 'colour', value: 'red' }, { name: 'file', value: 'hello', filename: 'a.txt' }])
    const got = await call(world.gw.url, '/anthropic/v1/files', { body: form.body, headers: form.headers })
    expect(got.status).toBe(400)
    expect(got.text).toContain('colour')
  } },
  { param: 'colour', place: 'body', want: 400, case: 'unknown Anthropic create field', run: () =>
    refusedAnthropic(anthropicFor().messages.batches.create({ requests: [batchItem('x') as never], colour: 'red' } as never), 'colour') },
]

describe('every documented parameter is honoured or refused, never dropped', () => {
  for (const row of ROWS) {
    test(`${row.param} × ${row.place}: ${row.case} → ${row.want}`, row.run)
  }
})
