// Drives the Azure OpenAI fake with the official `openai` package's `AzureOpenAI` client (key and
// Entra token), plus raw calls for what the client always gets right (api-version, auth header).

import { afterAll, describe, expect, test } from 'bun:test'
import OpenAI, { AzureOpenAI, toFile } from 'openai'
import { errorOf as failure } from '../e2e/openai-seed'
import { type AzureFake, startAzureFake } from './azure'

const fake: AzureFake = startAzureFake()
afterAll(() => fake.close())
const VERSION = '2024-10-21'
const keyed = new AzureOpenAI({ endpoint: fake.url, apiKey: fake.apiKey, apiVersion: VERSION, maxRetries: 0 })
const entra = new AzureOpenAI({ endpoint: fake.url, azureADTokenProvider: async () => fake.bearerToken, apiVersion: VERSION, maxRetries: 0 })

const line = (id: string, prompt: string, url = '/chat/completions') =>
  JSON.stringify({ custom_id: id, method: 'POST', url, body: { model: 'gpt-4o-mini-batch', messages: [{ role: 'user', content: prompt }] } })

async function upload(client: OpenAI, content: string, purpose = 'batch') {
  return client.files.create({ file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: purpose as 'batch' })
}


describe('Azure OpenAI fake, through AzureOpenAI', () => {
  test('api-version is required on every call; wrong keys and tokens are 401', async () => {
    for (const query of ['', '?api-version=2023-01-01']) {
      const res = await fetch(`${fake.url}/openai/files${query}`, { headers: { 'api-key': fake.apiKey } })
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ error: { code: '404', message: 'Resource not found' } })
    }
    const wrongKey = new AzureOpenAI({ endpoint: fake.url, apiKey: 'not-the-key', apiVersion: VERSION, maxRetries: 0 })
    expect((await failure(wrongKey.files.list())).status).toBe(401)
    const wrongToken = new AzureOpenAI({ endpoint: fake.url, azureADTokenProvider: async () => 'stale', apiVersion: VERSION, maxRetries: 0 })
    expect((await failure(wrongToken.batches.list())).status).toBe(401)
    // An OpenAI-style Bearer key is not how Azure takes keys.
    const res = await fetch(`${fake.url}/openai/files?api-version=${VERSION}`, { headers: { authorization: `Bearer ${fake.apiKey}` } })
    expect(res.status).toBe(401)
  })

  test('files: batch purpose, user_data refused, content byte-exact, with key or Entra token', async () => {
    const content = `${line('a', 'hello')}\n`
    const file = await upload(keyed, content)
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: content.length })
    expect(await (await entra.files.content(file.id)).text()).toBe(content)
    const bad = await failure(upload(keyed, content, 'user_data'))
    expect(bad.status).toBe(400)
    expect(bad.param).toBe('purpose')
  })

  test('batch: /chat/completions with deployment names; lines may say /v1/chat/completions; statuses and result files', async () => {
    const file = await upload(keyed, `${line('a', 'hello')}\n${line('b', 'FAIL here', '/v1/chat/completions')}\n`)
    const batch = await entra.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '24h' })
    expect(batch).toMatchObject({ status: 'validating', endpoint: '/chat/completions', completion_window: '24h' })
    const seen: string[] = []
    let current = batch
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(current.status)) {
      current = await keyed.batches.retrieve(batch.id)
      seen.push(current.status)
    }
    expect(seen).toEqual(['in_progress', 'finalizing', 'completed'])
    expect(current.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    const out = (await (await keyed.files.content(current.output_file_id as string)).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(out.map((o) => o.custom_id)).toEqual(['a'])
    expect(out[0].response.body.choices[0].message.content).toBe('Reply to: hello')
    const listed = await keyed.batches.list({ limit: 10 })
    expect(listed.data.map((b) => b.id)).toContain(batch.id)
  })

  test('batch: only 24h; unknown endpoints refused; cancel ends cancelled', async () => {
    const file = await upload(keyed, `${line('a', 'hello')}\n${line('b', 'again')}\n`)
    const window = await failure(keyed.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '48h' as '24h' }))
    expect(window.status).toBe(400)
    expect(window.param).toBe('completion_window')
    const endpoint = await failure(keyed.batches.create({ input_file_id: file.id, endpoint: '/v1/moderations', completion_window: '24h' }))
    expect(endpoint.param).toBe('endpoint')
    const batch = await keyed.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '24h' })
    expect((await keyed.batches.cancel(batch.id)).status).toBe('cancelling')
    expect((await keyed.batches.retrieve(batch.id)).status).toBe('cancelled')
  })
})
