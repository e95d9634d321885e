// Drives the Groq fake with the official `groq-sdk` client (retries off): it must take what the
// client sends, on Groq's paths, and refuse what Groq refuses — other purposes, other endpoints,
// windows outside 24h–7d, a wrong key — and walk batches through OpenAI's status sequence.

import { afterAll, describe, expect, test } from 'bun:test'
import Groq, { toFile } from 'groq-sdk'
import { type GroqFake, startGroqFake } from './groq'

const fake: GroqFake = startGroqFake()
const client = new Groq({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 })
afterAll(() => fake.close())

const line = (id: string, prompt: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'llama-3.1-8b-instant', messages: [{ role: 'user', content: prompt }] } })

async function upload(content: string, purpose = 'batch') {
  return client.files.create({ file: await toFile(Buffer.from(content), 'batch.jsonl'), purpose: purpose as 'batch' })
}

async function failure(p: Promise<unknown>): Promise<{ status: number; error: { error?: { message?: string; param?: string } } }> {
  try {
    await p
  } catch (err) {
    if (err instanceof Groq.APIError) return err as never
    throw err
  }
  throw new Error('expected the call to fail')
}

describe('Groq fake, through groq-sdk', () => {
  test('a wrong key is a 401 on every route', async () => {
    const wrong = new Groq({ apiKey: 'gsk_wrong', baseURL: fake.url, maxRetries: 0 })
    expect((await failure(wrong.batches.list())).status).toBe(401)
    expect((await failure(wrong.files.list())).status).toBe(401)
  })

  test('files: purpose batch only, listed as one list, content byte-exact', async () => {
    const content = `${line('a', 'hello')}\n${line('b', 'FAIL this')}\n`
    const file = await upload(content)
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: content.length, filename: 'batch.jsonl' })
    expect(await (await client.files.content(file.id as string)).text()).toBe(content)
    const listed = await client.files.list()
    expect(listed.object).toBe('list')
    expect(listed.data.map((f) => f.id)).toContain(file.id)
    expect(listed).not.toHaveProperty('has_more')
    const wrongPurpose = await failure(upload(content, 'user_data'))
    expect(wrongPurpose.status).toBe(400)
    expect(wrongPurpose.error.error?.param).toBe('purpose')
  })

  test('batch: 7d window accepted and echoed; statuses validating → in_progress → finalizing → completed; result files', async () => {
    const file = await upload(`${line('a', 'hello')}\n${line('b', 'FAIL this')}\n`)
    const batch = await client.batches.create({ input_file_id: file.id as string, endpoint: '/v1/chat/completions', completion_window: '7d' })
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', completion_window: '7d' })
    expect((batch.expires_at as number) - batch.created_at).toBe(7 * 24 * 3600)
    const seen: string[] = []
    let current = batch as Groq.Batches.BatchRetrieveResponse
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(current.status)) {
      current = await client.batches.retrieve(batch.id)
      seen.push(current.status)
    }
    expect(seen).toEqual(['in_progress', 'finalizing', 'completed'])
    expect(current.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    const output = (await (await client.files.content(current.output_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(output).toHaveLength(1)
    expect(output[0]).toMatchObject({ custom_id: 'a', error: null, response: { status_code: 200 } })
    expect(output[0].response.body.choices[0].message.content).toBe('Reply to: hello')
    const errors = (await (await client.files.content(current.error_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(errors.map((e) => e.custom_id)).toEqual(['b'])
    const listed = await client.batches.list()
    expect(listed.data.map((b) => b.id)).toContain(batch.id)
    expect(listed).not.toHaveProperty('has_more')
  })

  test('batch: refuses windows outside 24h–7d, endpoints other than chat completions', async () => {
    const file = await upload(`${line('a', 'hello')}\n`)
    for (const window of ['12h', '8d', '169h', 'soon']) {
      const err = await failure(client.batches.create({ input_file_id: file.id as string, endpoint: '/v1/chat/completions', completion_window: window }))
      expect(err.status).toBe(400)
      expect(err.error.error?.param).toBe('completion_window')
    }
    const err = await failure(client.batches.create({ input_file_id: file.id as string, endpoint: '/v1/embeddings' as '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(400)
    expect(err.error.error?.param).toBe('endpoint')
  })

  test('cancel: cancelling → cancelled, unrun requests in the error file', async () => {
    const file = await upload(`${line('a', 'hello')}\n${line('b', 'there')}\n`)
    const batch = await client.batches.create({ input_file_id: file.id as string, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelling')
    const done = await client.batches.retrieve(batch.id)
    expect(done.status).toBe('cancelled')
    const errors = (await (await client.files.content(done.error_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(errors.map((e) => e.error?.code ?? e.response?.body?.error?.code)).toEqual(['batch_cancelled', 'batch_cancelled'])
  })

  test('OpenAI paths are not Groq paths', async () => {
    const res = await fetch(`${fake.url}/v1/batches`, { headers: { authorization: `Bearer ${fake.apiKey}` } })
    expect(res.status).toBe(404)
  })
})
