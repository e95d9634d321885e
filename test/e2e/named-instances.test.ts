// Two OpenAI accounts in one gateway: `[providers.openai-us]` and `[providers.openai-eu]` in
// BATCHGATE_CONFIG, each against its own fake with its own key. The seed workflow runs through
// both with the official `openai` client and both Anthropic SDK generations; after create, ids
// alone route every call to the instance that owns the object. An instance that still owns
// objects cannot be removed from the config: the gateway refuses to start.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type OpenAIFake, startOpenAIFake } from '../fakes/openai'
import { GENERATIONS, pollToEnded, readResults as readAnthropicResults, request } from './anthropic-sdk-workflow'
import { type Gateway, startGateway } from './gateway'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, uploadBatchFile } from './openai-seed'

const INSTANCES = ['openai-us', 'openai-eu'] as const
type Instance = (typeof INSTANCES)[number]

const dir = mkdtempSync(join(tmpdir(), 'batchgate-instances-'))
const fakes = {} as Record<Instance, OpenAIFake>
let gw: Gateway
let client: OpenAI
let env: Record<string, string>

beforeAll(async () => {
  fakes['openai-us'] = startOpenAIFake({ apiKey: 'sk-us-account' })
  fakes['openai-eu'] = startOpenAIFake({ apiKey: 'sk-eu-account' })
  writeFileSync(join(dir, 'eu.key'), 'sk-eu-account\n')
  const config = join(dir, 'batchgate.toml')
  writeFileSync(
    config,
    [
      '[providers.openai-us]',
      'kind = "openai"',
      `base_url = "${fakes['openai-us'].url}/v1"`,
      'api_key_env = "US_OPENAI_KEY"',
      '',
      '[providers.openai-eu]',
      'kind = "openai"',
      `base_url = "${fakes['openai-eu'].url}/v1"`,
      `api_key_file = "${join(dir, 'eu.key')}"`,
      '',
    ].join('\n'),
  )
  env = { BATCHGATE_CONFIG: config, US_OPENAI_KEY: 'sk-us-account' }
  gw = await startGateway(env)
  client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
})

afterAll(async () => {
  await gw.close()
  await Promise.all(INSTANCES.map((i) => fakes[i].close()))
  rmSync(dir, { recursive: true, force: true })
})

describe('two instances of one kind', () => {
  for (const name of INSTANCES) {
    const other = INSTANCES.find((i) => i !== name) as Instance
    test(`openai SDK seed workflow through ${name}; ids alone find it afterwards`, async () => {
      const input = jsonl(chatLine(`${name}-1`, `Hello from ${name}`, 'gpt-4o-mini'), chatLine(`${name}-2`, 'FAIL here', 'gpt-4o-mini'))
      const before = { mine: fakes[name].countFiles(), other: fakes[other].countFiles(), otherBatches: fakes[other].batches.size }
      const file = await uploadBatchFile(client, input, { provider: name })
      expect(fakes[name].countFiles()).toBe(before.mine + 1)
      expect(fakes[other].countFiles()).toBe(before.other)

      // No provider from here on: the mapping names the instance.
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      expect(fakes[other].batches.size).toBe(before.otherBatches)
      const upstream = (await gw.store.batches.get(batch.id, 'default'))?.snapshot.upstreamId as string
      expect(fakes[name].batches.has(upstream)).toBe(true)
      expect((await gw.store.batches.get(batch.id, 'default'))?.provider).toBe(name)
      expect((await gw.store.files.get(file.id, 'default'))?.provider).toBe(name)

      const { batch: done, seen } = await pollToEnd(client, batch.id)
      expect(seen.at(-1)).toBe('completed')
      expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
      const results = await readResults(client, done)
      expect(results.answers).toEqual({ [`${name}-1`]: `Reply to: Hello from ${name}` })
      expect(Object.keys(results.errors)).toEqual([`${name}-2`])
      expect(await (await client.files.content(file.id)).text()).toBe(input)

      // Each fake saw only its own key.
      for (const r of fakes[name].requests) expect(r.headers.authorization).toBe(`Bearer ${fakes[name].apiKey}`)
    })
  }

  test('list filters by instance name; a hint naming the other instance is a 404', async () => {
    const us = await client.files.list({ provider: 'openai-us' } as never)
    const eu = await client.files.list({ provider: 'openai-eu' } as never)
    expect(us.data.length).toBeGreaterThan(0)
    expect(eu.data.length).toBeGreaterThan(0)
    const usIds = new Set(us.data.map((f) => f.id))
    for (const f of eu.data) expect(usIds.has(f.id)).toBe(false)
    const err = await errorOf(client.files.retrieve(us.data[0]?.id as string, { query: { provider: 'openai-eu' } } as never))
    expect(err.status).toBe(404)
  })

  test('unknown and unconfigured names are 400s naming the configured instances', async () => {
    const unknown = await errorOf(uploadBatchFile(client, jsonl(chatLine('u', 'x', 'gpt-4o-mini')), { provider: 'openai-asia' }))
    expect(unknown.status).toBe(400)
    expect(unknown.message).toContain('openai-us, openai-eu')
    // `openai` is a known env name, but this gateway has no such instance.
    const unconfigured = await errorOf(uploadBatchFile(client, jsonl(chatLine('u', 'x', 'gpt-4o-mini')), { provider: 'openai' }))
    expect(unconfigured.status).toBe(400)
    expect(unconfigured.message).toContain('not configured')
  })

  for (const gen of GENERATIONS) {
    test(`${gen.name}: message batches through x-model-provider openai-eu, then by id alone`, async () => {
      const named = gen.make({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', defaultHeaders: { 'x-model-provider': 'openai-eu' } })
      const plain = gen.make({ baseURL: `${gw.url}/anthropic`, apiKey: 'x' })
      const usBefore = fakes['openai-us'].batches.size
      const created = await named.beta.messages.batches.create({
        requests: [request('a-1', 'Hi EU', 'gpt-4o-mini'), request('a-2', 'FAIL now', 'gpt-4o-mini')],
      })
      expect(fakes['openai-us'].batches.size).toBe(usBefore)
      expect((await gw.store.batches.get(created.id, 'default'))?.provider).toBe('openai-eu')
      const { batch: ended } = await pollToEnded(plain, created.id, 2)
      expect(ended.request_counts).toMatchObject({ succeeded: 1, errored: 1 })
      const results = await readAnthropicResults(plain, created.id)
      expect(results).toEqual({ 'a-1': 'Reply to: Hi EU', 'a-2': 'errored' })
    })
  }
})

describe('an instance that owns objects', () => {
  test('cannot be removed from the config: the gateway refuses to start, naming it', async () => {
    const without = join(dir, 'without-eu.toml')
    writeFileSync(without, `[providers.openai-us]\nkind = "openai"\nbase_url = "${fakes['openai-us'].url}/v1"\napi_key_env = "US_OPENAI_KEY"\n`)
    const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', BATCHGATE_DATA_DIR: gw.dataDir, BATCHGATE_CONFIG: without, US_OPENAI_KEY: 'sk-us-account', BATCHGATE_PORT: '0' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(1)
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("provider 'openai-eu' still owns")
    expect(lines[0]).toContain('[providers.openai-eu]')
  })
})
