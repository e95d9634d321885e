// The worker pool (issue 12, both cores): a file cut into slices and converted by Bun Workers must
// give exactly what one thread gives — the same bytes in the same order, the same facts, and the
// same error naming the same line, wherever in the file (and in whichever slice) the error sits.

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { convertBatchFile } from '../../src/core/batch-file'
import type { PoolOptions } from '../../src/core/convert-pool'
import { GatewayError } from '../../src/errors'
import { convertedLines } from '../../src/ops/metrics'

const dir = mkdtempSync(join(tmpdir(), 'convert-pool-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const limits = { ...loadConfig({}).limits, maxBatchRequests: 1_000_000 }
/** Workers take a moment to start, more so on a loaded machine. */
const SLOW = 30_000
const ONE_THREAD: PoolOptions = { workers: 1, minSliceBytes: 1 }
const FOUR_SLICES: PoolOptions = { workers: 4, minSliceBytes: 1 }
let seq = 0

const MODEL = { gemini: 'gemini-2.0-flash', bedrock: 'anthropic.claude-3-haiku-20240307-v1:0' } as const
type Provider = keyof typeof MODEL
const chat = (provider: Provider, id: string, prompt: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL[provider], messages: [{ role: 'user', content: prompt }], max_tokens: 10 } })

/** ~400 lines with blank lines and CRLFs sprinkled in, so slice line counts matter. */
function lines(provider: Provider, n = 400): string[] {
  return Array.from({ length: n }, (_, i) => chat(provider, `req-${i}`, `prompt ${i} ${'wörd '.repeat(i % 50)}`))
}
const text = (ls: string[]) => ls.map((l, i) => (i % 37 === 5 ? `${l}\r\n\n` : `${l}\n`)).join('')

async function run(content: string, provider: Provider, pool: PoolOptions, max = limits.maxBatchRequests) {
  const path = join(dir, `in-${++seq}.jsonl`)
  await Bun.write(path, content)
  const outPath = join(dir, `out-${seq}.jsonl`)
  const idsPath = join(dir, `ids-${seq}`)
  try {
    const out = await convertBatchFile({ path, bytes: Bun.file(path).size }, { name: provider, kind: provider }, outPath, { ...limits, maxBatchRequests: max }, idsPath, pool)
    return { ok: true as const, text: await Bun.file(out.path).text(), ids: await Bun.file(idsPath).text(), facts: out.facts, bytes: out.bytes }
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError)
    const e = err as GatewayError
    return { ok: false as const, message: e.message, line: e.details.line, code: e.details.code }
  }
}

async function same(content: string, provider: Provider, max?: number) {
  const one = await run(content, provider, ONE_THREAD, max)
  const four = await run(content, provider, FOUR_SLICES, max)
  expect(four).toEqual(one)
  return one
}

describe('convert pool', () => {
  for (const provider of ['gemini', 'bedrock'] as const) {
    test(`${provider}: four slices give one thread's output, ids and facts, byte for byte`, async () => {
      const one = await same(text(lines(provider)), provider)
      expect(one.ok).toBe(true)
      if (one.ok) expect(one.facts.lines).toBe(400)
    }, SLOW)
  }

  test('lines converted in the workers are counted in batchgate_converted_lines_total', async () => {
    const converted = async () => ((await convertedLines.get()).values.find((v) => v.labels.to === 'gemini-line' && v.labels.from === 'openai-line')?.value ?? 0)
    const before = await converted()
    await run(text(lines('gemini')), 'gemini', FOUR_SLICES)
    expect((await converted()) - before).toBe(400)
  }, SLOW)

  test('an error in a late slice names its absolute line (blank lines in earlier slices counted)', async () => {
    const ls = lines('gemini')
    ls[371] = '{"custom_id": "bad", "method": "POST", "url": "/v1/chat/completions", "body": {"model": 7}}'
    const r = await same(text(ls), 'gemini')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.message).toMatch(/^line \d+/)
  }, SLOW)

  test('errors in several slices: the first in the file wins', async () => {
    const ls = lines('bedrock')
    ls[390] = 'not json'
    ls[230] = chat('bedrock', 'x', 'y').replace('"POST"', '"GET"')
    const r = await same(text(ls), 'bedrock')
    expect(r.ok).toBe(false)
  }, SLOW)

  test('a url that changes in a later slice', async () => {
    const url = lines('gemini')
    url[333] = url[333]?.replace('/v1/chat/completions', '/v1/embeddings') as string
    expect((await same(text(url), 'gemini')).ok).toBe(false)
  }, SLOW)

  test('a duplicate custom_id across slices', async () => {
    const dup = lines('gemini')
    dup[350] = chat('gemini', 'req-12', 'again')
    const d = await same(text(dup), 'gemini')
    expect(d.ok).toBe(false)
    if (!d.ok) expect(d.code).toBe('duplicate_custom_id')
  }, SLOW)

  test('the request cap crossed inside a slice', async () => {
    const capped = await same(text(lines('gemini')), 'gemini', 250)
    expect(capped.ok).toBe(false)
    if (!capped.ok) expect(capped.message).toContain('at most 250')
  }, SLOW)

  test('a provider adapter (methods, credentials) is never cloned into the workers', async () => {
    const path = join(dir, 'adapter.jsonl')
    await Bun.write(path, text(lines('gemini', 50)))
    const adapter = { name: 'gemini', kind: 'gemini' as const, apiKey: 'secret', uploadFile: async () => undefined }
    const out = await convertBatchFile({ path, bytes: Bun.file(path).size }, adapter, join(dir, 'adapter-out'), limits, undefined, FOUR_SLICES)
    expect(out.facts.lines).toBe(50)
  }, SLOW)

  test('a file with no final newline, and nothing left behind', async () => {
    const content = lines('bedrock').join('\n')
    expect((await same(content, 'bedrock')).ok).toBe(true)
    expect(readdirSync(dir).filter((n) => n.includes('.slice'))).toEqual([])
  }, SLOW)
})
