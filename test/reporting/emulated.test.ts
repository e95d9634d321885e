// Emulated batches are reported like native ones (issue 17): the watcher settles them with no
// client polls, usage and cost (priced under the `emulated` kind in BATCHGATE_PRICES_FILE) equal
// their result files, tenants' webhooks fire signed to their own endpoints, budgets refuse the
// next create before anything is sent, and the token counters move.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type Gateway, startGateway } from '../e2e/gateway'
import { chatLine, errorOf, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type ChatFake, startChatFake } from '../fakes/chat-completions'
import { eventually, type Receiver, startReceiver } from './receiver'
import { ALPHA_KEY, ADMIN_KEY, BETA_KEY, fileSums, orgGet as orgGetAt, reportingEnv, runBatch as runOn, tenantsToml } from './tenants-world'

const MODEL = 'llama3.2:1b'
// USD per 1M tokens.
const PRICE = { input: 0.5, output: 1.5 }

let fake: ChatFake
let gw: Gateway
let global: Receiver
let alphaHooks: Receiver
let dir: string
let alpha: OpenAI
let beta: OpenAI
const ids: Record<string, string> = {}
let startTime = 0

const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: key, maxRetries: 0 })

/** Emulated instances take the model from the lines: create names none. */
const runBatch = (c: OpenAI, tag: string) => runOn(c, 'local', MODEL, tag, false)

const orgGet = (path: string, key: string) => orgGetAt(gw.url, path, key)

beforeAll(async () => {
  fake = startChatFake()
  global = startReceiver()
  alphaHooks = startReceiver()
  dir = mkdtempSync(join(tmpdir(), 'batchgate-emulated-reporting-'))
  const configFile = join(dir, 'batchgate.toml')
  writeFileSync(
    configFile,
    [
      ...tenantsToml(alphaHooks),
      '[providers.local]',
      'kind = "emulated"',
      `base_url = "${fake.url}"`,
      'api_key_env = "LOCAL_KEY"',
    ].join('\n'),
  )
  const prices = join(dir, 'prices.json')
  writeFileSync(prices, JSON.stringify({ providers: { emulated: { models: { [MODEL]: PRICE } } } }))
  startTime = Math.floor(Date.now() / 1000) - 5
  gw = await startGateway({ ...reportingEnv(configFile, { global, alpha: alphaHooks }), BATCHGATE_PRICES_FILE: prices, LOCAL_KEY: fake.apiKey })
  alpha = client(ALPHA_KEY)
  beta = client(BETA_KEY)
  ids.alpha = await runBatch(alpha, 'a')
  ids.beta = await runBatch(beta, 'b')
  // No client polls from here on: the watcher alone must see the runs end and settle them.
  gw.services.watcher.start()
  await eventually(
    async () => (await Promise.all([gw.store.batches.get(ids.alpha as string, 'alpha'), gw.store.batches.get(ids.beta as string, 'beta')])).every((b) => b?.usage),
    20_000,
    'settled',
  )
  await eventually(() => alphaHooks.deliveries.length >= 1 && global.deliveries.length >= 1, 20_000, 'webhooks')
})

afterAll(async () => {
  await gw.services.watcher.stop()
  await gw.close()
  await fake.close()
  global.close()
  alphaHooks.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('emulated batches in usage, costs, webhooks, budgets and metrics', () => {
  test('settled usage and the usage API equal the result files', async () => {
    const sums = await fileSums(alpha, ids.alpha as string)
    expect(sums.succeeded).toBe(2)
    expect(sums.input).toBeGreaterThan(0)
    const stored = await gw.store.batches.get(ids.alpha as string, 'alpha')
    const usage = stored?.usage
    expect(usage?.costUsd).toBeCloseTo((sums.input * PRICE.input + sums.output * PRICE.output) / 1e6, 15)
    const { status, body } = await orgGet(`usage/completions?start_time=${startTime}&bucket_width=1d&group_by=project_id&group_by=model`, ALPHA_KEY)
    expect(status).toBe(200)
    const results = body.data.flatMap((b: any) => b.results)
    expect(results).toHaveLength(1)
    expect(results[0]).toMatchObject({ project_id: 'alpha', model: MODEL, input_tokens: sums.input, output_tokens: sums.output })
  })

  test('the costs API prices emulated usage from the price file', async () => {
    const { status, body } = await orgGet(`costs?start_time=${startTime}&group_by=project_id`, ADMIN_KEY)
    expect(status).toBe(200)
    const results = body.data.flatMap((b: any) => b.results)
    for (const [tenant, id, c] of [
      ['alpha', ids.alpha, alpha],
      ['beta', ids.beta, beta],
    ] as const) {
      const sums = await fileSums(c, id as string)
      const value = results.filter((r: any) => r.project_id === tenant).reduce((n: number, r: any) => n + r.amount.value, 0)
      expect(value).toBeCloseTo((sums.input * PRICE.input + sums.output * PRICE.output) / 1e6, 12)
      expect(value).toBeGreaterThan(0)
    }
  })

  test("each tenant's batch.completed webhook goes to its endpoint, signed, once", () => {
    const alphaEvents = alphaHooks.eventsFor(ids.alpha as string)
    expect(alphaEvents).toHaveLength(1)
    expect(alphaEvents[0]?.event.type).toBe('batch.completed')
    expect(global.eventsFor(ids.alpha as string)).toHaveLength(0)
    expect(global.eventsFor(ids.beta as string).map((d) => d.event.type)).toEqual(['batch.completed'])
    expect(alphaHooks.rejected + global.rejected).toBe(0)
  })

  test('a tenant past its budget is refused before anything is sent, in both dialects', async () => {
    const sent = fake.received()
    const file = await uploadBatchFile(alpha, jsonl(chatLine('x-1', 'hello', MODEL)), { provider: 'local' })
    const err = await errorOf(alpha.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(429)
    expect(err.code).toBe('insufficient_quota')
    const anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: ALPHA_KEY, maxRetries: 0, defaultHeaders: { 'x-model-provider': 'local' } })
    const refused = (await anthropic.messages.batches
      .create({ requests: [{ custom_id: 'q', params: { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } }] })
      .then(
        () => null,
        (e: unknown) => e,
      )) as { status: number; error: { error: { type: string; message: string } } }
    expect(refused.status).toBe(429)
    expect(refused.error.error.message).toContain('Monthly budget')
    await Bun.sleep(100)
    expect(fake.received()).toBe(sent)
  })

  test('a tenant within budget still runs emulated batches; token and cost counters move by its usage', async () => {
    // The registry is process-wide (other suites' gateways add to it): compare before and after.
    const metric = async (name: string, extra = '') => {
      const text = await (await fetch(`${gw.url}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('provider="local"') && l.includes(`model="${MODEL}"`) && l.includes(extra))
      return line ? Number(line.split(' ').at(-1)) : 0
    }
    const before = { output: await metric('batchgate_tokens_total', 'kind="output"'), cost: await metric('batchgate_cost_usd_total') }
    const id = await runBatch(beta, 'b2')
    await eventually(async () => Boolean((await gw.store.batches.get(id, 'beta'))?.usage), 15_000, 'b2 settled')
    const sums = await fileSums(beta, id)
    expect(sums.succeeded).toBe(2)
    expect((await metric('batchgate_tokens_total', 'kind="output"')) - before.output).toBe(sums.output)
    expect((await metric('batchgate_cost_usd_total')) - before.cost).toBeCloseTo((sums.input * PRICE.input + sums.output * PRICE.output) / 1e6, 12)
  })
})
