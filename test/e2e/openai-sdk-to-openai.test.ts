// The official `openai` client → batchgate → the OpenAI fake: the seed workflow for provider
// openai (Files + Batches), pagination, restart persistence and the bad-input cases of issue 3.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { type OpenAIFake, startOpenAIFake } from '../fakes/openai'
import { type Gateway, startGateway } from './gateway'
import { errorOf } from './openai-seed'

let fake: OpenAIFake
let gw: Gateway
let client: OpenAI

const line = (id: string, prompt: string, model = 'gpt-4o-mini') =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: prompt }], max_tokens: 100 },
  })

const jsonl = (...lines: string[]) => `${lines.join('\n')}\n`

async function upload(content: string, name = 'batch.jsonl', extra: Record<string, unknown> = {}) {
  return client.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'batch', ...extra } as never)
}

async function pollUntilDone(id: string) {
  const seen: string[] = []
  for (let i = 0; i < 20; i++) {
    const b = await client.batches.retrieve(id)
    seen.push(b.status)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return { batch: b, seen }
  }
  throw new Error(`batch ${id} never finished: ${seen.join(',')}`)
}

beforeAll(async () => {
  fake = startOpenAIFake()
  gw = await startGateway({ OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: `${fake.url}/v1` })
  client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'unused-open-gateway', maxRetries: 0 })
})

afterAll(async () => {
  await gw.close()
  await fake.close()
})

describe('seed workflow, provider openai', () => {
  test('upload, list, retrieve, content, batch, poll, output and error files', async () => {
    const input = jsonl(line('req-1', 'What is 2+2?'), line('req-2', 'What is the capital of France?'), line('req-3', 'FAIL please'))
    const file = await upload(input, 'batch_e2e.jsonl', { provider: 'openai' })
    expect(file.id).toMatch(/^file-[0-9a-z]{26}$/)
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'batch_e2e.jsonl', bytes: input.length })

    const listed = await client.files.list({ provider: 'openai' } as never)
    expect(listed.data.map((f) => f.id)).toContain(file.id)
    expect((await client.files.retrieve(file.id)).filename).toBe('batch_e2e.jsonl')
    expect(await (await client.files.content(file.id)).text()).toBe(input)

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'seed' },
      provider: 'openai',
    } as never)
    expect(created.id).toMatch(/^batch_[0-9a-z]{26}$/)
    expect(created).toMatchObject({ status: 'validating', input_file_id: file.id, metadata: { job: 'seed' } })

    const { batch, seen } = await pollUntilDone(created.id)
    expect(seen).toEqual(['in_progress', 'finalizing', 'completed'])
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 })
    expect(batch.output_file_id).toMatch(/^file-/)
    expect(batch.error_file_id).toMatch(/^file-/)
    expect(batch.output_file_id).not.toBe(batch.error_file_id)

    const output = (await (await client.files.content(batch.output_file_id as string)).text()).trim().split('\n')
    const answers = Object.fromEntries(
      output.map((l) => {
        const o = JSON.parse(l)
        return [o.custom_id, o.response.body.choices[0].message.content]
      }),
    )
    expect(answers).toEqual({ 'req-1': 'Reply to: What is 2+2?', 'req-2': 'Reply to: What is the capital of France?' })
    const errors = (await (await client.files.content(batch.error_file_id as string)).text()).trim().split('\n')
    expect(errors.map((l) => JSON.parse(l).custom_id)).toEqual(['req-3'])
    expect(JSON.parse(errors[0] as string).response.status_code).toBe(400)

    const outFile = await client.files.retrieve(batch.output_file_id as string)
    expect(outFile.purpose).toBe('batch_output')
    // The result file ids are stable across retrievals.
    expect((await client.batches.retrieve(batch.id)).output_file_id).toBe(batch.output_file_id)

    const deleted = await client.files.delete(file.id)
    expect(deleted).toEqual({ id: file.id, object: 'file', deleted: true })
    expect((await errorOf(client.files.retrieve(file.id))).status).toBe(404)
    expect(fake.files.has([...fake.files.keys()].find((k) => k === file.id) ?? '')).toBe(false)
  })

  test('the /openai/v1 prefix serves the same API', async () => {
    const v1 = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
    const file = await upload(jsonl(line('a', 'hi')))
    expect((await v1.files.retrieve(file.id)).id).toBe(file.id)
  })

  test('cancel moves a running batch to cancelling, then cancelled', async () => {
    fake.autoAdvance = false
    try {
      const file = await upload(jsonl(line('c-1', 'one'), line('c-2', 'two')))
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const cancelling = await client.batches.cancel(batch.id)
      expect(cancelling.status).toBe('cancelling')
      expect(cancelling.cancelling_at).toBeNumber()
      fake.finish([...fake.batches.keys()].at(-1) as string)
      const done = await client.batches.retrieve(batch.id)
      expect(done.status).toBe('cancelled')
      expect(done.cancelled_at).toBeNumber()
    } finally {
      fake.autoAdvance = true
    }
  })
})

describe('pagination', () => {
  test('auto-pagination sees every file and batch exactly once', async () => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push((await upload(jsonl(line(`p-${i}`, `page ${i}`)), `p${i}.jsonl`)).id)
    const seen: string[] = []
    for await (const f of client.files.list({ limit: 2, purpose: 'batch' })) seen.push(f.id)
    expect(new Set(seen).size).toBe(seen.length)
    for (const id of ids) expect(seen).toContain(id)
    // Newest first by default.
    expect(seen.indexOf(ids[5] as string)).toBeLessThan(seen.indexOf(ids[0] as string))

    const batchIds: string[] = []
    for (const id of ids.slice(0, 5)) {
      batchIds.push((await client.batches.create({ input_file_id: id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    }
    const seenBatches: string[] = []
    for await (const b of client.batches.list({ limit: 2 })) seenBatches.push(b.id)
    expect(new Set(seenBatches).size).toBe(seenBatches.length)
    for (const id of batchIds) expect(seenBatches).toContain(id)
    const page = await client.batches.list({ limit: 2 })
    expect(page.data).toHaveLength(2)
    expect(page.has_more).toBe(true)
  })
})

describe('restart', () => {
  test('every id keeps working after the gateway restarts', async () => {
    const file = await upload(jsonl(line('r-1', 'persist me')))
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await gw.restart()
    const again = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
    expect((await again.files.retrieve(file.id)).id).toBe(file.id)
    const { batch: done } = await (async () => {
      for (let i = 0; i < 10; i++) {
        const b = await again.batches.retrieve(batch.id)
        if (b.status === 'completed') return { batch: b }
      }
      throw new Error('not completed')
    })()
    const out = await (await again.files.content(done.output_file_id as string)).text()
    expect(JSON.parse(out.trim()).custom_id).toBe('r-1')
    client = again
  })
})

describe('bad input', () => {
  test('unknown file and batch ids are 404 in the OpenAI envelope', async () => {
    const e1 = await errorOf(client.files.retrieve('file-doesnotexist'))
    expect(e1.status).toBe(404)
    expect(e1.error).toMatchObject({ type: 'invalid_request_error', param: 'id' })
    expect((await errorOf(client.batches.retrieve('batch_nope'))).status).toBe(404)
    expect((await errorOf(client.batches.cancel('batch_nope'))).status).toBe(404)
  })

  test('an unknown input_file_id is a 404 naming input_file_id', async () => {
    const err = await errorOf(client.batches.create({ input_file_id: 'file-missing', endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(404)
    expect(err.error).toMatchObject({ param: 'input_file_id' })
  })

  test('a provider hint that contradicts the stored provider is a 404', async () => {
    const file = await upload(jsonl(line('h-1', 'x')))
    const err = await errorOf(client.files.retrieve(file.id, { query: { provider: 'gemini' } } as never))
    expect(err.status).toBe(404)
  })

  test('an unknown provider is a 400 naming the supported ones', async () => {
    const err = await errorOf(upload(jsonl(line('u-1', 'x')), 'a.jsonl', { provider: 'mystery' }))
    expect(err.status).toBe(400)
    expect(err.message).toContain('openai, anthropic, gemini, bedrock')
    expect(err.error).toMatchObject({ param: 'provider' })
  })

  test('malformed JSON body is a 400', async () => {
    const res = await fetch(`${gw.url}/openai/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input_file_id":' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error')
  })

  test('an invalid JSONL line is a 400 naming its line number; nothing is stored', async () => {
    const before = fake.countFiles()
    const err = await errorOf(upload(jsonl(line('ok-1', 'fine'), '{"custom_id": "x", "method": "POST"', line('ok-3', 'fine'))))
    expect(err.status).toBe(400)
    expect(err.message).toContain('line 2')
    expect(fake.countFiles()).toBe(before)
  })

  test('a duplicate custom_id is a 400 naming both lines', async () => {
    const err = await errorOf(upload(jsonl(line('dup', 'a'), line('other', 'b'), line('dup', 'c'))))
    expect(err.status).toBe(400)
    expect(err.message).toContain('line 3')
    expect(err.message).toContain('line 1')
  })

  test('a missing purpose is a 400', async () => {
    const form = new FormData()
    form.append('file', new Blob([jsonl(line('x', 'y'))]), 'a.jsonl')
    const res = await fetch(`${gw.url}/openai/files`, { method: 'POST', body: form })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('purpose')
  })

  test('a non-multipart upload is a 400', async () => {
    const res = await fetch(`${gw.url}/openai/files`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(400)
  })

  test('input_file_id of a non-batch file is a 400', async () => {
    const other = await client.files.create({ file: await toFile(Buffer.from('hello'), 'notes.txt'), purpose: 'user_data' })
    const err = await errorOf(client.batches.create({ input_file_id: other.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(400)
    expect(err.error).toMatchObject({ param: 'input_file_id' })
  })

  test('cancel of a completed batch is refused locally with a 400', async () => {
    const file = await upload(jsonl(line('done-1', 'x')))
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await pollUntilDone(batch.id)
    const err = await errorOf(client.batches.cancel(batch.id))
    expect(err.status).toBe(400)
    expect(err.message).toContain('can be cancelled')
  })
})
