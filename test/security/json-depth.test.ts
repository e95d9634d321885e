// Issue 11 class 1: JSON nested past the depth limit (64) — in a request body of either dialect,
// in a JSONL line of an upload, or in an upstream answer — is refused before a value is built.
// Memory is measured where it is real: the peak RSS (VmHWM) of a spawned gateway process.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/convert/json-depth'
import { failure } from '../resilience/api-failure'
import { type SpawnedGateway, spawnGateway } from '../resilience/spawned-gateway'
import { batchItem, batchLine, call, expectError, KEYS, MODELS, startWorld, type World } from './world'

const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
const openaiCreate = (metadata: string) =>
  `{"input_file_id":"file-abc","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":${metadata}}`
const anthropicCreate = (metadata: string) =>
  `{"requests":[{"custom_id":"a","params":{"model":"${MODELS.anthropic}","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"metadata":${metadata}}}]}`

describe('nestsDeeperThan', () => {
  test('counts arrays and objects, not brackets inside strings', () => {
    expect(nestsDeeperThan(deepArray(MAX_JSON_DEPTH))).toBe(false)
    expect(nestsDeeperThan(deepArray(MAX_JSON_DEPTH + 1))).toBe(true)
    expect(nestsDeeperThan(`{"a":${'{"b":'.repeat(70)}1${'}'.repeat(70)}}`)).toBe(true)
    expect(nestsDeeperThan(JSON.stringify({ s: '['.repeat(1000), t: 'x\\"[[[' }))).toBe(false)
    // Siblings do not add up: 200 arrays side by side are one level.
    expect(nestsDeeperThan(`[${Array.from({ length: 200 }, () => '[]').join(',')}]`)).toBe(false)
  })
})

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m?.[1]) throw new Error('no VmHWM in /proc status')
  return Number(m[1])
}

describe('deep request bodies in a spawned gateway', () => {
  let gw: SpawnedGateway
  let dataDir: string
  const openai = () => new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  const anthropic = () => new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: KEYS.alice, maxRetries: 0 })
  const post = (path: string, body: string) => call(gw.url, path, { body, headers: { 'content-type': 'application/json' } })

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'batchgate-depth-'))
    gw = await spawnGateway({ BATCHGATE_DATA_DIR: dataDir, BATCHGATE_KEYS: `alice=${KEYS.alice}`, OPENAI_API_KEY: 'sk-unused' })
  })
  afterAll(async () => {
    gw.proc.kill('SIGKILL')
    await gw.exited
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('100 000 and 10 000 deep metadata: 400 invalid_json naming the limit, peak RSS grows < 50 MB', async () => {
    // Warm up every path first, so the baseline already holds the code the deep requests run.
    for (const depth of [3, 100]) {
      await post('/openai/v1/batches', openaiCreate(deepArray(depth)))
      await post('/anthropic/v1/messages/batches', anthropicCreate(deepArray(depth)))
    }
    const baseline = peakRssKiB(gw.proc.pid)
    for (const depth of [100_000, 10_000]) {
      const oa = await post('/openai/v1/batches', openaiCreate(deepArray(depth)))
      expectError('openai', oa, { status: 400, type: 'invalid_request_error', names: String(MAX_JSON_DEPTH) })
      expect((oa.json as { error: { code: string } }).error.code).toBe('invalid_json')
      const an = await post('/anthropic/v1/messages/batches', anthropicCreate(deepArray(depth)))
      expectError('anthropic', an, { status: 400, type: 'invalid_request_error', names: String(MAX_JSON_DEPTH) })
    }
    // Through the official clients too (10 000 deep: what a client's own JSON.stringify manages).
    const deep = JSON.parse(deepArray(10_000))
    const viaOpenAI = await failure(
      openai().batches.create({ input_file_id: 'file-abc', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { a: deep } as never }),
    )
    expect(viaOpenAI.status).toBe(400)
    expect(viaOpenAI.error).toMatchObject({ code: 'invalid_json', type: 'invalid_request_error' })
    expect(viaOpenAI.message).toContain(`limit of ${MAX_JSON_DEPTH}`)
    const viaAnthropic = await failure(
      anthropic().messages.batches.create({ requests: [batchItem('a', { params: { metadata: { user_id: deep } } }) as never] }),
    )
    expect(viaAnthropic.status).toBe(400)
    expect(viaAnthropic.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    expect(viaAnthropic.message).toContain(`limit of ${MAX_JSON_DEPTH}`)

    const growthMiB = (peakRssKiB(gw.proc.pid) - baseline) / 1024
    expect(growthMiB).toBeLessThan(50)
    expect((await fetch(`${gw.url}/health`)).status).toBe(200)
  })
})

describe('deep JSONL lines and deep upstream answers', () => {
  let world: World
  const openai = () => new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  const anthropic = () => new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: KEYS.alice, maxRetries: 0 })

  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(async () => {
    await world.close()
  })

  test('an upload whose line 2 nests too deep is a 400 naming line 2 and the limit; nothing stored', async () => {
    const deepLine = batchLine('b', { body: { metadata: JSON.parse(deepArray(5_000)) } })
    const content = `${batchLine('a')}\n${deepLine}\n${batchLine('c')}\n`
    const before = await openai().files.list()
    const got = await failure(openai().files.create({ file: await toFile(Buffer.from(content), 'in.jsonl'), purpose: 'batch' }))
    expect(got.status).toBe(400)
    expect(got.error).toMatchObject({ code: 'invalid_json', type: 'invalid_request_error' })
    expect(got.message).toContain('line 2')
    expect(got.message).toContain(`limit of ${MAX_JSON_DEPTH}`)
    expect((await openai().files.list()).data.length).toBe(before.data.length)
  })

  test('inline OpenAI-dialect requests and a storage_config JSON field are held to the same limit', async () => {
    const inline = await failure(
      openai().batches.create({
        input_file_id: '',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [JSON.parse(batchLine('a', { body: { metadata: JSON.parse(deepArray(200)) } }))],
      } as never),
    )
    expect(inline.status).toBe(400)
    expect(inline.message).toContain(`limit of ${MAX_JSON_DEPTH}`)
    const form = new FormData()
    form.set('purpose', 'batch')
    form.set('provider', 'bedrock')
    form.set('storage_config', `{"s3":${deepArray(100)}}`)
    form.set('file', new Blob([`${batchLine('a', { model: MODELS.bedrock })}\n`]), 'in.jsonl')
    const res = await fetch(`${world.gw.url}/openai/v1/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${KEYS.alice}` } })
    const body = (await res.json()) as { error: { message: string; param: string } }
    expect(res.status).toBe(400)
    expect(body.error.param).toBe('storage_config')
    expect(body.error.message).toContain(`limit of ${MAX_JSON_DEPTH}`)
  })

  const DEEP_ANSWER = `{"id":"x","status":"in_progress","metadata":${deepArray(100_000)}}`
  const providers = ['openai', 'anthropic', 'gemini', 'bedrock'] as const

  for (const provider of providers) {
    test(`${provider}: a batch refresh answered with JSON nested 100 000 deep is a clean 502; the gateway serves on`, async () => {
      const client = anthropic()
      const created = await client.messages.batches.create(
        { requests: [batchItem('a', { params: { model: MODELS[provider] } }) as never] },
        { headers: { 'x-model-provider': provider } },
      )
      const fake = provider === 'bedrock' ? world.fakes.bedrock : world.fakes[provider]
      fake.faults.add({ match: (req) => req.method === 'GET', status: 200, body: DEEP_ANSWER })
      const got = await failure(client.messages.batches.retrieve(created.id))
      expect(got.status).toBe(502)
      expect(got.error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
      expect(got.message).toContain(`limit of ${MAX_JSON_DEPTH}`)
      const viaOpenAI = await failure(
        (() => {
          fake.faults.add({ match: (req) => req.method === 'GET', status: 200, body: DEEP_ANSWER })
          return openai().batches.retrieve(created.id)
        })(),
      )
      expect(viaOpenAI.status).toBe(502)
      fake.faults.clear()
      expect((await client.messages.batches.retrieve(created.id)).id).toBe(created.id)
    })
  }
})
