// Usage and costs in OpenAI's organization API shape, scoped per tenant ("project"), budgets
// refusing creates in both dialects, and per-tenant webhook endpoints from BATCHGATE_CONFIG
// (issue 15). Two tenants: alpha (tiny budget, own webhook) and beta (global webhook).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { chatLine, errorOf, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { eventually, type Receiver, startReceiver } from './receiver'
import { ALPHA_KEY, ADMIN_KEY, BETA_KEY, fileSums, orgGet as orgGetAt, reportingEnv, runBatch, tenantsToml } from './tenants-world'

let fakes: AllFakes
let gw: Gateway
let global: Receiver
let alphaHooks: Receiver
let dir: string
let alpha: OpenAI
let beta: OpenAI
const ids: Record<string, string> = {}
let startTime = 0

const client = (key: string) => new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: key, maxRetries: 0 })

const orgGet = (path: string, key: string) => orgGetAt(gw.url, path, key)

beforeAll(async () => {
  fakes = startAllFakes()
  global = startReceiver()
  alphaHooks = startReceiver()
  dir = mkdtempSync(join(tmpdir(), 'batchgate-usage-'))
  const configFile = join(dir, 'batchgate.toml')
  writeFileSync(configFile, tenantsToml(alphaHooks).join('\n'))
  startTime = Math.floor(Date.now() / 1000) - 5
  gw = await startGateway({ ...fakes.env, ...reportingEnv(configFile, { global, alpha: alphaHooks }) })
  alpha = client(ALPHA_KEY)
  beta = client(BETA_KEY)
  ids.alpha = await runBatch(alpha, 'openai', 'gpt-4o-mini', 'a')
  ids.beta1 = await runBatch(beta, 'gemini', 'gemini-2.0-flash', 'b1')
  ids.beta2 = await runBatch(beta, 'anthropic', 'claude-3-haiku-20240307', 'b2')
  gw.services.watcher.start()
  await eventually(async () => (await Promise.all([
    gw.store.batches.get(ids.alpha as string, 'alpha'),
    gw.store.batches.get(ids.beta1 as string, 'beta'),
    gw.store.batches.get(ids.beta2 as string, 'beta'),
  ])).every((b) => b?.usage), 20_000, 'settled')
  await eventually(() => alphaHooks.deliveries.length >= 1 && global.deliveries.length >= 2, 20_000, 'webhooks')
})

afterAll(async () => {
  await gw.services.watcher.stop()
  await gw.close()
  await fakes.close()
  global.close()
  alphaHooks.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('GET /organization/usage/completions', () => {
  test("a tenant sees its own project only, with totals equal to its result files", async () => {
    const sums = await fileSums(alpha, ids.alpha as string)
    const { status, body } = await orgGet(`usage/completions?start_time=${startTime}&bucket_width=1d&group_by=project_id&group_by=model`, ALPHA_KEY)
    expect(status).toBe(200)
    expect(body.object).toBe('page')
    expect(body.data).toHaveLength(1)
    const results = body.data[0].results
    expect(results).toHaveLength(1)
    expect(results[0]).toMatchObject({
      object: 'organization.usage.completions.result',
      project_id: 'alpha',
      input_tokens: sums.input,
      output_tokens: sums.output,
      // succeeded plus the one request the model refused
      num_model_requests: 3,
    })
    expect(results[0].model).toStartWith('gpt-4o-mini')
  })

  test('the admin key sees every project; group_by project_id splits them', async () => {
    const { body } = await orgGet(`usage/completions?start_time=${startTime}&group_by[]=project_id`, ADMIN_KEY)
    const projects = body.data.flatMap((b: any) => b.results.map((r: any) => r.project_id)).sort()
    expect(projects).toEqual(['alpha', 'beta'])
    const [b1, b2] = await Promise.all([fileSums(beta, ids.beta1 as string), fileSums(beta, ids.beta2 as string)])
    const betaRow = body.data[0].results.find((r: any) => r.project_id === 'beta')
    expect(betaRow.input_tokens).toBe(b1.input + b2.input)
    expect(betaRow.output_tokens).toBe(b1.output + b2.output)
  })

  test('a project filter never widens a tenant to another project', async () => {
    const { body } = await orgGet(`usage/completions?start_time=${startTime}&project_ids=beta`, ALPHA_KEY)
    expect(body.data[0].results).toEqual([])
  })

  test('1m buckets page with limit and next_page until has_more is false', async () => {
    const seen: any[] = []
    let page: string | null = null
    let calls = 0
    do {
      const { body }: { body: any } = await orgGet(
        `usage/completions?start_time=${startTime - 300}&end_time=${startTime + 600}&bucket_width=1m&limit=4${page ? `&page=${page}` : ''}`,
        ADMIN_KEY,
      )
      seen.push(...body.data)
      page = body.next_page
      expect(body.has_more).toBe(page !== null)
      calls++
    } while (page)
    expect(calls).toBe(4)
    expect(seen).toHaveLength(15)
    expect(seen.map((b) => b.end_time - b.start_time).every((w) => w === 60)).toBe(true)
    const tokens = seen.flatMap((b) => b.results).reduce((n: number, r: any) => n + r.input_tokens, 0)
    const { body: whole } = await orgGet(`usage/completions?start_time=${startTime - 300}&end_time=${startTime + 600}`, ADMIN_KEY)
    expect(tokens).toBe(whole.data[0].results[0].input_tokens)
    expect(tokens).toBeGreaterThan(0)
  })

  test('bad parameters are 400s naming the parameter', async () => {
    for (const [query, param] of [
      [`start_time=${startTime}&bucket_width=2d`, 'bucket_width'],
      [`start_time=${startTime}&bucket_width=1d&limit=32`, 'limit'],
      [`start_time=${startTime}&group_by=user_id`, 'group_by'],
      [`start_time=${startTime}&page=bogus`, 'page'],
      [`start_time=${startTime}&end_time=${startTime}`, 'end_time'],
    ] as const) {
      const { status, body } = await orgGet(`usage/completions?${query}`, ALPHA_KEY)
      expect(status).toBe(400)
      expect(body.error.param).toBe(param)
    }
    const missing = await orgGet('usage/completions', ALPHA_KEY)
    expect(missing.status).toBe(400)
  })

  test('an unknown key is a 401', async () => {
    expect((await orgGet(`usage/completions?start_time=${startTime}`, 'nobody-0123456789')).status).toBe(401)
  })
})

describe('GET /organization/costs', () => {
  test('cost per project equals the settled cost of its batches, grouped by line item', async () => {
    const { status, body } = await orgGet(`costs?start_time=${startTime}&group_by=project_id&group_by=line_item`, ADMIN_KEY)
    expect(status).toBe(200)
    const results = body.data[0].results
    for (const r of results) {
      expect(r.object).toBe('organization.costs.result')
      expect(r.amount.currency).toBe('usd')
    }
    const stored = await Promise.all([
      gw.store.batches.get(ids.beta1 as string, 'beta'),
      gw.store.batches.get(ids.beta2 as string, 'beta'),
    ])
    const betaTotal = results.filter((r: any) => r.project_id === 'beta').reduce((n: number, r: any) => n + r.amount.value, 0)
    expect(betaTotal).toBeCloseTo((stored[0]?.usage?.costUsd ?? Number.NaN) + (stored[1]?.usage?.costUsd ?? Number.NaN), 12)
    expect(betaTotal).toBeGreaterThan(0)
  })

  test('only 1d buckets', async () => {
    const { status, body } = await orgGet(`costs?start_time=${startTime}&bucket_width=1h`, ADMIN_KEY)
    expect(status).toBe(400)
    expect(body.error.param).toBe('bucket_width')
  })
})

describe('budgets', () => {
  test('a tenant past its monthly budget is refused with 429 insufficient_quota (OpenAI dialect)', async () => {
    const file = await uploadBatchFile(alpha, jsonl(chatLine('x-1', 'hello', 'gpt-4o-mini')))
    const err = await errorOf(alpha.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(429)
    expect(err.code).toBe('insufficient_quota')
    expect((err.error as { type?: string }).type).toBe('insufficient_quota')
    expect(err.message).toContain('Monthly budget')
  })

  test('and with 429 rate_limit_error in the Anthropic dialect', async () => {
    const anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: ALPHA_KEY, maxRetries: 0 })
    const err = (await anthropic.messages.batches
      .create({ requests: [{ custom_id: 'q', params: { model: 'claude-3-haiku-20240307', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } }] })
      .then(() => null, (e: unknown) => e)) as { status: number; error: { error: { type: string; message: string } } }
    expect(err.status).toBe(429)
    expect(err.error.error.type).toBe('rate_limit_error')
    expect(err.error.error.message).toContain('Monthly budget')
  })

  test('a tenant within budget still creates', async () => {
    const id = await runBatch(beta, 'openai', 'gpt-4o-mini', 'b3')
    expect(id).toMatch(/^batch_/)
  })
})

describe('per-tenant webhooks', () => {
  test("alpha's event goes to alpha's endpoint, signed with its secret; beta's to the global one", () => {
    expect(alphaHooks.eventsFor(ids.alpha as string)).toHaveLength(1)
    expect(global.eventsFor(ids.alpha as string)).toHaveLength(0)
    expect(global.eventsFor(ids.beta1 as string)).toHaveLength(1)
    expect(global.eventsFor(ids.beta2 as string)).toHaveLength(1)
    expect(alphaHooks.rejected + global.rejected).toBe(0)
  })
})
