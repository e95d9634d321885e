// Issue 11 class 5: what a client uploaded is what it reads back. The seed's jsonl_content has no
// final newline; files with CRLF endings, a BOM or trailing blank lines must keep them too. `bytes`
// (OpenAI) and `size_bytes` (Anthropic) are always the client's byte count; content downloads are
// the client's bytes wherever the provider keeps them (OpenAI; Anthropic batch input lives in our
// blob store), the converted records for Bedrock, and Gemini refuses downloads (docs/decisions.md).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile as anthropicFile } from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import type { EnvProviderName as ProviderName } from '../../src/core/provider-name'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { failure } from '../resilience/api-failure'
import { MODELS } from '../security/world'

const line = (id: string, model: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `Hello ${id}!` }], max_tokens: 100 },
  })

/** Each shape a client's JSONL may have, built for one provider's model. */
const SHAPES: Record<string, (model: string) => string> = {
  'no final newline': (m) => `${line('request-1', m)}\n${line('request-2', m)}`,
  'CRLF endings': (m) => `${line('request-1', m)}\r\n${line('request-2', m)}\r\n`,
  'leading BOM': (m) => `\uFEFF${line('request-1', m)}\n${line('request-2', m)}\n`,
  'trailing blank lines': (m) => `${line('request-1', m)}\n${line('request-2', m)}\n\n\n`,
}

const PROVIDERS: ProviderName[] = ['openai', 'anthropic', 'gemini', 'bedrock']
const storage = { storage_config: { s3: { bucket: TEST_BUCKET, region: 'us-east-1', prefix: 'exact' } } }

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
const anthropic = (provider: ProviderName) =>
  new Anthropic({
    baseURL: `${gw.url}/anthropic`,
    apiKey: 'open-gateway',
    maxRetries: 0,
    defaultHeaders: { 'x-model-provider': provider },
  })

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

describe('openai sdk: batch input files keep the client byte count and bytes', () => {
  for (const provider of PROVIDERS) {
    for (const [shape, build] of Object.entries(SHAPES)) {
      test(`${provider}, ${shape}`, async () => {
        const content = build(provider === 'anthropic' ? MODELS.anthropic : provider === 'bedrock' ? MODELS.bedrock : MODELS[provider])
        const sent = Buffer.from(content)
        const extra = { provider, ...(provider === 'bedrock' ? storage : {}) }
        const file = await openai.files.create({ file: await toFile(sent, 'batch_input.jsonl'), purpose: 'batch', ...extra } as never)
        expect(file.bytes).toBe(sent.length)
        const query = { query: { provider } } as never
        expect((await openai.files.retrieve(file.id, query)).bytes).toBe(sent.length)
        const listed = await openai.files.list({ provider, ...(provider === 'bedrock' ? storage : {}) } as never)
        expect(listed.data.find((f) => f.id === file.id)?.bytes).toBe(sent.length)
        if (provider === 'gemini') {
          // Gemini hands no uploaded file back; its refusal is passed on.
          expect((await failure(openai.files.content(file.id, query))).status).toBeGreaterThanOrEqual(400)
          return
        }
        const back = Buffer.from(await (await openai.files.content(file.id, query)).arrayBuffer())
        if (provider === 'bedrock') {
          // The converted records Bedrock reads, one per request.
          expect(back.toString().trim().split('\n').map((l) => JSON.parse(l).recordId)).toEqual(['requestZ2D1', 'requestZ2D2'])
        } else {
          expect(back.equals(sent)).toBe(true)
        }
      })
    }
  }

  test('a BOM file still runs as a batch on openai (the BOM is not sent upstream)', async () => {
    const content = SHAPES['leading BOM']?.(MODELS.openai) as string
    const file = await openai.files.create({ file: await toFile(Buffer.from(content), 'bom.jsonl'), purpose: 'batch' })
    const upstream = fakes.openai.requests.filter((r) => r.method === 'POST' && r.path === '/v1/files').length
    expect(upstream).toBeGreaterThan(0)
    let batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    for (let i = 0; i < 30 && !['completed', 'failed'].includes(batch.status); i++) batch = await openai.batches.retrieve(batch.id)
    expect(batch.status).toBe('completed')
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
  })
})

describe('anthropic sdk: uploads read back byte-exact', () => {
  for (const provider of PROVIDERS) {
    for (const [shape, build] of Object.entries(SHAPES)) {
      test(`${provider}, ${shape}`, async () => {
        const sent = Buffer.from(build(MODELS.openai))
        const client = anthropic(provider)
        const file = await client.beta.files.upload({ file: await anthropicFile(sent, 'batch_input.jsonl', { type: 'application/jsonl' }) })
        expect(file.size_bytes).toBe(sent.length)
        expect((await client.beta.files.retrieveMetadata(file.id)).size_bytes).toBe(sent.length)
        if (!file.downloadable) {
          expect((await failure(client.beta.files.download(file.id))).status).toBeGreaterThanOrEqual(400)
          return
        }
        const back = Buffer.from(await (await client.beta.files.download(file.id)).arrayBuffer())
        expect(back.equals(sent)).toBe(true)
      })
    }
  }
})
