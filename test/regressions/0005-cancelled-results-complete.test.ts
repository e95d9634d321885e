// Issue 5 (Anthropic dialect, results() that just works): a cancelled batch on Gemini or Bedrock
// came back with no result line for the requests the provider never ran — counts said
// `canceled: 2` while results() was empty. Every request must appear, as `canceled`.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { type Gateway, startGateway } from '../e2e/gateway'

let fakes: AllFakes
let gw: Gateway

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway(fakes.env)
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

const requests = (model: string) =>
  ['first', 'second'].map((id) => ({ custom_id: id, params: { model, max_tokens: 50, messages: [{ role: 'user' as const, content: `say ${id}` }] } }))

/** [custom_id, error.code] of every line of an OpenAI error file, sorted. */
async function errorCodes(client: OpenAI, fileId: string | null | undefined): Promise<string[][]> {
  const text = await (await client.files.content(fileId as string)).text()
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map((o) => [o.custom_id, o.error.code])
    .sort()
}

describe('results of a cancelled batch account for every request', () => {
  for (const [provider, model] of [
    ['gemini', 'gemini-2.0-flash'],
    ['bedrock', 'anthropic.claude-3-haiku-20240307-v1:0'],
  ] as const) {
    test(`${provider}: Anthropic results() lists each request as canceled`, async () => {
      const client = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'x', maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } })
      const batch = await client.messages.batches.create({ requests: requests(model) })
      await client.messages.batches.cancel(batch.id)
      let ended = await client.messages.batches.retrieve(batch.id)
      for (let i = 0; i < 5 && ended.processing_status !== 'ended'; i++) ended = await client.messages.batches.retrieve(batch.id)
      expect(ended.processing_status).toBe('ended')
      const lines: Array<[string, string]> = []
      for await (const r of await client.messages.batches.results(batch.id)) lines.push([r.custom_id, r.result.type])
      expect(lines.sort()).toEqual([
        ['first', 'canceled'],
        ['second', 'canceled'],
      ])
    })
  }

  test('bedrock via an uploaded OpenAI file: the error file holds batch_cancelled lines', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
    const model = 'anthropic.claude-3-haiku-20240307-v1:0'
    const lines = ['up-1', 'up 2'].map((id) =>
      JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, max_tokens: 5, messages: [{ role: 'user', content: id }] } }),
    )
    const file = await client.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'in.jsonl'), purpose: 'batch', provider: 'bedrock' } as never)
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model } as never)
    await client.batches.cancel(created.id)
    let done = await client.batches.retrieve(created.id)
    for (let i = 0; i < 5 && done.status !== 'cancelled'; i++) done = await client.batches.retrieve(created.id)
    expect(done.status).toBe('cancelled')
    expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 })
    expect(await errorCodes(client, done.error_file_id)).toEqual([
      ['up 2', 'batch_cancelled'],
      ['up-1', 'batch_cancelled'],
    ])
  })

  test('gemini via the OpenAI dialect: the error file holds batch_cancelled lines', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
    const created = await client.batches.create({
      input_file_id: '',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      provider: 'gemini',
      requests: requests('gemini-2.0-flash'),
    } as never)
    const cancelled = await client.batches.cancel(created.id)
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.error_file_id).toMatch(/^file-/)
    expect(await errorCodes(client, cancelled.error_file_id)).toEqual([
      ['first', 'batch_cancelled'],
      ['second', 'batch_cancelled'],
    ])
  })
})
