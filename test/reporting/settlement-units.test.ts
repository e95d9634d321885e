// Units of settlement: the tally keeps counting past a bad result line, prices match the longest
// model prefix, an unknown model costs null (never 0), and a prices file replaces the table.

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config'
import type { StoredBatch } from '../../src/core/batch'
import { chatResults } from '../../src/core/results'
import { emptyModelUsage, openaiBatchUsage, tallyResults } from '../../src/core/usage'
import type { GatewayError } from '../../src/errors'
import { costOf, loadPriceTable, priceOf } from '../../src/prices/price-table'
import type { Provider } from '../../src/providers/provider'
import { retryDelayMs } from '../../src/core/webhook-delivery'

const okLine = (id: string, input: number, output: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `batch_req_${id}`,
    custom_id: id,
    response: {
      status_code: 200,
      request_id: 'r',
      body: {
        id: `chatcmpl-${id}`,
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output, ...extra },
      },
    },
    error: null,
  })

function batchWith(lines: string[]): { batch: StoredBatch; provider: Provider } {
  const batch = {
    id: 'batch_x',
    snapshot: { model: 'gpt-4o-mini', status: 'completed', resultRefs: [{ format: 'openai-output', ref: 'file-out', part: 'output' }] },
  } as unknown as StoredBatch
  const provider = {
    openResults: async () => new Response(`${lines.join('\n')}\n`).body as ReadableStream<Uint8Array>,
  } as unknown as Provider
  return { batch, provider }
}

describe('tally', () => {
  test('a bad line in the middle is counted and the lines around it still count', async () => {
    const { batch, provider } = batchWith([
      okLine('a', 10, 5, { prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } }),
      '{"custom_id": "b", "response": {"status_code": 200, "body": {"choices": "not a list"}}}',
      'not json at all',
      okLine('c', 7, 3),
    ])
    const bad: GatewayError[] = []
    const tally = await tallyResults(chatResults(batch, provider, { maxLineBytes: 1 << 20 } as never, undefined, (e) => bad.push(e)), 'gpt-4o-mini')
    expect(bad.map((e) => e.details.line)).toEqual([2, 3])
    expect(tally.lines).toBe(2)
    const row = tally.models.get('gpt-4o-mini-2024-07-18')
    expect(row).toMatchObject({ succeeded: 2, inputTokens: 17, cachedTokens: 4, outputTokens: 8, reasoningTokens: 2 })
    expect(openaiBatchUsage({ models: [row as never], badLines: 2, missingLines: 0, costUsd: null, settledAt: 0 })).toEqual({
      input_tokens: 17,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 8,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 25,
    })
  })

  test('without onBadLine a bad line still stops the stream with its line number', async () => {
    const { batch, provider } = batchWith([okLine('a', 1, 1), 'nope'])
    const read = async () => {
      for await (const _ of chatResults(batch, provider, { maxLineBytes: 1 << 20 } as never)) void _
    }
    await expect(read()).rejects.toThrow(/line 2/)
  })
})

describe('price table', () => {
  const table = loadPriceTable(null, [])
  const usage = (model: string, input: number, cached: number, output: number) => ({
    ...emptyModelUsage(model),
    inputTokens: input,
    cachedTokens: cached,
    outputTokens: output,
  })

  test.each([
    ['openai', 'gpt-4o-mini-2024-07-18', 0.075],
    ['openai', 'gpt-4o-2024-08-06', 1.25],
    ['openai', 'gpt-4.1-nano', 0.05],
    ['bedrock', 'us.anthropic.claude-3-haiku-20240307-v1:0', 0.125],
    ['bedrock', 'amazon.nova-micro-v1:0', 0.0175],
    ['gemini', 'models/gemini-2.0-flash', 0.05],
    ['anthropic', 'claude-3-5-haiku-20241022', 0.4],
  ])('%s %s is priced as its longest prefix', (provider, model, input) => {
    expect(priceOf(table, provider, model)?.input).toBe(input)
  })

  test('cost splits cached from uncached input', () => {
    // gpt-4o-mini batch: input 0.075, cached 0.0375, output 0.30 per 1M tokens.
    expect(costOf(table, 'openai', usage('gpt-4o-mini', 1_000_000, 400_000, 1_000_000))).toBeCloseTo(0.6 * 0.075 + 0.4 * 0.0375 + 0.3, 12)
  })

  test('an unknown model costs null, never 0; a row with no tokens costs 0', () => {
    expect(costOf(table, 'openai', usage('gpt-9-ultra', 10, 0, 10))).toBeNull()
    expect(costOf(table, 'groq', usage('mixtral-8x7b-32768', 10, 0, 10))).toBeNull()
    expect(costOf(table, 'openai', usage('unknown', 0, 0, 0))).toBe(0)
  })

  test('BATCHGATE_PRICES_FILE replaces the table; a bad one is one line per problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchgate-prices-'))
    try {
      const good = join(dir, 'good.json')
      writeFileSync(good, JSON.stringify({ providers: { openai: { models: { 'my-model': { input: 1, output: 2 } } } } }))
      const config = loadConfig({ BATCHGATE_PRICES_FILE: good })
      expect(priceOf(config.reporting.prices, 'openai', 'my-model-2025')).toEqual({ input: 1, cachedInput: 1, output: 2 })
      expect(priceOf(config.reporting.prices, 'openai', 'gpt-4o-mini')).toBeNull()

      const bad = join(dir, 'bad.json')
      writeFileSync(bad, JSON.stringify({ providers: { nowhere: { models: {} }, openai: { models: { m: { input: -1, output: 'x' } } } } }))
      let error: unknown
      try {
        loadConfig({ BATCHGATE_PRICES_FILE: bad })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).problems).toEqual([
        "BATCHGATE_PRICES_FILE: unknown provider 'nowhere' (known: openai, azure-openai, anthropic, gemini, vertex, bedrock, groq, mistral, emulated)",
        'BATCHGATE_PRICES_FILE: providers.openai.models.m needs non-negative numbers input, output (and cached_input if given)',
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('webhook settings and retries', () => {
  test('the first retry never comes before the base delay; later ones double, with jitter', () => {
    expect(retryDelayMs(5000, 1, 0)).toBe(5000)
    expect(retryDelayMs(5000, 1, 0.999)).toBeLessThan(7500)
    expect(retryDelayMs(5000, 3, 0)).toBe(20_000)
    expect(retryDelayMs(5000, 40, 0)).toBe(6 * 3600 * 1000)
  })

  test('webhook URL and secret go together; the secret must be whsec_ and is never echoed', () => {
    const secret = 'whsec_tooShort'
    let error: unknown
    try {
      loadConfig({ BATCHGATE_WEBHOOK_URL: 'http://127.0.0.1:1/x', BATCHGATE_WEBHOOK_SECRET: secret, BATCHGATE_ADMIN_KEY: 'short' })
    } catch (err) {
      error = err
    }
    const problems = (error as ConfigError).problems
    expect(problems).toContain('BATCHGATE_WEBHOOK_SECRET must be whsec_ followed by base64 of 24 to 64 bytes')
    expect(problems).toContain('BATCHGATE_ADMIN_KEY must be at least 16 characters')
    expect(problems.join(' ')).not.toContain(secret)
    expect(() => loadConfig({ BATCHGATE_WEBHOOK_URL: 'http://127.0.0.1:1/x' })).toThrow('must be set together')
  })
})

describe('reporting metrics', () => {
  test('an unpriced model is counted as such and adds no cost', async () => {
    const { countSettled, unpricedTotal, costTotal } = await import('../../src/ops/reporting-metrics')
    const read = async (c: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }, model: string) =>
      (await c.get()).values.find((v) => v.labels.model === model)?.value ?? 0
    const batch = { provider: 'openai', snapshot: { status: 'completed' } } as unknown as StoredBatch
    const row = { ...emptyModelUsage('gpt-from-the-future'), succeeded: 1, inputTokens: 5, outputTokens: 5, costUsd: null }
    const before = await read(unpricedTotal, 'gpt-from-the-future')
    countSettled(batch, { models: [row], badLines: 0, missingLines: 0, costUsd: null, settledAt: 0 })
    expect(await read(unpricedTotal, 'gpt-from-the-future')).toBe(before + 1)
    expect(await read(costTotal, 'gpt-from-the-future')).toBe(0)
  })
})
