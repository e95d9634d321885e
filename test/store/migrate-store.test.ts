// `batchgate migrate-store`: a SQLite deployment with real traffic (both SDKs, kept inputs in
// blobs/, custom_id sidecars, derived result files) is copied into PostgreSQL + a bucket by the
// real binary entry point; a gateway started on the copy answers every id exactly as before,
// and a second run changes nothing.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { sharedPostgres } from '../pg/server'
import { spawnGateway } from '../resilience/spawned-gateway'

const REPO = join(import.meta.dir, '..', '..')
const CLAUDE = 'claude-3-haiku-20240307'
const GEMINI = 'gemini-2.0-flash'

let fakes: AllFakes
let gw: Gateway
let dataDir: string
let pgEnv: Record<string, string>

const chatLine = (id: string, model: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `say ${id}` }], max_tokens: 20 } })

async function upload(client: OpenAI, content: string, provider: string) {
  return client.files.create({ file: await toFile(Buffer.from(content), 'in.jsonl'), purpose: 'batch', provider } as never)
}

async function ended(client: OpenAI, id: string) {
  for (let i = 0; i < 50; i++) {
    const b = await client.batches.retrieve(id)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b
  }
  throw new Error(`${id} did not end`)
}

/** The real entry point, asynchronously: the S3 fake it talks to lives in this process. */
async function migrate(): Promise<{ code: number; out: string }> {
  const run = Bun.spawn([process.execPath, 'src/main.ts', 'migrate-store'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...pgEnv },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited])
  return { code, out: `${out}${err}` }
}

beforeAll(async () => {
  fakes = startAllFakes()
  dataDir = mkdtempSync(join(tmpdir(), 'batchgate-migrate-'))
  gw = await startGateway({ ...fakes.env, BATCHGATE_DATA_DIR: dataDir })
  pgEnv = {
    ...fakes.env,
    BATCHGATE_DATA_DIR: dataDir,
    BATCHGATE_DATABASE_URL: await (await sharedPostgres()).freshDatabase('migrate'),
    BATCHGATE_BLOB_URL: `s3://${TEST_BUCKET}/moved`,
  }
})

afterAll(async () => {
  await gw?.close()
  await fakes?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('every row and blob moves from SQLite to PostgreSQL + bucket, and every id answers the same', async () => {
  const oa = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
  const an = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open', maxRetries: 0 })
  const kept = await upload(oa, `${chatLine('k1', CLAUDE)}\n${chatLine('k2', CLAUDE)}\n`, 'anthropic')
  const keptBatch = await ended(oa, (await oa.batches.create({ input_file_id: kept.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
  const gfile = await upload(oa, `${chatLine('g1', GEMINI)}\n`, 'gemini')
  const gBatch = await ended(oa, (await oa.batches.create({ input_file_id: gfile.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: GEMINI } as never)).id)
  const msg = await an.messages.batches.create({ requests: [{ custom_id: 'm1', params: { model: CLAUDE, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] } }] })
  let msgEnded = msg
  while (msgEnded.processing_status !== 'ended') msgEnded = await an.messages.batches.retrieve(msg.id)

  const keptBytes = await (await oa.files.content(kept.id)).text()
  const output = await (await oa.files.content(keptBatch.output_file_id as string)).text()
  const before = {
    // Listed after the downloads: a result file's first full download records its size.
    files: (await oa.files.list()).data,
    batches: (await oa.batches.list()).data,
    keptBytes,
    output,
    msg: await an.messages.batches.retrieve(msg.id),
  }
  expect(before.files.length).toBeGreaterThanOrEqual(4)
  expect(readdirSync(join(dataDir, 'blobs')).length).toBeGreaterThanOrEqual(2) // kept input + ids sidecar
  await gw.close()

  const first = await migrate()
  expect(first.out).toContain('verified: every row and every blob is in the target')
  expect(first.code).toBe(0)
  expect(fakes.s3.hasObject(TEST_BUCKET, `moved/${kept.id}.jsonl`)).toBe(true)

  const moved = await spawnGateway({ ...pgEnv, BATCHGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'batchgate-migrated-')) })
  try {
    const oa2 = new OpenAI({ baseURL: `${moved.url}/openai`, apiKey: 'open', maxRetries: 0 })
    const an2 = new Anthropic({ baseURL: `${moved.url}/anthropic`, apiKey: 'open', maxRetries: 0 })
    expect((await oa2.files.list()).data).toEqual(before.files)
    expect((await oa2.batches.list()).data).toEqual(before.batches)
    expect(await (await oa2.files.content(kept.id)).text()).toBe(before.keptBytes)
    expect(await (await oa2.files.content(keptBatch.output_file_id as string)).text()).toBe(before.output)
    expect((await oa2.batches.retrieve(gBatch.id)).output_file_id).toBe(gBatch.output_file_id)
    // Same batch; only the request id and the host in results_url differ (another gateway port).
    const { _request_id: _a, results_url: urlBefore, ...was } = before.msg as unknown as Record<string, unknown>
    const { _request_id: _b, results_url: urlAfter, ...now } = (await an2.messages.batches.retrieve(msg.id)) as unknown as Record<string, unknown>
    expect(now).toEqual(was)
    expect(new URL(urlAfter as string).pathname).toBe(new URL(urlBefore as string).pathname)
    const results: string[] = []
    for await (const line of await an2.messages.batches.results(msg.id)) results.push(line.custom_id)
    expect(results).toEqual(['m1'])
  } finally {
    moved.proc.kill('SIGTERM')
    await moved.exited
  }

  // Repeatable: a second run finds everything there and copies nothing twice.
  const second = await migrate()
  expect(second.code).toBe(0)
  expect(second.out).toMatch(/files: \d+ rows, 0 copied/)
}, 30_000)

test('without a target it explains itself in one line and exits non-zero', () => {
  const run = Bun.spawnSync([process.execPath, 'src/main.ts', 'migrate-store'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATCHGATE_DATA_DIR: dataDir },
    stderr: 'pipe',
  })
  expect(run.exitCode).toBe(1)
  expect(run.stderr.toString().trim().split('\n')).toEqual([
    'batchgate: migrate-store: migrate-store copies BATCHGATE_DATA_DIR into BATCHGATE_DATABASE_URL and BATCHGATE_BLOB_URL: set both',
  ])
})
