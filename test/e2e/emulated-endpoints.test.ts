// kind = "emulated" beyond chat completions (issue 17): files whose lines target /v1/embeddings or
// /v1/responses run as they are against the instance's OpenAI-compatible server, through the
// official openai SDK; other kinds keep refusing those endpoints.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { type ChatFake, fakeEmbedding, startChatFake } from '../fakes/chat-completions'
import { type ConfigWorld, instanceToml, startConfigWorld } from './config-world'
import { jsonl, uploadBatchFile } from './openai-seed'

const MODEL = 'nomic-embed-text'

const line = (id: string, url: string, body: Record<string, unknown>) => JSON.stringify({ custom_id: id, method: 'POST', url, body })

async function waitEnd(client: OpenAI, id: string): Promise<OpenAI.Batch> {
  const until = Date.now() + 30_000
  for (;;) {
    const b = await client.batches.retrieve(id)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b
    if (Date.now() > until) throw new Error(`batch ${id} still ${b.status}`)
    await Bun.sleep(50)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: result lines are checked field by field below
type ResultLine = Record<string, any>

/** A result file's lines by custom_id. */
async function fileLines(client: OpenAI, id: string | null | undefined): Promise<Record<string, ResultLine>> {
  if (!id) return {}
  const text = await (await client.files.content(id)).text()
  const byId: Record<string, ResultLine> = {}
  for (const l of text.trim().split('\n')) {
    const o = JSON.parse(l) as ResultLine
    byId[o.custom_id] = o
  }
  return byId
}

describe('emulated provider: /v1/embeddings and /v1/responses', () => {
  let fake: ChatFake
  let w: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    fake = startChatFake({ keepBodies: true })
    w = await startConfigWorld(instanceToml('local', 'emulated', fake.url, 'LOCAL_KEY', { concurrency: 4 }), { LOCAL_KEY: fake.apiKey })
    client = new OpenAI({ baseURL: `${w.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await w.close()
    await fake.close()
  })

  test('an embeddings batch: output lines carry the endpoint embedding responses, refusals go to the error file', async () => {
    const input = jsonl(
      line('emb-1', '/v1/embeddings', { model: MODEL, input: 'hello world' }),
      line('emb-2', '/v1/embeddings', { model: MODEL, input: ['alpha', 'beta gamma'] }),
      line('emb-3', '/v1/embeddings', { model: MODEL, input: 'FAIL this one' }),
      line('emb-4', '/v1/embeddings', { model: MODEL }),
    )
    const file = await uploadBatchFile(client, input, { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })
    expect(batch.endpoint).toBe('/v1/embeddings')
    const done = await waitEnd(client, batch.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 4, completed: 2, failed: 2 })
    const out = await fileLines(client, done.output_file_id)
    expect(Object.keys(out).sort()).toEqual(['emb-1', 'emb-2'])
    for (const o of Object.values(out)) {
      expect(o.id).toMatch(/^batch_req_/)
      expect(o.error).toBeNull()
      expect(o.response.status_code).toBe(200)
      expect(o.response.body.object).toBe('list')
      expect(o.response.body.model).toBe(MODEL)
    }
    expect(out['emb-1']?.response.body.data).toEqual([{ object: 'embedding', index: 0, embedding: fakeEmbedding('hello world') }])
    expect(out['emb-2']?.response.body.data.map((d: { embedding: number[] }) => d.embedding)).toEqual([fakeEmbedding('alpha'), fakeEmbedding('beta gamma')])
    expect(out['emb-2']?.response.body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 })
    const errors = await fileLines(client, done.error_file_id)
    expect(Object.keys(errors).sort()).toEqual(['emb-3', 'emb-4'])
    expect(errors['emb-3']?.response.status_code).toBe(400)
    // The server's own 400 for a body without `input` reaches the caller unchanged.
    expect(errors['emb-4']?.response.body.error.param).toBe('input')
  })

  test('a responses batch: output lines carry the endpoint Response objects', async () => {
    const input = jsonl(
      line('r-1', '/v1/responses', { model: 'llama3.2:1b', input: 'What is 2+2?' }),
      line('r-2', '/v1/responses', { model: 'llama3.2:1b', input: [{ role: 'user', content: 'Say hi' }] }),
    )
    const file = await uploadBatchFile(client, input, { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/responses', completion_window: '24h' })
    const done = await waitEnd(client, batch.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
    expect(done.error_file_id ?? null).toBeNull()
    const out = await fileLines(client, done.output_file_id)
    expect(out['r-1']?.response.body.object).toBe('response')
    expect(out['r-1']?.response.body.output[0].content[0].text).toBe('Reply to: What is 2+2?')
    expect(out['r-2']?.response.body.output[0].content[0].text).toBe('Reply to: Say hi')
    expect(fake.counts.get('Say hi')).toBe(1)
  })

  test('a chat file runs as uploaded: server-specific fields reach the server, a bad body gets its own 400', async () => {
    // vLLM / llama.cpp sampling fields the OpenAI chat schema does not know must survive untouched.
    const extra = { model: 'llama3.2:1b', messages: [{ role: 'user', content: 'chat as is' }], top_k: 20, repetition_penalty: 1.1, guided_choice: ['a', 'b'] }
    const input = jsonl(line('c-ok', '/v1/chat/completions', extra), line('c-bad', '/v1/chat/completions', { model: 'llama3.2:1b', messages: [] }))
    const file = await uploadBatchFile(client, input, { provider: 'local' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const done = await waitEnd(client, batch.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    expect(fake.bodies.get('chat as is')).toEqual(extra)
    const out = await fileLines(client, done.output_file_id)
    expect(out['c-ok']?.response.body.choices[0].message.content).toBe('Reply to: chat as is')
    const errors = await fileLines(client, done.error_file_id)
    expect(errors['c-bad']?.response.status_code).toBe(400)
    expect(errors['c-bad']?.response.body.error.param).toBe('messages')
  })

  test("a file's endpoint must match the batch endpoint", async () => {
    const file = await uploadBatchFile(client, jsonl(line('x-1', '/v1/embeddings', { model: MODEL, input: 'x' })), { provider: 'local' })
    const before = fake.received()
    const err = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e) => e)
    expect(err.status).toBe(400)
    expect(err.error?.param ?? err.param).toBe('endpoint')
    expect(fake.received()).toBe(before)
  })

  test('endpoints other than chat, embeddings and responses stay refused for emulated', async () => {
    const file = await uploadBatchFile(client, jsonl(line('c-1', '/v1/completions', { model: MODEL, prompt: 'x' })), { provider: 'local' })
    const err = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' }).catch((e) => e)
    expect(err.status).toBe(400)
    expect(err.message).toContain('/v1/embeddings')
  })
})
