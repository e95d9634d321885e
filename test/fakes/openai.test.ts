// Drives the OpenAI fake with the official `openai` SDK (retries off) through the Files and Batch
// lifecycles, plus raw-HTTP negative cases for what the typed SDK will not send.

import { afterAll, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import type { Batch } from 'openai/resources/batches'
import { type OpenAIFake, startOpenAIFake } from './openai'

const KEY = 'sk-test-openai'
const fakes: OpenAIFake[] = []
afterAll(async () => {
  for (const f of fakes) await f.close()
})

function setup(opts: { autoAdvance?: boolean; maxFileBytes?: number } = {}): { fake: OpenAIFake; client: OpenAI } {
  const fake = startOpenAIFake(opts)
  fakes.push(fake)
  return { fake, client: new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 }) }
}

async function raw(fake: OpenAIFake, method: string, path: string, body?: unknown, key: string | null = KEY): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {}
  if (key !== null) headers.authorization = `Bearer ${key}`
  let payload: RequestInit['body']
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const res = await fetch(`${fake.url}/v1${path}`, { method, headers, body: payload })
  return { status: res.status, json: await res.json() }
}

function chatLine(customId: string, prompt: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: prompt }] },
    ...extra,
  }
}

const jsonl = (lines: unknown[]): string => lines.map((l) => `${JSON.stringify(l)}\n`).join('')

async function uploadBatchInput(client: OpenAI, lines: unknown[]): Promise<string> {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'in.jsonl'), purpose: 'batch' })
  return file.id
}

async function createChatBatch(client: OpenAI, lines: unknown[]): Promise<Batch> {
  const input = await uploadBatchInput(client, lines)
  return client.batches.create({ input_file_id: input, endpoint: '/v1/chat/completions', completion_window: '24h' })
}

const TERMINAL_AT = ['completed_at', 'failed_at', 'expired_at', 'cancelled_at'] as const
function terminalStamps(b: { [K in (typeof TERMINAL_AT)[number]]?: number | null }): string[] {
  return TERMINAL_AT.filter((k) => b[k] !== null && b[k] !== undefined)
}

async function readJsonl(client: OpenAI, fileId: string): Promise<any[]> {
  const text = await (await client.files.content(fileId)).text()
  expect(text.endsWith('\n')).toBe(true)
  return text.trimEnd().split('\n').map((l) => JSON.parse(l))
}

describe('OpenAI fake — batch lifecycle', () => {
  test('chat batch: validating → in_progress → finalizing → completed with output and error files', async () => {
    const { fake, client } = setup()
    const lines = [
      chatLine('a', 'hello there'),
      chatLine('b', [
        { type: 'text', text: 'part one' },
        { type: 'text', text: 'part two' },
      ]),
      chatLine('c', 'please FAIL now'),
    ]
    const input = await uploadBatchInput(client, lines)
    const created = await client.batches.create({
      input_file_id: input,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
    })
    expect(created.id).toMatch(/^batch_[0-9a-f]{24}$/)
    expect(created.status).toBe('validating')
    expect(created.request_counts).toEqual({ total: 0, completed: 0, failed: 0 })
    expect(created.expires_at).toBe(created.created_at + 86400)
    expect(created.metadata).toEqual({ job: 'nightly' })
    expect(terminalStamps(created)).toEqual([])

    const seen: string[] = []
    let batch = created
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      batch = await client.batches.retrieve(created.id)
      seen.push(batch.status)
    }
    expect(seen).toEqual(['in_progress', 'finalizing', 'completed'])
    expect(batch.in_progress_at).toBeNumber()
    expect(batch.finalizing_at).toBeNumber()
    expect(terminalStamps(batch)).toEqual(['completed_at'])
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 })
    expect(batch.model).toBe('gpt-4o-mini')
    expect(batch.errors).toBeNull()

    const outFile = await client.files.retrieve(batch.output_file_id!)
    expect(outFile.purpose).toBe('batch_output')
    expect(outFile.filename).toBe(`batch_${batch.id}_output.jsonl`)

    const out = await readJsonl(client, batch.output_file_id!)
    expect(out.map((l) => l.custom_id)).toEqual(['b', 'a']) // deliberately not input order
    const a = out.find((l) => l.custom_id === 'a')
    expect(a.id).toMatch(/^batch_req_/)
    expect(a.error).toBeNull()
    expect(a.response.status_code).toBe(200)
    expect(a.response.request_id).toMatch(/^req_/)
    expect(a.response.body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Reply to: hello there', refusal: null }, finish_reason: 'stop', logprobs: null }],
    })
    expect(a.response.body.id).toMatch(/^chatcmpl-/)
    expect(a.response.body.usage.total_tokens).toBe(a.response.body.usage.prompt_tokens + a.response.body.usage.completion_tokens)
    expect(out.find((l) => l.custom_id === 'b').response.body.choices[0].message.content).toBe('Reply to: part one\npart two')

    const err = await readJsonl(client, batch.error_file_id!)
    expect(err).toHaveLength(1)
    expect(err[0].custom_id).toBe('c')
    expect(err[0].error).toBeNull()
    expect(err[0].response.status_code).toBe(400)
    expect(err[0].response.body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null })
    expect(err[0].response.body.error.message).toContain('FAIL')

    // Retrieving a terminal batch changes nothing.
    expect((await client.batches.retrieve(batch.id)).status).toBe('completed')
  })

  test('no failures → error_file_id null; all failures → output_file_id null', async () => {
    const { fake, client } = setup()
    const good = fake.finish((await createChatBatch(client, [chatLine('x', 'fine')])).id)
    expect(good.output_file_id).toMatch(/^file-[A-Za-z0-9]{24}$/)
    expect(good.error_file_id).toBeNull()
    const bad = fake.finish((await createChatBatch(client, [chatLine('y', 'FAIL')])).id)
    expect(bad.output_file_id).toBeNull()
    expect(bad.error_file_id).not.toBeNull()
    expect(bad.request_counts).toEqual({ total: 1, completed: 0, failed: 1 })
  })

  test('invalid input lines → failed with errors, total 0, no files', async () => {
    const { client } = setup()
    const b = await createChatBatch(client, [
      chatLine('dup', 'one'),
      chatLine('dup', 'two'),
      chatLine('wrong-url', 'three', { url: '/v1/embeddings' }),
      chatLine('get', 'four', { method: 'GET' }),
    ])
    const failed = await client.batches.retrieve(b.id)
    expect(failed.status).toBe('failed')
    expect(terminalStamps(failed)).toEqual(['failed_at'])
    expect(failed.in_progress_at).toBeNull()
    expect(failed.request_counts).toEqual({ total: 0, completed: 0, failed: 0 })
    expect(failed.output_file_id).toBeNull()
    expect(failed.error_file_id).toBeNull()
    expect(failed.errors?.object).toBe('list')
    expect(failed.errors?.data?.map((e) => [e.line, e.param])).toEqual([
      [2, 'custom_id'],
      [3, 'url'],
      [4, 'method'],
    ])
  })

  test('non-JSON line → failed with the line number', async () => {
    const { fake, client } = setup()
    const file = await client.files.create({ file: await toFile(Buffer.from(`${JSON.stringify(chatLine('a', 'x'))}\n{oops\n`), 'in.jsonl'), purpose: 'batch' })
    const b = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const done = fake.finish(b.id)
    expect(done.status).toBe('failed')
    expect(done.errors?.data).toEqual([{ code: 'invalid_json_line', message: expect.any(String), param: null, line: 2 }])
  })

  test('embeddings batch gets embedding lists', async () => {
    const { fake, client } = setup()
    const input = await uploadBatchInput(client, [{ custom_id: 'e1', method: 'POST', url: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'abc' } }])
    const b = await client.batches.create({ input_file_id: input, endpoint: '/v1/embeddings', completion_window: '24h' })
    const done = fake.finish(b.id)
    const [line] = await readJsonl(client, done.output_file_id!)
    expect(line.response.body.object).toBe('list')
    expect(line.response.body.data[0].object).toBe('embedding')
    expect(line.response.body.data[0].embedding).toHaveLength(8)
  })

  test('cancel while frozen (autoAdvance:false): cancelling stays until finish, leftovers are batch_cancelled', async () => {
    const { fake, client } = setup({ autoAdvance: false })
    const b = await createChatBatch(client, [chatLine('a', 'one'), chatLine('b', 'two')])
    expect((await client.batches.retrieve(b.id)).status).toBe('validating') // frozen
    const cancelling = await client.batches.cancel(b.id)
    expect(cancelling.status).toBe('cancelling')
    expect(cancelling.cancelling_at).toBeNumber()
    expect((await client.batches.retrieve(b.id)).status).toBe('cancelling')
    const done = fake.finish(b.id)
    expect(done.status).toBe('cancelled')
    expect(terminalStamps(done)).toEqual(['cancelled_at'])
    expect(done.output_file_id).toBeNull()
    expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 })
    const err = await readJsonl(client, done.error_file_id!)
    expect(err.map((l) => l.custom_id).sort()).toEqual(['a', 'b'])
    for (const l of err) {
      expect(l.response).toBeNull()
      expect(l.error.code).toBe('batch_cancelled')
    }
    // A cancelled batch cannot be cancelled again.
    const again = await client.batches.cancel(b.id).catch((e: unknown) => e)
    expect(again).toBeInstanceOf(OpenAI.BadRequestError)
    expect((again as InstanceType<typeof OpenAI.BadRequestError>).type).toBe('invalid_request_error')
    expect((again as Error).message).toContain('cannot be cancelled')
  })

  test('cancel with autoAdvance: cancelling, then cancelled on the next GET; finished requests are kept', async () => {
    const { client } = setup()
    const b = await createChatBatch(client, [chatLine('a', 'one'), chatLine('b', 'FAIL two')])
    await client.batches.retrieve(b.id) // in_progress
    await client.batches.retrieve(b.id) // finalizing: requests have run
    expect((await client.batches.cancel(b.id)).status).toBe('cancelling')
    const done = await client.batches.retrieve(b.id)
    expect(done.status).toBe('cancelled')
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    expect((await readJsonl(client, done.output_file_id!))[0].custom_id).toBe('a')
    expect((await readJsonl(client, done.error_file_id!))[0].response.status_code).toBe(400)
  })

  test('cancel of a completed batch → 400', async () => {
    const { fake, client } = setup()
    const b = await createChatBatch(client, [chatLine('a', 'one')])
    fake.finish(b.id)
    const res = await raw(fake, 'POST', `/batches/${b.id}/cancel`)
    expect(res.status).toBe(400)
    expect(res.json.error.type).toBe('invalid_request_error')
    expect(res.json.error.message).toContain('cannot be cancelled')
  })

  test('expire: unrun requests become batch_expired error lines', async () => {
    const { fake, client } = setup({ autoAdvance: false })
    const b = await createChatBatch(client, [chatLine('a', 'one'), chatLine('b', 'two')])
    fake.advance(b.id) // in_progress, nothing run yet
    const done = fake.expire(b.id)
    expect(done.status).toBe('expired')
    expect(terminalStamps(done)).toEqual(['expired_at'])
    const err = await readJsonl(client, done.error_file_id!)
    expect(err).toHaveLength(2)
    expect(err[0]).toMatchObject({ response: null, error: { code: 'batch_expired' } })
    expect(fake.expire(b.id).status).toBe('expired') // terminal: no-op
  })

  test('list batches: newest first, limit and after paging', async () => {
    const { client } = setup()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await createChatBatch(client, [chatLine(`r${i}`, 'x')])).id)
    const page = await client.batches.list({ limit: 2 })
    expect(page.data.map((b) => b.id)).toEqual([ids[2]!, ids[1]!])
    expect(page.has_more).toBe(true)
    const all: string[] = []
    for await (const b of client.batches.list({ limit: 2 })) all.push(b.id)
    expect(all).toEqual([...ids].reverse())
  })
})

describe('OpenAI fake — files', () => {
  test('upload with expires_after, retrieve, list filters and paging, download, delete', async () => {
    const { fake, client } = setup()
    const f1 = await client.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), 'one.jsonl'),
      purpose: 'batch',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    })
    expect(f1).toMatchObject({ object: 'file', bytes: 8, filename: 'one.jsonl', purpose: 'batch', status: 'processed' })
    expect(f1.id).toMatch(/^file-[A-Za-z0-9]{24}$/)
    expect(f1.expires_at).toBe(f1.created_at + 3600)
    const f2 = await client.files.create({ file: await toFile(Buffer.from('hello'), 'two.txt'), purpose: 'user_data' })
    expect(f2.expires_at).toBeNull()
    const f3 = await client.files.create({ file: await toFile(Buffer.from('x'), 'three.jsonl'), purpose: 'batch' })
    expect(f3.expires_at).toBe(f3.created_at + 30 * 86400)
    expect(fake.countFiles()).toBe(3)
    expect(fake.files.get(f2.id)?.filename).toBe('two.txt')

    expect((await client.files.retrieve(f2.id)).bytes).toBe(5)
    const desc = await client.files.list()
    expect(desc.data.map((f) => f.id)).toEqual([f3.id, f2.id, f1.id])
    expect(desc.has_more).toBe(false)
    const asc = await client.files.list({ order: 'asc', purpose: 'batch' })
    expect(asc.data.map((f) => f.id)).toEqual([f1.id, f3.id])
    const paged: string[] = []
    for await (const f of client.files.list({ limit: 1, order: 'asc' })) paged.push(f.id)
    expect(paged).toEqual([f1.id, f2.id, f3.id])

    expect(await (await client.files.content(f2.id)).text()).toBe('hello')
    expect(await client.files.delete(f2.id)).toEqual({ id: f2.id, object: 'file', deleted: true })
    expect(fake.countFiles()).toBe(2)
    const gone = await client.files.retrieve(f2.id).catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError)
    const res = await raw(fake, 'GET', `/files/${f2.id}/content`)
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null } })
  })

  test('a 20 MB upload is streamed to disk intact', async () => {
    const { fake, client } = setup()
    const data = Buffer.alloc(20 * 1024 * 1024, 'abcdefghij')
    const f = await client.files.create({ file: await toFile(data, 'big.bin'), purpose: 'user_data' })
    expect(f.bytes).toBe(data.length)
    const back = Buffer.from(await (await client.files.content(f.id)).arrayBuffer())
    expect(back.equals(data)).toBe(true)
    expect(Bun.file(fake.files.get(f.id)!.path).size).toBe(data.length)
  })

  test('upload validation: missing file, missing/invalid purpose, bad expires_after, too large', async () => {
    const { fake } = setup({ maxFileBytes: 10 })
    const form = (fields: Record<string, string>, withFile = true, content = 'abc'): FormData => {
      const fd = new FormData()
      if (withFile) fd.append('file', new Blob([content]), 'in.jsonl')
      for (const [k, v] of Object.entries(fields)) fd.append(k, v)
      return fd
    }
    const cases: [FormData, string][] = [
      [form({ purpose: 'batch' }, false), 'file'],
      [form({}), 'purpose'],
      [form({ purpose: 'nonsense' }), 'purpose'],
      [form({ purpose: 'batch', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '10' }), 'expires_after.seconds'],
      [form({ purpose: 'batch', 'expires_after[anchor]': 'last_active_at', 'expires_after[seconds]': '3600' }), 'expires_after.anchor'],
      [form({ purpose: 'batch' }, true, 'x'.repeat(11)), 'file'],
    ]
    for (const [body, param] of cases) {
      const res = await raw(fake, 'POST', '/files', body)
      expect(res.status).toBe(400)
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param })
    }
    expect(fake.countFiles()).toBe(0)
    expect((await raw(fake, 'POST', '/files', form({ purpose: 'batch' }, true, 'x'.repeat(10)))).status).toBe(200)
  })

  test('Uploads API assembles parts in part_ids order', async () => {
    const { client } = setup()
    const up = await client.uploads.create({ filename: 'big.jsonl', purpose: 'batch', bytes: 6, mime_type: 'text/jsonl' })
    expect(up.status).toBe('pending')
    const p1 = await client.uploads.parts.create(up.id, { data: await toFile(Buffer.from('abc'), 'p1') })
    const p2 = await client.uploads.parts.create(up.id, { data: await toFile(Buffer.from('def'), 'p2') })
    const bad = await client.uploads.complete(up.id, { part_ids: [p1.id] }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    const done = await client.uploads.complete(up.id, { part_ids: [p2.id, p1.id] })
    expect(done.status).toBe('completed')
    expect(done.file?.bytes).toBe(6)
    expect(await (await client.files.content(done.file!.id)).text()).toBe('defabc')
  })
})

describe('OpenAI fake — auth and request validation', () => {
  test('wrong key → 401 invalid_api_key; missing key → 401', async () => {
    const { fake } = setup()
    const wrong = new OpenAI({ apiKey: 'sk-wrong-key-123', baseURL: `${fake.url}/v1`, maxRetries: 0 })
    const err = await wrong.files.list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
    const authErr = err as InstanceType<typeof OpenAI.AuthenticationError>
    expect(authErr.code).toBe('invalid_api_key')
    expect(authErr.type).toBe('invalid_request_error')
    expect(authErr.message).toContain('Incorrect API key provided')
    const missing = await raw(fake, 'GET', '/batches', undefined, null)
    expect(missing.status).toBe(401)
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null })
  })

  test('batch create validation', async () => {
    const { fake, client } = setup()
    const input = await uploadBatchInput(client, [chatLine('a', 'x')])
    const other = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data' })
    const ok = { input_file_id: input, endpoint: '/v1/chat/completions', completion_window: '24h' }
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    const cases: [Record<string, unknown>, string | null][] = [
      [{ ...ok, input_file_id: undefined }, 'input_file_id'],
      [{ ...ok, input_file_id: 'file-doesnotexist' }, 'input_file_id'],
      [{ ...ok, input_file_id: other.id }, 'input_file_id'],
      [{ ...ok, endpoint: '/v1/nope' }, 'endpoint'],
      [{ ...ok, completion_window: '48h' }, 'completion_window'],
      [{ ...ok, metadata }, 'metadata'],
      [{ ...ok, metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
      [{ ...ok, metadata: { k: 'v'.repeat(513) } }, 'metadata'],
      [{ ...ok, output_expires_after: { anchor: 'created_at', seconds: 60 } }, 'output_expires_after.seconds'],
    ]
    for (const [body, param] of cases) {
      const res = await raw(fake, 'POST', '/batches', body)
      expect(res.status).toBe(400)
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param })
    }
    expect(fake.batches.size).toBe(0)
    const sdkErr = await client.batches
      .create({ input_file_id: other.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      .catch((e: unknown) => e)
    expect(sdkErr).toBeInstanceOf(OpenAI.BadRequestError)
  })

  test('unknown ids and routes → 404 envelope', async () => {
    const { fake, client } = setup()
    const nf = await client.batches.retrieve('batch_nope').catch((e: unknown) => e)
    expect(nf).toBeInstanceOf(OpenAI.NotFoundError)
    for (const [method, path] of [
      ['GET', '/batches/batch_nope'],
      ['POST', '/batches/batch_nope/cancel'],
      ['DELETE', '/files/file-nope'],
      ['GET', '/nothing/here'],
      ['PUT', '/files'],
    ] as const) {
      const res = await raw(fake, method, path)
      expect(res.status).toBe(404)
      expect(res.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null } })
    }
  })
})

describe('OpenAI fake — harness integration', () => {
  test('fault injection and request recording', async () => {
    const { fake, client } = setup()
    fake.faults.add({ status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } }, match: (_r, u) => u.pathname === '/v1/files' })
    const err = await client.files.list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.InternalServerError)
    expect((await client.files.list()).data).toEqual([])
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/files', 'GET /v1/files'])
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`)
  })
})
