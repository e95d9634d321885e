// Mistral as a provider kind, two accounts in one gateway (`mistral` and `mistral-eu`), against two
// Mistral fakes with different keys. The OpenAI SDK seed runs through each: the gateway keeps the
// caller's lines, and at create uploads `{custom_id, body}` lines (no per-line model) and makes a
// job with the one model they name. Cancel, the one-model rule, lost-create adoption, refused
// credentials and config errors; the Anthropic SDK workflows (both generations) via `mistral-eu`.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { type MistralFake, startMistralFake } from '../fakes/mistral'
import { mintId } from '../../src/core/ids'
import { registry } from '../../src/ops/metrics'
import { problemsOf } from '../config/problems'
import { anthropicSdkSuite, API_KEY, pollToEnded, readResults, request } from './anthropic-sdk-workflow'
import { type ConfigWorld, createInterruptedByCrash, instanceToml, startConfigWorld } from './config-world'
import { chatLine, errorOf, expectCancelledBeforeRunning, expectSeedCompleted, expectTenantsApart, jsonl, pollToEnd, readResults as readOpenAIResults, uploadBatchFile, uploadThroughUploads } from './openai-seed'

const MODEL = 'mistral-small-latest'
const INSTANCES = ['mistral', 'mistral-eu'] as const
type Fakes = Record<(typeof INSTANCES)[number], MistralFake>

function startFakes(): Fakes {
  return { mistral: startMistralFake({ apiKey: 'mistral-account-one' }), 'mistral-eu': startMistralFake({ apiKey: 'mistral-account-two' }) }
}

function mistralWorld(fakes: Fakes, env: Record<string, string> = {}): Promise<ConfigWorld> {
  // One base URL with the /v1 the API paths carry, one without: both reach the same paths.
  const toml = [instanceToml('mistral', 'mistral', fakes.mistral.url, 'MISTRAL_KEY_0'), instanceToml('mistral-eu', 'mistral', `${fakes['mistral-eu'].url}/v1`, 'MISTRAL_KEY_1')].join('\n')
  return startConfigWorld(toml, { MISTRAL_KEY_0: fakes.mistral.apiKey, MISTRAL_KEY_1: fakes['mistral-eu'].apiKey, ...env })
}

const lastJob = (fake: MistralFake) => [...fake.jobs.values()].at(-1)

/** batchgate_upstream_retries_total for one instance and operation, from the process's registry. */
async function retriesOf(provider: string, operation: string): Promise<number> {
  const metric = (await registry.getSingleMetric('batchgate_upstream_retries_total')?.get())?.values ?? []
  return metric.find((v) => v.labels.provider === provider && v.labels.operation === operation)?.value ?? 0
}

describe('OpenAI SDK → mistral instances', () => {
  let fakes: Fakes
  let world: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    fakes = startFakes()
    world = await mistralWorld(fakes)
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await Promise.all(INSTANCES.map((n) => fakes[n].close()))
  })

  for (const [name, window] of [['mistral', '24h'], ['mistral-eu', '48h']] as const) {
    test(`seed workflow through ${name} (completion_window ${window}); one job model, lines without it; ids alone afterwards`, async () => {
      const input = jsonl(chatLine('m-1', 'What is 2+2?', MODEL), chatLine('m-2', 'FAIL here', MODEL))
      const file = await uploadBatchFile(client, input, { provider: name })
      // The caller's lines stay with the gateway until a job needs them.
      expect(fakes[name].files.size).toBe(0)
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: window as '24h' })
      expect(batch.completion_window).toBe(window)
      expect((await world.gw.store.batches.get(batch.id, 'default'))?.provider).toBe(name)

      const job = lastJob(fakes[name])
      expect(job).toMatchObject({ model: MODEL, endpoint: '/v1/chat/completions', timeout_hours: Number.parseInt(window, 10) })
      expect(job?.metadata?.batchgate_id).toBe(batch.id)
      const sent = fakes[name].fileText(job?.input_files[0] as string).trim().split('\n').map((l) => JSON.parse(l))
      expect(sent).toEqual([
        { custom_id: 'm-1', body: { messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 100 } },
        { custom_id: 'm-2', body: { messages: [{ role: 'user', content: 'FAIL here' }], max_tokens: 100 } },
      ])

      await expectSeedCompleted(client, batch.id, { id: file.id, input }, { id: 'm-1', prompt: 'What is 2+2?' }, 'm-2')
      for (const r of fakes[name].requests) expect(r.headers.authorization).toBe(`Bearer ${fakes[name].apiKey}`)
      const other = INSTANCES.find((n) => n !== name) as (typeof INSTANCES)[number]
      for (const r of fakes[other].requests) expect(r.headers.authorization).not.toBe(`Bearer ${fakes[name].apiKey}`)
    })
  }

  test('Uploads API: three parts completed in order become a Mistral batch input that runs', async () => {
    const input = jsonl(...Array.from({ length: 6 }, (_, i) => chatLine(`u-${i}`, `question ${i} ${'é'.repeat(i)}`, MODEL)))
    const file = await uploadThroughUploads(client, input, 'mistral')
    // The gateway keeps the caller's bytes: reading the file back gives them exactly.
    expect(await (await client.files.content(file.id)).text()).toBe(input)
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const { batch: done } = await pollToEnd(client, batch.id)
    expect(done.request_counts).toEqual({ total: 6, completed: 6, failed: 0 })
    const results = await readOpenAIResults(client, done)
    expect(results.answers).toEqual(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`u-${i}`, `Reply to: question ${i} ${'é'.repeat(i)}`])))
    expect(lastJob(fakes.mistral)?.model).toBe(MODEL)
  })

  test('cancel: the batch ends cancelled with every request in the error file', async () => {
    await expectCancelledBeforeRunning(client, fakes.mistral, 'mistral', MODEL)
    expect(lastJob(fakes.mistral)?.status).toBe('CANCELLED')
  })

  test('a job past its timeout ends expired: run requests keep their results, the rest are expired lines', async () => {
    fakes.mistral.autoAdvance = false
    try {
      const file = await uploadBatchFile(client, jsonl(chatLine('t-1', 'one', MODEL), chatLine('t-2', 'two', MODEL)), { provider: 'mistral' })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      fakes.mistral.expire(lastJob(fakes.mistral)?.id as string)
      const done = await client.batches.retrieve(batch.id)
      expect(done.status).toBe('expired')
      expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 })
      const lines = (await (await client.files.content(done.error_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
      expect(lines.map((l) => [l.custom_id, l.error.code])).toEqual([['t-1', 'batch_expired'], ['t-2', 'batch_expired']])
    } finally {
      fakes.mistral.autoAdvance = true
    }
  })

  test('with retries on, a 503 on a job read is retried and the client never sees it', async () => {
    const retrying = await mistralWorld(fakes, { BATCHGATE_UPSTREAM_RETRIES: '2' })
    try {
      const c = new OpenAI({ baseURL: `${retrying.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const file = await uploadBatchFile(c, jsonl(chatLine('s-1', 'hello', MODEL)), { provider: 'mistral' })
      const batch = await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const job = lastJob(fakes.mistral)?.id as string
      fakes.mistral.faults.add({ status: 503, body: { message: 'Service unavailable' }, match: (r, u) => r.method === 'GET' && u.pathname === `/v1/batch/jobs/${job}` })
      const reads = () => fakes.mistral.requests.filter((r) => r.method === 'GET' && r.path === `/v1/batch/jobs/${job}`).length
      const before = reads()
      const retried = await retriesOf('mistral', 'get_batch')
      expect((await c.batches.retrieve(batch.id)).status).toBe('in_progress')
      expect(reads()).toBe(before + 2)
      expect(await retriesOf('mistral', 'get_batch')).toBe(retried + 1)
    } finally {
      await retrying.close()
    }
  })

  test('Anthropic dialect: a job cancelled before it ran answers a canceled result for every request', async () => {
    const fake = fakes['mistral-eu']
    fake.autoAdvance = false
    try {
      const a = new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: 'x', defaultHeaders: { 'x-model-provider': 'mistral-eu' }, maxRetries: 0 })
      const created = await a.messages.batches.create({ requests: [request('z-1', 'one', MODEL), request('z-2', 'two', MODEL)] })
      expect((await a.messages.batches.cancel(created.id)).processing_status).toBe('canceling')
      fake.autoAdvance = true
      const { batch } = await pollToEnded(a, created.id, 2)
      expect(batch.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 2, expired: 0 })
      expect(await readResults(a, created.id, false)).toEqual({ 'z-1': 'canceled', 'z-2': 'canceled' })
      expect(lastJob(fake)?.status).toBe('CANCELLED')
    } finally {
      fake.autoAdvance = true
    }
  })

  test('Anthropic dialect: requests naming two models are refused at create; nothing reaches Mistral', async () => {
    const before = fakes['mistral-eu'].requests.length
    const a = new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: 'x', defaultHeaders: { 'x-model-provider': 'mistral-eu' }, maxRetries: 0 })
    const err = await a.messages.batches.create({ requests: [request('y-1', 'one', MODEL), request('y-2', 'two', 'mistral-large-latest')] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).message).toContain('mistral-eu batches run one model')
    expect(fakes['mistral-eu'].requests.length).toBe(before)
  })

  test('a file naming two models is refused at upload with the line that differs; nothing reaches Mistral', async () => {
    const before = fakes.mistral.requests.length
    const err = await errorOf(uploadBatchFile(client, jsonl(chatLine('x-1', 'a', MODEL), chatLine('x-2', 'b', MODEL), chatLine('x-3', 'c', 'mistral-large-latest')), { provider: 'mistral' }))
    expect(err.status).toBe(400)
    expect(err.message).toContain("line 3: model 'mistral-large-latest' differs from 'mistral-small-latest'")
    expect(err.error).toMatchObject({ param: 'model' })
    expect(fakes.mistral.requests.length).toBe(before)
  })

  test('a create model other than the one the lines name, or a window past 168h, is refused before any upstream call', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('k-1', 'x', MODEL)), { provider: 'mistral' })
    const before = fakes.mistral.requests.length
    const model = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'mistral-large-latest' } as never))
    expect(model.status).toBe(400)
    expect(model.error).toMatchObject({ param: 'model' })
    const window = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '169h' as '24h' }))
    expect(window.error).toMatchObject({ param: 'completion_window' })
    const userData = await errorOf(client.files.create({ file: new File(['notes'], 'notes.txt'), purpose: 'user_data', provider: 'mistral' } as never))
    expect(userData.status).toBe(400)
    expect(userData.error).toMatchObject({ param: 'purpose' })
    expect(fakes.mistral.requests.length).toBe(before)
  })

  test('a create whose answer is lost is adopted from the job list by the gateway id in metadata', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('a-1', 'hello', MODEL)), { provider: 'mistral-eu' })
    const before = fakes['mistral-eu'].jobs.size
    fakes['mistral-eu'].faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'POST' && u.pathname === '/v1/batch/jobs' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(fakes['mistral-eu'].jobs.size).toBe(before + 1)
    const job = lastJob(fakes['mistral-eu'])
    expect((await world.gw.store.batches.get(batch.id, 'default'))?.snapshot.upstreamId).toBe(job?.id as string)
    expect(fakes['mistral-eu'].requests.some((r) => r.method === 'GET' && r.path === '/v1/batch/jobs' && r.query.includes('page=0'))).toBe(true)
    const { batch: done } = await pollToEnd(client, batch.id)
    expect(done.request_counts).toEqual({ total: 1, completed: 1, failed: 0 })
  })

  test('a job Mistral refuses leaves no input file behind', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('r-1', 'x', MODEL)), { provider: 'mistral' })
    const files = fakes.mistral.files.size
    fakes.mistral.faults.add({ status: 400, body: { object: 'error', message: 'Model not available for batch', type: 'invalid_request_error', param: null, code: '3400' }, match: (r, u) => r.method === 'POST' && u.pathname === '/v1/batch/jobs' })
    const err = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(400)
    expect(err.message).toContain('Model not available for batch')
    expect(fakes.mistral.files.size).toBe(files)
  })

  test('a wrong Mistral key is reported as refused provider credentials, never echoed', async () => {
    const wrong = await mistralWorld(fakes, { MISTRAL_KEY_0: 'not-the-mistral-key' })
    try {
      const c = new OpenAI({ baseURL: `${wrong.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const file = await uploadBatchFile(c, jsonl(chatLine('w-1', 'x', MODEL)), { provider: 'mistral' })
      const err = await errorOf(c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
      expect(err.status).toBe(502)
      expect(err.message).toContain("refused the gateway's provider credentials: Unauthorized")
      expect(err.message).not.toContain('not-the-mistral-key')
    } finally {
      await wrong.close()
    }
  })
})

describe('a create interrupted by a crash', () => {
  test('the job tagged with the gateway id is adopted at the next start and answers under that id', async () => {
    const fakes = startFakes()
    const world = await mistralWorld(fakes)
    try {
      const id = mintId('openaiBatch')
      // What the create sent before the crash: the adapter's own upload and job, under the intent's id.
      const path = join(world.gw.dataDir, `${id}.mistral.jsonl`)
      writeFileSync(path, `${JSON.stringify({ custom_id: 'c-1', body: { messages: [{ role: 'user', content: 'one' }] } })}\n${JSON.stringify({ custom_id: 'c-2', body: { messages: [{ role: 'user', content: 'two' }] } })}\n`)
      const input = { kind: 'inline' as const, source: { path, bytes: Bun.file(path).size }, count: 2 }
      const { made, client: c } = await createInterruptedByCrash(world, { id, provider: 'mistral-eu', model: MODEL, requests: 2, input, inputFileId: null })

      expect((await world.gw.store.batches.get(id, 'default'))?.snapshot.upstreamId).toBe(made.upstreamId)
      const { batch } = await pollToEnd(c, id)
      expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
      expect(fakes.mistral.jobs.size).toBe(0)
    } finally {
      await world.close()
      await Promise.all(INSTANCES.map((n) => fakes[n].close()))
    }
  })
})

describe('tenants on a mistral instance', () => {
  test("one tenant's batches and files are not another's", async () => {
    const fakes = startFakes()
    const world = await mistralWorld(fakes, { BATCHGATE_KEYS: 'alpha=key-alpha,beta=key-beta' })
    try {
      await expectTenantsApart(world.gw.url, 'mistral', MODEL)
      expect(fakes.mistral.jobs.size).toBe(1)
    } finally {
      await world.close()
      await Promise.all(INSTANCES.map((n) => fakes[n].close()))
    }
  })
})

describe('mistral config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mistral-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const problems = (toml: string, env: Record<string, string> = {}) => {
    const path = join(dir, `c-${crypto.randomUUID()}.toml`)
    writeFileSync(path, toml)
    return problemsOf({ BATCHGATE_CONFIG: path, ...env }).join('\n')
  }

  test('a key is required, by reference only; limits cannot pass the kind\'s own; unknown settings are named', () => {
    expect(problems('[providers.m]\nkind = "mistral"\n')).toContain('providers.m needs api_key_env or api_key_file')
    expect(problems('[providers.m]\nkind = "mistral"\napi_key = "inline-secret"\n')).toContain('providers.m.api_key must not hold a secret inline')
    expect(problems('[providers.m]\nkind = "mistral"\napi_key_env = "K"\nmax_batch_requests = 2000000\n', { K: 'k' })).toContain(
      'providers.m.max_batch_requests must be an integer from 1 to 1000000',
    )
    expect(problems('[providers.m]\nkind = "mistral"\napi_key_env = "K"\nregion = "eu-west-1"\n', { K: 'k' })).toContain('providers.m.region is not a known setting')
    expect(problems('[providers.m]\nkind = "mistral"\napi_key_env = "K"\nbase_url = "ftp://x"\n', { K: 'k' })).toContain('providers.m.base_url must be an http(s) URL')
    expect(problems('[providers.m]\nkind = "mistral"\napi_key_env = "K"\n', { K: 'k' })).toBe('')
  })
})

// Both Anthropic SDK generations, the full seed, through the second instance.
const suiteFakes = {} as { fakes?: Fakes }
anthropicSdkSuite({
  provider: 'mistral-eu',
  model: MODEL,
  upload: { name: 'batch_input.jsonl', content: jsonl(chatLine('request-1', 'Hello!', MODEL)), type: 'application/jsonl' },
  downloadable: true,
  pageFile: (i) => ({ content: jsonl(chatLine(`p-${i}`, `page ${i}`, MODEL)), name: `page-${i}.jsonl`, type: 'application/jsonl' }),
  world: async () => {
    suiteFakes.fakes = startFakes()
    const world = await mistralWorld(suiteFakes.fakes, { BATCHGATE_KEYS: `default=${API_KEY}` })
    return {
      gw: world.gw,
      close: async () => {
        await world.close()
        await Promise.all(INSTANCES.map((n) => suiteFakes.fakes?.[n].close()))
      },
    }
  },
})
