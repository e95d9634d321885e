// Gateway-made files are not the tenant's files (issue 11 class 6). The input file the gateway
// builds from an Anthropic-dialect batch's inline requests (for OpenAI, Gemini and Bedrock) never
// shows in either dialect's file list and answers 404 to retrieve, content and delete. And a
// client deleting its own input file while a batch still reads it loses nothing: the delete is
// accepted (the file is gone for the client), but the upstream object and the custom_id sidecar
// stay until the batch has ended, so the results hold every custom_id.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import type { EnvProviderName as ProviderName } from '../../src/core/provider-name'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { MODELS } from '../security/world'
import { type Gateway, startGateway } from './gateway'
import { errorOf as anthropicError } from './anthropic-sdk-workflow'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, uploadBatchFile } from './openai-seed'

const FILE_PROVIDERS = ['openai', 'gemini', 'bedrock'] as const

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
const anthropic = (provider: ProviderName) =>
  new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } })

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
})

afterAll(async () => {
  await gw.close()
  await fakes.close()
})

const fileIds = (rows: Array<{ id: string }>) => rows.map((r) => r.id)

describe('the input the gateway builds from inline requests', () => {
  for (const provider of FILE_PROVIDERS) {
    test(`${provider}: not listed, not retrievable, not deletable, in either dialect`, async () => {
      const client = anthropic(provider)
      const batch = await client.messages.batches.create({
        requests: ['a', 'b'].map((id) => ({
          custom_id: id,
          params: { model: MODELS[provider], max_tokens: 20, messages: [{ role: 'user' as const, content: `prompt ${id}` }] },
        })),
      })
      const inputId = (await gw.store.batches.get(batch.id, 'default'))?.inputFileId
      expect(inputId).toBeString()
      const id = inputId as string

      expect(fileIds((await client.beta.files.list({ limit: 100 })).data)).not.toContain(id)
      expect(fileIds((await openai.files.list({ limit: 100, provider } as never)).data)).not.toContain(id)
      expect((await errorOf(openai.files.retrieve(id, { query: { provider } } as never))).status).toBe(404)
      expect((await errorOf(openai.files.content(id))).status).toBe(404)
      expect((await errorOf(openai.files.delete(id))).status).toBe(404)
      expect((await anthropicError(client.beta.files.retrieveMetadata(id))).status).toBe(404)
      expect((await anthropicError(client.beta.files.delete(id))).status).toBe(404)
      // Nor can it be named as another batch's input.
      expect((await errorOf(openai.batches.create({ input_file_id: id, endpoint: '/v1/chat/completions', completion_window: '24h' })))
        .status).toBe(404)

      // The batch it feeds still ends with every request answered.
      let ended = await client.messages.batches.retrieve(batch.id)
      for (let i = 0; i < 30 && ended.processing_status !== 'ended'; i++) ended = await client.messages.batches.retrieve(batch.id)
      expect(ended.request_counts.succeeded).toBe(2)
      const ids: string[] = []
      for await (const r of await client.messages.batches.results(batch.id)) ids.push(r.custom_id)
      expect(ids.sort()).toEqual(['a', 'b'])
      // Its upstream copy does not outlive the batch (no tenant data kept past its life).
      expect(upstreamHolds(provider, id)).toBe(false)
    })
  }
})

/** Whether the provider's fake still holds the object the gateway uploaded under `fileId`. */
function upstreamHolds(provider: (typeof FILE_PROVIDERS)[number], fileId: string): boolean {
  if (provider === 'bedrock') return fakes.s3.listKeys(TEST_BUCKET, 'batchgate-input/').some((k) => k.includes(fileId))
  if (provider === 'gemini') return [...fakes.gemini.files.values()].some((f) => f.displayName === fileId)
  return [...fakes.openai.files.values()].some((f) => f.filename.startsWith(fileId))
}

describe('deleting an input file while its batch runs', () => {
  for (const provider of FILE_PROVIDERS) {
    test(`${provider}: accepted for the client, results still complete`, async () => {
      const extra = provider === 'openai' ? {} : { provider }
      const file = await uploadBatchFile(openai, jsonl(...['x1', 'x2', 'x3'].map((id) => chatLine(id, `prompt ${id}`, MODELS[provider]))), extra)
      const batch = await openai.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        ...(provider === 'openai' ? {} : { model: MODELS[provider] }),
      } as never)
      const deleted = await openai.files.delete(file.id)
      expect(deleted).toMatchObject({ id: file.id, deleted: true })
      // Gone for the client at once: not listed, not retrievable.
      expect((await errorOf(openai.files.retrieve(file.id))).status).toBe(404)
      expect(fileIds((await openai.files.list({ limit: 100, provider } as never)).data)).not.toContain(file.id)

      const { batch: ended } = await pollToEnd(openai, batch.id)
      expect(ended.status).toBe('completed')
      expect(ended.request_counts).toMatchObject({ total: 3, completed: 3, failed: 0 })
      const { answers } = await readResults(openai, ended)
      expect(Object.keys(answers).sort()).toEqual(['x1', 'x2', 'x3'])

      // Once the batch has ended, the kept upstream object goes too.
      expect(upstreamHolds(provider, file.id)).toBe(false)
    })
  }

  test('gemini, cancelled: every custom_id is still accounted for after the delete', async () => {
    fakes.gemini.autoAdvance = false
    const file = await uploadBatchFile(openai, jsonl(chatLine('c1', 'p', MODELS.gemini), chatLine('c2', 'p', MODELS.gemini)), { provider: 'gemini' })
    const batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODELS.gemini } as never)
    await openai.files.delete(file.id)
    await openai.batches.cancel(batch.id)
    fakes.gemini.autoAdvance = true
    const { batch: ended } = await pollToEnd(openai, batch.id)
    expect(ended.status).toBe('cancelled')
    const { answers, errors } = await readResults(openai, ended)
    expect([...Object.keys(answers), ...Object.keys(errors)].sort()).toEqual(['c1', 'c2'])
  })
})
