// Crash consistency of the real process (issue 7 §7): the gateway is killed with SIGKILL while a
// client upload is streaming in, while an upload to S3 is held open, and while two batch creates
// are held open at their upstreams (one the upstream then makes, one it refuses). After a restart
// on the same data dir: nothing is left in the spool, no row is half-done, every blob has its row,
// every id handed out before the kill works, the create the upstream made is adopted under the id
// it was given, the refused one is gone, and the object the held upload left in S3 is deleted.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { failure } from './api-failure'
import { rows, type SpawnedGateway, spawnGateway, waitFor } from './spawned-gateway'

const GEMINI_MODEL = 'gemini-2.0-flash'
const HOLD_MS = 1000

let fakes: AllFakes
let dataDir: string
let env: Record<string, string>

const chatLine = (id: string, model = 'gpt-4o-mini') =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `prompt ${id}` }], max_tokens: 20 },
  })

const clients = (gw: SpawnedGateway) => ({
  openai: new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 }),
  anthropic: new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open', maxRetries: 0 }),
})

async function upload(client: OpenAI, content: string, extra: Record<string, unknown> = {}) {
  return client.files.create({ file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: 'batch', ...extra } as never)
}

/** A multipart upload that sends ≈ 3.4 MiB of batch lines, then stalls until the socket dies. */
function stalledUpload(url: string): { settled: Promise<unknown> } {
  const boundary = 'crash-test-boundary'
  const encoder = new TextEncoder()
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="stalled.jsonl"\r\n` +
      'Content-Type: application/jsonl\r\n\r\n',
  )
  const chunk = encoder.encode(`${chatLine('x')}\n`.repeat(Math.ceil((1024 * 1024) / 200)))
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 0) controller.enqueue(head)
      if (sent < 4) {
        controller.enqueue(chunk)
        sent++
        return
      }
      await new Promise(() => undefined) // never finishes: the gateway dies first
    },
  })
  const settled = fetch(`${url}/openai/files`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  }).catch((err: unknown) => err)
  return { settled }
}

const spoolFiles = () => readdirSync(join(dataDir, 'spool'))
const spoolBytes = () => spoolFiles().reduce((n, f) => n + statSync(join(dataDir, 'spool', f)).size, 0)

beforeAll(() => {
  fakes = startAllFakes({ autoAdvance: false })
  dataDir = mkdtempSync(join(tmpdir(), 'batchgate-crash-'))
  env = { ...fakes.env, BATCHGATE_DATA_DIR: dataDir, BATCHGATE_UPSTREAM_RETRIES: '0' }
})

afterAll(async () => {
  await fakes.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('kill -9 mid-upload and mid-create, restart: store, blobs and upstreams are consistent', async () => {
  const first = await spawnGateway(env)
  const before = clients(first)

  // Ids handed out before the crash, one of each kind of place bytes live.
  const openaiFile = await upload(before.openai, `${chatLine('o1')}\n`)
  const openaiBatch = await before.openai.batches.create({
    input_file_id: openaiFile.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  })
  const geminiFile = await upload(before.openai, `${chatLine('g1', GEMINI_MODEL)}\n`, { provider: 'gemini' })
  const blobFile = await upload(before.openai, `${chatLine('a1', 'claude-3-haiku-20240307')}\n`, { provider: 'anthropic' })
  const msgBatch = await before.anthropic.messages.batches.create({
    requests: [
      { custom_id: 'm1', params: { model: 'claude-3-haiku-20240307', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] } },
    ],
  })
  const handedOut = { files: [openaiFile.id, geminiFile.id, blobFile.id], openaiBatch: openaiBatch.id, msgBatch: msgBatch.id }

  // 1. An OpenAI create the upstream holds, then makes: to be adopted after the restart.
  fakes.openai.faults.add({ match: (req, url) => req.method === 'POST' && url.pathname === '/v1/batches', delayMs: HOLD_MS })
  const adoptable = before.openai.batches
    .create({ input_file_id: openaiFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    .catch((err: unknown) => err)
  // 2. A Gemini create the upstream holds, then refuses: to be abandoned.
  fakes.gemini.faults.add({
    match: (req, url) => req.method === 'POST' && url.pathname.endsWith(':batchGenerateContent'),
    delayMs: HOLD_MS,
    status: 503,
    body: { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
  })
  const refused = before.openai.batches
    .create({
      input_file_id: geminiFile.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      model: GEMINI_MODEL,
    } as never)
    .catch((err: unknown) => err)
  // 3. A Bedrock upload whose S3 PUT is held; S3 stores the object after the gateway is gone.
  fakes.s3.faults.add({
    match: (req, url) => req.method === 'PUT' && url.pathname.includes('/batchgate-input/'),
    delayMs: HOLD_MS,
  })
  const bedrockLine = `${chatLine('b1', 'anthropic.claude-3-haiku-20240307-v1:0')}\n`
  const heldUpload = upload(before.openai, bedrockLine, { provider: 'bedrock' }).catch((err: unknown) => err)
  // 4. A client upload streaming in: 4 MiB sent, the rest never comes.
  const stalled = stalledUpload(first.url)

  type Creating = { id: string; provider: string }
  let creating: Creating[] = []
  let pending: Array<{ id: string }> = []
  await waitFor('both creates and the S3 upload to be in flight, and the stalled upload to be spooling', () => {
    creating = rows<Creating>(dataDir, `SELECT id, provider FROM batches WHERE state = 'creating' ORDER BY provider`)
    pending = rows<{ id: string }>(dataDir, `SELECT id FROM files WHERE state = 'pending'`)
    const s3Put = fakes.s3.requests.some((r) => r.method === 'PUT' && r.path.includes('/batchgate-input/'))
    return creating.length === 2 && pending.length === 1 && s3Put && spoolBytes() >= 2 * 1024 * 1024
  })
  first.proc.kill('SIGKILL')
  expect(await first.exited).not.toBe(0)
  const [gemini, openai] = creating as [Creating, Creating]
  expect([gemini.provider, openai.provider]).toEqual(['gemini', 'openai'])
  const heldKey = `batchgate-input/${pending[0]?.id}.jsonl`
  // The clients saw their connections die; none got an id.
  for (const outcome of [await adoptable, await refused, await heldUpload, await stalled.settled]) {
    expect(outcome).toBeInstanceOf(Error)
  }
  expect(spoolFiles().length).toBeGreaterThan(0)
  // Let the upstreams finish what they were holding: one batch made, one refused, one object stored.
  await waitFor('the held OpenAI create to be made upstream', () =>
    [...fakes.openai.batches.values()].some((b) => b.metadata?.batchgate_id === openai.id),
  )
  await waitFor('the held S3 upload to be stored', () => fakes.s3.hasObject(TEST_BUCKET, heldKey))
  await Bun.sleep(50)

  const second = await spawnGateway(env)
  try {
    const after = clients(second)
    // Nothing half-done survives the start.
    expect(spoolFiles()).toEqual([])
    expect(rows(dataDir, `SELECT id FROM batches WHERE state = 'creating'`)).toEqual([])
    expect(rows(dataDir, `SELECT id FROM files WHERE state = 'pending'`)).toEqual([])
    const blobNames = readdirSync(join(dataDir, 'blobs'))
    // Content blobs are the Anthropic-bound input; `.ids` sidecars keep converted inputs' custom_ids.
    const blobIds = blobNames.map((name) => name.replace(/\.(jsonl|ids)$/, ''))
    const readyIds = rows<{ id: string }>(dataDir, `SELECT id FROM files WHERE state = 'ready'`).map((r) => r.id)
    expect(blobNames.filter((n) => n.endsWith('.jsonl'))).toEqual([`${blobFile.id}.jsonl`])
    for (const id of blobIds) expect(readyIds).toContain(id)
    expect(readyIds.sort()).toEqual([...handedOut.files].sort())

    // Every id handed out before the kill still works.
    for (const id of handedOut.files) expect((await after.openai.files.retrieve(id)).id).toBe(id)
    expect(await (await after.openai.files.content(openaiFile.id)).text()).toBe(`${chatLine('o1')}\n`)
    expect((await after.openai.batches.retrieve(handedOut.openaiBatch)).input_file_id).toBe(openaiFile.id)
    expect((await after.anthropic.messages.batches.retrieve(handedOut.msgBatch)).id).toBe(handedOut.msgBatch)

    // The create the upstream made is adopted under the gateway id it was given.
    const adopted = await after.openai.batches.retrieve(openai.id)
    expect(adopted).toMatchObject({ id: openai.id, input_file_id: openaiFile.id, status: 'validating' })
    expect((await after.openai.batches.list({ limit: 100 })).data.map((b) => b.id)).toContain(openai.id)
    expect(second.output()).toContain('interrupted create adopted')
    // The refused one is gone, and the object the held upload left in S3 was deleted.
    expect(fakes.gemini.batches.size).toBe(0)
    expect((await failure(after.openai.batches.retrieve(gemini.id))).status).toBe(404)
    expect(fakes.s3.hasObject(TEST_BUCKET, heldKey)).toBe(false)
    expect((await failure(after.openai.files.retrieve(pending[0]?.id as string))).status).toBe(404)
  } finally {
    second.proc.kill('SIGTERM')
    await second.exited
  }
}, 15_000)
