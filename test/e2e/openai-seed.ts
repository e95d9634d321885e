// The seed workflow of the OpenAI SDK document, parameterised by provider: upload an OpenAI batch
// JSONL, create the batch with the provider's extra fields, poll to the end, and read the output
// and error files back as OpenAI lines keyed by custom_id.

import { afterAll, beforeAll, expect } from 'bun:test'
import { createHash } from 'node:crypto'
import OpenAI, { toFile } from 'openai'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { type Gateway, startGateway } from './gateway'

export const chatLine = (id: string, prompt: string, model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: prompt }], max_tokens: 100, ...extra },
  })

export const jsonl = (...lines: string[]) => `${lines.join('\n')}\n`

export async function uploadBatchFile(client: OpenAI, content: string, extra: Record<string, unknown> = {}) {
  // Node's openai client has no extra_body: extra params are sent as form fields (bracketed for objects).
  return client.files.create({ file: await toFile(Buffer.from(content), 'batch_e2e.jsonl'), purpose: 'batch', ...extra } as never)
}

export const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex')

/** Splits `text` into `n` byte slices (cut inside lines on purpose: parts are bytes, not lines). */
export function slices(text: string, n: number): Buffer[] {
  const bytes = Buffer.from(text)
  const size = Math.ceil(bytes.length / n)
  return Array.from({ length: n }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
}

/**
 * The same batch file through the Uploads API instead of POST /files: three byte slices sent at
 * once, completed in order with their md5.
 */
export async function uploadThroughUploads(client: OpenAI, content: string, provider: string): Promise<OpenAI.FileObject> {
  const upload = await client.uploads.create({ filename: 'batch_e2e.jsonl', purpose: 'batch', bytes: Buffer.byteLength(content), mime_type: 'application/jsonl', provider } as never)
  const parts = await Promise.all(slices(content, 3).map(async (piece, i) => client.uploads.parts.create(upload.id, { data: await toFile(piece, `p${i}`) })))
  const done = await client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: md5(content) })
  expect(done.status).toBe('completed')
  return done.file as OpenAI.FileObject
}

export async function pollToEnd(client: OpenAI, id: string, query: Record<string, string> = {}) {
  const seen: string[] = []
  for (let i = 0; i < 30; i++) {
    const b = await client.batches.retrieve(id, { query } as never)
    // OpenAI's Batch has an optional string `model`: present as a string, or absent — never null.
    if ('model' in b) expect(typeof b.model).toBe('string')
    seen.push(b.status)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return { batch: b, seen }
  }
  throw new Error(`batch ${id} did not finish: ${seen.join(',')}`)
}

export interface ResultLines {
  answers: Record<string, string>
  errors: Record<string, { status_code: number | null; code: string | null }>
}

/** Reads output and error files; checks every line has the OpenAI output-line shape. */
export async function readResults(client: OpenAI, batch: OpenAI.Batch): Promise<ResultLines> {
  const answers: Record<string, string> = {}
  const errors: ResultLines['errors'] = {}
  if (batch.output_file_id) {
    const text = await (await client.files.content(batch.output_file_id)).text()
    for (const l of text.trim().split('\n')) {
      const o = JSON.parse(l)
      expect(o.id).toMatch(/^batch_req_/)
      expect(o.error).toBeNull()
      expect(o.response.status_code).toBe(200)
      expect(o.response.body.object).toBe('chat.completion')
      // A unix time, as OpenAI's own lines carry; providers that report none get the batch's end.
      expect(o.response.body.created).toBeGreaterThan(1_600_000_000)
      expect(o.response.body.usage.total_tokens).toBeGreaterThan(0)
      answers[o.custom_id] = o.response.body.choices[0].message.content
    }
  }
  if (batch.error_file_id) {
    const text = await (await client.files.content(batch.error_file_id)).text()
    for (const l of text.trim().split('\n')) {
      const o = JSON.parse(l)
      expect(o.id).toMatch(/^batch_req_/)
      // Either the request ran and failed (an error response), or it never ran (a line error).
      if (o.response) {
        expect(o.error).toBeNull()
        expect(o.response.status_code).toBeGreaterThanOrEqual(400)
        expect(o.response.body.error.message.length).toBeGreaterThan(0)
      } else {
        expect(['batch_expired', 'batch_cancelled']).toContain(o.error?.code)
      }
      errors[o.custom_id] = { status_code: o.response?.status_code ?? null, code: o.error?.code ?? null }
    }
  }
  return { answers, errors }
}

export async function errorOf(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err
    throw err
  }
  throw new Error('expected the call to fail')
}

/**
 * Every fake, a gateway configured against them and an `openai` client pointed at the gateway,
 * started before the file's tests and stopped after. Fields are filled in by beforeAll.
 */
export function openaiWorld(): { fakes: AllFakes; gw: Gateway; client: OpenAI } {
  const world = {} as { fakes: AllFakes; gw: Gateway; client: OpenAI }
  beforeAll(async () => {
    world.fakes = startAllFakes()
    world.gw = await startGateway(world.fakes.env)
    world.client = new OpenAI({ baseURL: `${world.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.gw.close()
    await world.fakes.close()
  })
  return world
}

/**
 * The seed's second half for a two-line input whose second prompt fails: poll to completed, one
 * answer and one error line, and the input file read back byte-exact.
 */
export async function expectSeedCompleted(client: OpenAI, batchId: string, file: { id: string; input: string }, ok: { id: string; prompt: string }, failed: string) {
  const { batch: done, seen } = await pollToEnd(client, batchId)
  expect(seen.at(-1)).toBe('completed')
  expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
  const results = await readResults(client, done)
  expect(results.answers).toEqual({ [ok.id]: `Reply to: ${ok.prompt}` })
  expect(Object.keys(results.errors)).toEqual([failed])
  expect(await (await client.files.content(file.id)).text()).toBe(file.input)
}

/** A batch cancelled before it ran (the fake frozen meanwhile) ends cancelled with every request in its error file. */
export async function expectCancelledBeforeRunning(
  client: OpenAI,
  fake: { autoAdvance: boolean },
  provider: string,
  model: string,
) {
  fake.autoAdvance = false
  try {
    const file = await uploadBatchFile(client, jsonl(chatLine('c-1', 'one', model), chatLine('c-2', 'two', model)), { provider })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelling')
    fake.autoAdvance = true
    const { batch: done } = await pollToEnd(client, batch.id)
    expect(done.status).toBe('cancelled')
    expect(Object.keys((await readResults(client, done)).errors).sort()).toEqual(['c-1', 'c-2'])
  } finally {
    fake.autoAdvance = true
  }
}

/**
 * Two tenants on one named instance (keys `key-alpha`, `key-beta` in BATCHGATE_KEYS): what alpha
 * uploads and creates, beta can neither read, use nor list.
 */
export async function expectTenantsApart(gatewayUrl: string, provider: string, model: string): Promise<void> {
  const alpha = new OpenAI({ baseURL: `${gatewayUrl}/openai`, apiKey: 'key-alpha', maxRetries: 0 })
  const beta = new OpenAI({ baseURL: `${gatewayUrl}/openai`, apiKey: 'key-beta', maxRetries: 0 })
  const file = await uploadBatchFile(alpha, jsonl(chatLine('t-1', 'mine', model)), { provider })
  const batch = await alpha.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  expect((await errorOf(beta.batches.retrieve(batch.id))).status).toBe(404)
  expect((await errorOf(beta.files.content(file.id))).status).toBe(404)
  expect((await errorOf(beta.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))).status).toBe(404)
  expect((await beta.batches.list()).data.map((b) => b.id)).not.toContain(batch.id)
}
