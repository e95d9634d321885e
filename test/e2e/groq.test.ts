// Groq as a provider kind, two accounts in one gateway (`groq` and `groq-eu`), against two Groq
// fakes with different keys. The OpenAI SDK seed workflow runs through each with Groq's longer
// completion windows; the Anthropic SDK workflows (both generations) run through `groq-eu`.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { type GroqFake, startGroqFake } from '../fakes/groq'
import { anthropicSdkSuite, API_KEY } from './anthropic-sdk-workflow'
import { type ConfigWorld, instanceToml, startConfigWorld } from './config-world'
import { chatLine, errorOf, expectCancelledBeforeRunning, expectSeedCompleted, jsonl, uploadBatchFile } from './openai-seed'

const MODEL = 'llama-3.1-8b-instant'
const INSTANCES = ['groq', 'groq-eu'] as const

function groqWorld(fakes: Record<(typeof INSTANCES)[number], GroqFake>, env: Record<string, string> = {}): Promise<ConfigWorld> {
  const toml = INSTANCES.map((name, i) => instanceToml(name, 'groq', `${fakes[name].url}/openai/v1`, `GROQ_KEY_${i}`)).join('\n')
  return startConfigWorld(toml, { GROQ_KEY_0: fakes.groq.apiKey, GROQ_KEY_1: fakes['groq-eu'].apiKey, ...env })
}

describe('OpenAI SDK → groq instances', () => {
  const fakes = {} as Record<(typeof INSTANCES)[number], GroqFake>
  let world: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    fakes.groq = startGroqFake({ apiKey: 'gsk_account_one' })
    fakes['groq-eu'] = startGroqFake({ apiKey: 'gsk_account_two' })
    world = await groqWorld(fakes)
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await Promise.all(INSTANCES.map((n) => fakes[n].close()))
  })

  for (const [name, window, upstreamWindow] of [['groq', '7d', '168h'], ['groq-eu', '48h', '48h']] as const) {
    test(`seed workflow through ${name} with completion_window ${window}; ids alone afterwards`, async () => {
      const input = jsonl(chatLine('g-1', 'What is 2+2?', MODEL), chatLine('g-2', 'FAIL here', MODEL))
      const file = await uploadBatchFile(client, input, { provider: name })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: window as '24h' })
      expect(batch.completion_window).toBe(window)
      const upstream = [...fakes[name].batches.values()].at(-1)
      expect(upstream?.completion_window).toBe(upstreamWindow)
      expect((await world.gw.store.batches.get(batch.id, 'default'))?.provider).toBe(name)

      await expectSeedCompleted(client, batch.id, { id: file.id, input }, { id: 'g-1', prompt: 'What is 2+2?' }, 'g-2')
      for (const r of fakes[name].requests) expect(r.headers.authorization).toBe(`Bearer ${fakes[name].apiKey}`)
    })
  }

  test('cancel: the batch ends cancelled with every request in the error file', async () => {
    await expectCancelledBeforeRunning(client, fakes.groq, 'groq', MODEL)
  })

  test("Groq's limits are the gateway's: no window past 7d, chat completions only, batch files only", async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('l-1', 'x', MODEL)), { provider: 'groq' })
    const before = fakes.groq.batches.size
    const tooLong = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '8d' as '24h' }))
    expect(tooLong.status).toBe(400)
    expect(tooLong.error).toMatchObject({ param: 'completion_window' })
    const embeddings = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h', provider: 'groq' } as never))
    expect(embeddings.status).toBe(400)
    expect(embeddings.error).toMatchObject({ param: 'endpoint' })
    expect(fakes.groq.batches.size).toBe(before)
    const userData = await errorOf(client.files.create({ file: new File(['notes'], 'notes.txt'), purpose: 'user_data', provider: 'groq' } as never))
    expect(userData.status).toBe(400)
    expect(userData.error).toMatchObject({ param: 'purpose' })
  })

  test('a create whose answer is lost is adopted from the unpaged batch list, not orphaned', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('a-1', 'hello', MODEL)), { provider: 'groq-eu' })
    const before = fakes['groq-eu'].batches.size
    fakes['groq-eu'].faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'POST' && u.pathname === '/openai/v1/batches' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(fakes['groq-eu'].batches.size).toBe(before + 1)
    const upstream = [...fakes['groq-eu'].batches.values()].at(-1)
    expect((await world.gw.store.batches.get(batch.id, 'default'))?.snapshot.upstreamId).toBe(upstream?.id as string)
    expect(fakes['groq-eu'].requests.some((r) => r.method === 'GET' && r.path === '/openai/v1/batches' && r.query === '')).toBe(true)
  })

  test('a wrong Groq key is reported as refused provider credentials', async () => {
    const wrong = await groqWorld(fakes, { GROQ_KEY_0: 'gsk_not_the_key' })
    try {
      const c = new OpenAI({ baseURL: `${wrong.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const err = await errorOf(uploadBatchFile(c, jsonl(chatLine('w-1', 'x', MODEL)), { provider: 'groq' }))
      expect(err.message).toContain("refused the gateway's provider credentials")
      expect(err.message).not.toContain('gsk_not_the_key')
    } finally {
      await wrong.close()
    }
  })
})

// Both Anthropic SDK generations, the full seed, through the second instance.
const suiteFakes = {} as Record<(typeof INSTANCES)[number], GroqFake>
anthropicSdkSuite({
  provider: 'groq-eu',
  model: MODEL,
  upload: { name: 'batch_input.jsonl', content: jsonl(chatLine('request-1', 'Hello!', MODEL)), type: 'application/jsonl' },
  downloadable: true,
  pageFile: (i) => ({ content: jsonl(chatLine(`p-${i}`, `page ${i}`, MODEL)), name: `page-${i}.jsonl`, type: 'application/jsonl' }),
  world: async () => {
    suiteFakes.groq = startGroqFake({ apiKey: 'gsk_account_one' })
    suiteFakes['groq-eu'] = startGroqFake({ apiKey: 'gsk_account_two' })
    const world = await groqWorld(suiteFakes, { BATCHGATE_KEYS: `default=${API_KEY}` })
    return {
      gw: world.gw,
      close: async () => {
        await world.close()
        await Promise.all(INSTANCES.map((n) => suiteFakes[n].close()))
      },
    }
  },
})
