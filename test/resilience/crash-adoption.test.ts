// kill -9 between the upstream's commit and the local finalize (issue 11 class 2), on every
// provider at once: each fake makes the batch, then holds its answer while the gateway process is
// killed. The restarted gateway adopts each batch exactly once under the id its intent had — by
// metadata (OpenAI), display name (Gemini), job name (Bedrock) or the one unmapped look-alike
// (Anthropic) — and a second restart changes nothing: no second adoption, no new upstream batch.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { MODELS } from '../security/world'
import { rows, type SpawnedGateway, spawnGateway, waitFor } from './spawned-gateway'

const HOLD_MS = 2500

let fakes: AllFakes
let dataDir: string

beforeAll(() => {
  fakes = startAllFakes({ autoAdvance: false })
  dataDir = mkdtempSync(join(tmpdir(), 'batchgate-crash-adopt-'))
})

afterAll(async () => {
  await fakes.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const line = (id: string, model: string) =>
  `${JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 } })}\n`
const items = (n: number, model: string) =>
  Array.from({ length: n }, (_, i) => ({ custom_id: `c${i}`, params: { model, max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] } }))

const clients = (gw: SpawnedGateway) => ({
  openai: new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 }),
  anthropic: (provider: string) =>
    new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open', maxRetries: 0, defaultHeaders: { 'x-model-provider': provider } }),
})

/** Upstream batches per provider, as the fakes hold them. */
const upstreamCounts = () => ({
  openai: fakes.openai.batches.size,
  anthropic: fakes.anthropic.batches.size,
  gemini: fakes.gemini.batches.size,
  bedrock: fakes.bedrock.jobs.size,
})

type Row = { id: string; provider: string; state: string; upstream_id: string | null }
const batchRows = () => rows<Row>(dataDir, 'SELECT id, provider, state, upstream_id FROM batches ORDER BY provider')

test('kill -9 after every provider committed a create, restart: each batch adopted exactly once', async () => {
  const env = { ...fakes.env, BATCHGATE_DATA_DIR: dataDir, BATCHGATE_UPSTREAM_RETRIES: '0' }
  const first = await spawnGateway(env)
  const before = clients(first)
  const openaiFile = await before.openai.files.create({ file: await toFile(Buffer.from(line('o', MODELS.openai)), 'in.jsonl'), purpose: 'batch' })
  const bedrockFile = await before.openai.files.create({
    file: await toFile(Buffer.from(line('b', MODELS.bedrock)), 'in.jsonl'),
    purpose: 'batch',
    provider: 'bedrock',
  } as never)
  const upstreamBefore = upstreamCounts()

  // Each fake makes the batch, then sits on its answer past the kill.
  const hold = (fake: { faults: AllFakes['openai']['faults'] }, match: (req: Request, url: URL) => boolean) =>
    fake.faults.add({ afterHandler: true, delayMs: HOLD_MS, match })
  hold(fakes.openai, (r, u) => r.method === 'POST' && u.pathname === '/v1/batches')
  hold(fakes.anthropic, (r, u) => r.method === 'POST' && u.pathname === '/v1/messages/batches')
  hold(fakes.gemini, (_r, u) => u.pathname.endsWith(':batchGenerateContent'))
  hold(fakes.bedrock, (r, u) => r.method === 'POST' && u.pathname === '/model-invocation-job')
  const calls = [
    before.openai.batches.create({ input_file_id: openaiFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    before.anthropic('anthropic').messages.batches.create({ requests: items(3, MODELS.anthropic) }),
    before.anthropic('gemini').messages.batches.create({ requests: items(2, MODELS.gemini) }),
    before.openai.batches.create({
      input_file_id: bedrockFile.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      model: MODELS.bedrock,
    } as never),
  ].map((p) => p.catch((err: unknown) => err))

  const committed = () => {
    const now = upstreamCounts()
    return (Object.keys(now) as Array<keyof typeof now>).every((p) => now[p] === upstreamBefore[p] + 1)
  }
  await waitFor('all four upstreams to have made their batch', () => committed() && batchRows().filter((r) => r.state === 'creating').length === 4)
  const intents = batchRows().filter((r) => r.state === 'creating')
  first.proc.kill('SIGKILL')
  expect(await first.exited).not.toBe(0)
  for (const outcome of await Promise.all(calls)) expect(outcome).toBeInstanceOf(Error)

  const second = await spawnGateway(env)
  try {
    const after = batchRows()
    for (const intent of intents) {
      const row = after.find((r) => r.id === intent.id)
      expect(row?.state, `${intent.provider} ${intent.id}`).toBe('ready')
    }
    // Exactly once: one upstream batch per create, each mapped by exactly one gateway row.
    expect(upstreamCounts()).toEqual({
      openai: upstreamBefore.openai + 1,
      anthropic: upstreamBefore.anthropic + 1,
      gemini: upstreamBefore.gemini + 1,
      bedrock: upstreamBefore.bedrock + 1,
    })
    const mapped = after.map((r) => r.upstream_id).filter((u): u is string => u !== null)
    expect(new Set(mapped).size).toBe(mapped.length)
    const c = clients(second)
    const [openaiIntent, anthropicIntent] = ['openai', 'anthropic'].map((p) => intents.find((i) => i.provider === p) as Row)
    expect((await c.openai.batches.retrieve(openaiIntent?.id as string)).input_file_id).toBe(openaiFile.id)
    expect((await c.anthropic('anthropic').messages.batches.retrieve(anthropicIntent?.id as string)).request_counts.processing).toBe(3)
    expect(second.output()).toContain('interrupted create adopted')
  } finally {
    second.proc.kill('SIGTERM')
    await second.exited
  }

  // Another restart finds nothing left to adopt and changes nothing.
  const rowsBefore = batchRows()
  const third = await spawnGateway(env)
  try {
    expect(batchRows()).toEqual(rowsBefore)
    expect(third.output()).not.toContain('interrupted create adopted')
  } finally {
    third.proc.kill('SIGTERM')
    await third.exited
  }
}, 40_000)
