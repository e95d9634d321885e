// Lost answers never orphan billed upstream objects (issue 11 class 2). Each fake commits the work
// (makes the batch, stores the file) and then drops the connection instead of answering. The
// gateway finds what was made — by the gateway id it carries (OpenAI metadata, Gemini display
// name, Bedrock job name, the uploaded file's name or key), or for Anthropic batches, which carry
// nothing of ours, by the one unmapped batch of the create's size and time — and hands it to the
// caller (official SDKs) as if the answer had come: exactly one upstream object, never a 502
// followed by a second, billed, batch on retry. When the match is a guess (two look-alikes), the
// create is kept as `unresolved` and nothing is deleted or duplicated.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile as toAnthropicFile } from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { MODELS } from '../security/world'
import { failure } from './api-failure'


let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
const anthropic = (provider = 'anthropic') =>
  new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } })

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
})

afterAll(async () => {
  await gw.close()
  await fakes.close()
})

/** The fake does the work, then the connection drops before the answer reaches the gateway. */
const loseAnswer = (fake: { faults: AllFakes['openai']['faults'] }, match: (req: Request, url: URL) => boolean) =>
  fake.faults.add({ afterHandler: true, drop: true, match })

const items = (n: number, model: string, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `${tag}-${i}`,
    params: { model, max_tokens: 20, messages: [{ role: 'user' as const, content: `prompt ${tag} ${i}` }] },
  }))

const unresolved = () =>
  gw.store.db.query<{ id: string }, []>(`SELECT id FROM batches WHERE state = 'unresolved'`).all().map((r) => r.id)

describe('a create whose answer is lost: the caller gets the batch, the upstream holds exactly one', () => {
  test('anthropic (no metadata upstream): the one unmapped batch of its size and time is adopted', async () => {
    const before = fakes.anthropic.batches.size
    loseAnswer(fakes.anthropic, (r, u) => r.method === 'POST' && u.pathname === '/v1/messages/batches')
    const batch = await anthropic().messages.batches.create({ requests: items(4, MODELS.anthropic, 'lost') })
    expect(batch.id).toMatch(/^msgbatch_/)
    expect(batch.request_counts.processing).toBe(4)
    expect(fakes.anthropic.batches.size).toBe(before + 1)
    expect((await anthropic().messages.batches.retrieve(batch.id)).id).toBe(batch.id)
    expect(gw.store.db.query(`SELECT 1 FROM batches WHERE state != 'ready'`).all()).toEqual([])
  })

  test('bedrock: the job named after the gateway id is adopted', async () => {
    const file = await uploadBatchFile(openai, jsonl(chatLine('b-1', 'hi', MODELS.bedrock)), { provider: 'bedrock' })
    const before = fakes.bedrock.jobs.size
    loseAnswer(fakes.bedrock, (r, u) => r.method === 'POST' && u.pathname === '/model-invocation-job')
    const batch = await openai.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      model: MODELS.bedrock,
    } as never)
    expect(fakes.bedrock.jobs.size).toBe(before + 1)
    expect((await openai.batches.retrieve(batch.id)).id).toBe(batch.id)
  })

  test('gemini through the Anthropic dialect: the batch named after the gateway id is adopted', async () => {
    const before = fakes.gemini.batches.size
    loseAnswer(fakes.gemini, (_r, u) => u.pathname.endsWith(':batchGenerateContent'))
    const batch = await anthropic('gemini').messages.batches.create({ requests: items(2, MODELS.gemini, 'gem') })
    expect(batch.id).toMatch(/^msgbatch_/)
    expect(fakes.gemini.batches.size).toBe(before + 1)
  })

  test('openai with all 16 metadata pairs taken (no room for the tag): found by its input file', async () => {
    const file = await uploadBatchFile(openai, jsonl(chatLine('o-1', 'hi', MODELS.openai)))
    const before = fakes.openai.batches.size
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, `v${i}`]))
    loseAnswer(fakes.openai, (r, u) => r.method === 'POST' && u.pathname === '/v1/batches')
    const batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata })
    expect(fakes.openai.batches.size).toBe(before + 1)
    expect(batch.metadata).toEqual(metadata)
    expect((await openai.batches.retrieve(batch.id)).input_file_id).toBe(file.id)
  })
})

describe('a create that times out before the upstream makes the batch', () => {
  test('anthropic: the caller gets 504, the intent is kept, and the next start adopts the batch once', async () => {
    const slow = await startGateway({ ...fakes.env, BATCHGATE_UPSTREAM_TIMEOUT_MS: '600' })
    try {
      const before = fakes.anthropic.batches.size
      // The fake only starts making the batch after the gateway has given up waiting.
      fakes.anthropic.faults.add({ delayMs: 1500, match: (r, u) => r.method === 'POST' && u.pathname === '/v1/messages/batches' })
      const client = new Anthropic({ baseURL: `${slow.url}/anthropic`, apiKey: 'x', maxRetries: 0 })
      const err = await failure(client.messages.batches.create({ requests: items(7, MODELS.anthropic, 'late') }))
      expect(err.status).toBe(504)
      const kept = slow.store.db.query<{ id: string }, []>(`SELECT id FROM batches WHERE state = 'creating'`).all()
      expect(kept).toHaveLength(1)
      await Bun.sleep(1200)
      expect(fakes.anthropic.batches.size).toBe(before + 1)

      await slow.restart()
      const id = (kept[0] as { id: string }).id
      const adopted = await new Anthropic({ baseURL: `${slow.url}/anthropic`, apiKey: 'x', maxRetries: 0 }).messages.batches.retrieve(id)
      expect(adopted.request_counts.processing).toBe(7)
      expect(fakes.anthropic.batches.size).toBe(before + 1)
    } finally {
      await slow.close()
    }
  })
})

describe('an upload whose answer is lost: the caller gets the file, the upstream holds exactly one', () => {
  const content = jsonl(chatLine('u-1', 'hello', MODELS.openai))

  test('openai: found by its name (the gateway id) and adopted', async () => {
    const before = fakes.openai.countFiles()
    loseAnswer(fakes.openai, (r, u) => r.method === 'POST' && u.pathname === '/v1/files')
    const file = await uploadBatchFile(openai, content)
    expect(file.id).toMatch(/^file-/)
    expect(fakes.openai.countFiles()).toBe(before + 1)
    expect(await (await openai.files.content(file.id)).text()).toBe(content)
  })

  test('anthropic (Files API): found by its name and adopted', async () => {
    const before = fakes.anthropic.files.size
    loseAnswer(fakes.anthropic, (r, u) => r.method === 'POST' && u.pathname === '/v1/files')
    const file = await anthropic().beta.files.upload({ file: await toAnthropicFile(Buffer.from('notes'), 'notes.txt', { type: 'text/plain' }) })
    expect(file.id).toMatch(/^file_/)
    expect(fakes.anthropic.files.size).toBe(before + 1)
    expect((await anthropic().beta.files.retrieveMetadata(file.id)).filename).toBe('notes.txt')
  })

  test('gemini: the finalized upload named after the gateway id is adopted', async () => {
    const before = fakes.gemini.files.size
    loseAnswer(fakes.gemini, (r) => (r.headers.get('x-goog-upload-command') ?? '').includes('finalize'))
    const file = await uploadBatchFile(openai, jsonl(chatLine('g-1', 'hello', MODELS.gemini)), { provider: 'gemini' })
    expect(fakes.gemini.files.size).toBe(before + 1)
    expect((await openai.files.retrieve(file.id)).id).toBe(file.id)
  })

  test('bedrock: the object at the key derived from the gateway id is adopted', async () => {
    const before = fakes.s3.listKeys(TEST_BUCKET, 'batchgate-input/').length
    loseAnswer(fakes.s3, (r, u) => r.method === 'PUT' && u.pathname.includes('/batchgate-input/'))
    const file = await uploadBatchFile(openai, jsonl(chatLine('s-1', 'hello', MODELS.bedrock)), { provider: 'bedrock' })
    expect(fakes.s3.listKeys(TEST_BUCKET, 'batchgate-input/')).toHaveLength(before + 1)
    expect(fakes.s3.hasObject(TEST_BUCKET, `batchgate-input/${file.id}.jsonl`)).toBe(true)
  })
})

describe('an ambiguous match keeps the intent visible, deletes nothing and makes nothing twice', () => {
  test('anthropic: another unmapped batch of the same size in the window makes the match a guess', async () => {
    // Another program on the same account made a batch of the same size a moment ago.
    const other = await fetch(`${fakes.anthropic.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { 'x-api-key': fakes.env.ANTHROPIC_API_KEY as string, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ requests: items(5, MODELS.anthropic, 'other') }),
    })
    expect(other.status).toBe(200)
    const before = fakes.anthropic.batches.size
    const createsBefore = fakes.anthropic.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches').length
    loseAnswer(fakes.anthropic, (r, u) => r.method === 'POST' && u.pathname === '/v1/messages/batches')

    const err = await failure(anthropic().messages.batches.create({ requests: items(5, MODELS.anthropic, 'mine') }))
    expect(err.status).toBe(502)
    const message = (err.error as { error: { message: string } }).error.message
    // Names the gateway's own id for the request, never an upstream one.
    expect(unresolved()).toHaveLength(1)
    expect(message).toContain(`${unresolved()[0]} (unresolved)`)
    for (const upstreamId of fakes.anthropic.batches.keys()) expect(message).not.toContain(upstreamId)
    // Kept, marked for an operator; both upstream batches still there; one create sent.
    expect(fakes.anthropic.batches.size).toBe(before + 1)
    expect(fakes.anthropic.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches').length).toBe(createsBefore + 1)
    expect(fakes.anthropic.requests.some((r) => r.method === 'DELETE')).toBe(false)

    // A restart (last: it may move the gateway's port) looks again: still two candidates, still
    // kept, still nothing made or deleted.
    await gw.restart()
    expect(unresolved()).toHaveLength(1)
    expect(fakes.anthropic.batches.size).toBe(before + 1)
  })
})
