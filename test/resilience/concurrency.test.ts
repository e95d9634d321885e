// 64 concurrent clients over 4 tenants (issue 7 §9): each uploads a batch file, creates a batch
// from it and lists both collections, all at once, on three providers. Nothing may be lost (every
// upload and create lands, once, with distinct ids) and nothing may be mixed (each tenant lists
// exactly its own objects, each file holds its own bytes, each batch points at its own file).

import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { failure } from './api-failure'

const TENANTS = ['a', 'b', 'c', 'd'] as const
const PER_TENANT = 16
const PROVIDERS = ['openai', 'anthropic', 'gemini'] as const
const MODEL = { openai: 'gpt-4o-mini', anthropic: 'claude-3-haiku-20240307', gemini: 'gemini-2.0-flash' } as const

let fakes: AllFakes
let gw: Gateway

const secret = (tenant: string) => `secret${tenant.repeat(8)}`
const clientFor = (tenant: string) => new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: secret(tenant), maxRetries: 0 })

const contentFor = (tenant: string, i: number, model: string) =>
  `${JSON.stringify({
    custom_id: `${tenant}-${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, max_tokens: 20, messages: [{ role: 'user', content: `tenant ${tenant} job ${i}` }] },
  })}\n`

interface Outcome {
  tenant: string
  i: number
  provider: (typeof PROVIDERS)[number]
  fileId: string
  batchId: string
  batchInput: string | null
  /** Ids this tenant's lists returned while everyone was writing. */
  listedFiles: string[]
  listedBatches: string[]
}

async function job(tenant: string, i: number): Promise<Outcome> {
  const client = clientFor(tenant)
  const provider = PROVIDERS[i % PROVIDERS.length] as Outcome['provider']
  const file = await client.files.create({
    file: await toFile(Buffer.from(contentFor(tenant, i, MODEL[provider])), `${tenant}-${i}.jsonl`),
    purpose: 'batch',
    provider,
  } as never)
  const [batch, files, batches] = await Promise.all([
    client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      ...(provider === 'gemini' ? { model: MODEL.gemini } : {}),
    } as never),
    client.files.list({ limit: 100 } as never),
    client.batches.list({ limit: 100 }),
  ])
  return {
    tenant,
    i,
    provider,
    fileId: file.id,
    batchId: batch.id,
    batchInput: batch.input_file_id,
    listedFiles: files.data.map((f) => f.id),
    listedBatches: batches.data.map((b) => b.id),
  }
}

async function allIds(list: () => AsyncIterable<{ id: string }>): Promise<string[]> {
  const ids: string[] = []
  for await (const item of list()) ids.push(item.id)
  return ids
}

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: TENANTS.map((t) => `${t}=${secret(t)}`).join(',') })
})

afterAll(async () => {
  await gw.close()
  await fakes.close()
})

test('64 concurrent uploads, creates and lists from 4 tenants lose nothing and mix nothing', async () => {
  const outcomes = await Promise.all(TENANTS.flatMap((t) => Array.from({ length: PER_TENANT }, (_, i) => job(t, i))))

  // Nothing lost: 64 distinct files and batches, each batch on its own file.
  expect(new Set(outcomes.map((o) => o.fileId)).size).toBe(64)
  expect(new Set(outcomes.map((o) => o.batchId)).size).toBe(64)
  for (const o of outcomes) expect(o.batchInput).toBe(o.fileId)
  const count = (sql: string) => gw.store.db.query<{ n: number }, []>(sql).get()?.n
  expect(count(`SELECT COUNT(*) AS n FROM files WHERE state = 'ready' AND purpose = 'batch'`)).toBe(64)
  expect(count(`SELECT COUNT(*) AS n FROM batches WHERE state = 'ready'`)).toBe(64)
  expect(count(`SELECT COUNT(*) AS n FROM files WHERE state = 'pending'`)).toBe(0)
  expect(count(`SELECT COUNT(*) AS n FROM batches WHERE state = 'creating'`)).toBe(0)

  // Nothing mixed: each tenant lists exactly its own, during and after the storm.
  for (const tenant of TENANTS) {
    const mine = outcomes.filter((o) => o.tenant === tenant)
    const client = clientFor(tenant)
    const files = await allIds(() => client.files.list({ limit: 5 } as never))
    const batches = await allIds(() => client.batches.list({ limit: 5 }))
    expect(files.sort()).toEqual(mine.map((o) => o.fileId).sort())
    expect(batches.sort()).toEqual(mine.map((o) => o.batchId).sort())
    for (const o of mine) {
      for (const id of o.listedFiles) expect(files).toContain(id)
      for (const id of o.listedBatches) expect(batches).toContain(id)
    }
  }
  // Each file holds its own bytes (Gemini uploads are not downloadable upstream, by design).
  const readable = outcomes.filter((o) => o.provider !== 'gemini')
  const contents = await Promise.all(readable.map(async (o) => (await clientFor(o.tenant).files.content(o.fileId)).text()))
  readable.forEach((o, k) => expect(contents[k]).toBe(contentFor(o.tenant, o.i, MODEL[o.provider])))
  // Another tenant's id is unknown, not forbidden.
  const [first] = outcomes
  expect((await failure(clientFor('b').files.retrieve(first?.fileId as string))).status).toBe(404)
  expect((await failure(clientFor('b').batches.retrieve(first?.batchId as string))).status).toBe(404)
})
