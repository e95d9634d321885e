import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { convertBatchFile } from '../../src/core/batch-file'
import { KIND_LIMITS } from '../../src/config/instances'
import type { EnvProviderName as ProviderName } from '../../src/core/provider-name'
import { GatewayError } from '../../src/errors'

const dir = mkdtempSync(join(tmpdir(), 'batch-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const limits = loadConfig({}).limits
let seq = 0

const chat = (id: string, prompt: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: prompt }], ...extra } })

async function convert(content: string | Uint8Array, provider: ProviderName, maxRequests?: number, outPath = join(dir, `out-${seq + 1}.jsonl`)) {
  const path = join(dir, `in-${++seq}.jsonl`)
  await Bun.write(path, content)
  const lim = { ...limits, maxBatchRequests: maxRequests ?? KIND_LIMITS[provider].maxBatchRequests }
  const out = await convertBatchFile({ path, bytes: Bun.file(path).size }, { name: provider, kind: provider }, outPath, lim)
  return { ...out, text: await Bun.file(out.path).text() }
}

async function failure(content: string, provider: ProviderName, maxRequests?: number): Promise<GatewayError> {
  try {
    await convert(content, provider, maxRequests)
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError)
    return err as GatewayError
  }
  throw new Error('expected the conversion to fail')
}

describe('convertBatchFile', () => {
  test("openai keeps the caller's bytes exactly (CRLF, blank lines, no final newline), less a BOM it remembers", async () => {
    const a = chat('a', 'héllo 😀 "q"')
    const b = '{"custom_id":"b",  "method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}'
    const out = await convert(`\uFEFF${a}\r\n\n${b}`, 'openai')
    expect(out.text).toBe(`${a}\r\n\n${b}`)
    expect(out.bytes).toBe(Buffer.byteLength(out.text))
    expect(out.facts).toEqual({ format: 'openai-batch', lines: 2, endpoint: '/v1/chat/completions', model: undefined, bom: true })
  })

  test('lines spanning read chunks come through whole, over a longer file already at the out path', async () => {
    // ~3 MB: many 256 KiB reads, with lines of every length cut at every kind of place.
    const lines = Array.from({ length: 600 }, (_, i) => chat(`r${i}`, `${'wörd '.repeat(i * 2)}${i}`))
    const outPath = join(dir, 'reused-out.jsonl')
    await Bun.write(outPath, 'x'.repeat(8 * 1024 * 1024))
    const out = await convert(`${lines.join('\n')}\n`, 'openai', undefined, outPath)
    expect(out.text).toBe(`${lines.join('\n')}\n`)
    expect(out.facts.lines).toBe(600)
  })

  test('gemini gets one {key, request} line per request, and the shared model', async () => {
    const out = await convert(`${chat('a', 'one')}\n${chat('b', 'twö', { max_tokens: 5 })}\n`, 'gemini')
    expect(out.text.split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([
      { key: 'a', request: { contents: [{ role: 'user', parts: [{ text: 'one' }] }] } },
      { key: 'b', request: { contents: [{ role: 'user', parts: [{ text: 'twö' }] }], generationConfig: { maxOutputTokens: 5 } } },
    ])
    expect(out.facts).toEqual({ format: 'gemini-requests', lines: 2, endpoint: '/v1/chat/completions', model: 'gemini-2.0-flash' })
  })

  test('anthropic keeps the lines but still rejects one that cannot be converted', async () => {
    const err = await failure(`${chat('a', 'x', { max_tokens: 5 })}\n${chat('b', 'y', { max_tokens: 5, n: 3 })}\n`, 'anthropic')
    expect(err.details.line).toBe(2)
    expect(err.message).toContain('n')
  })

  const FAILURES: Array<{ name: string; content: string; maxRequests?: number; kind: GatewayError['kind']; message: string; line?: number }> = [
    { name: 'a line that is not JSON', content: `${chat('a', 'x')}\n\n{"custom_id":\n`, kind: 'invalid_request', message: 'line 3 is not valid JSON', line: 3 },
    { name: 'a repeated custom_id', content: `${chat('a', 'x')}\n${chat('b', 'y')}\n${chat('a', 'z')}\n`, kind: 'invalid_request', message: "line 3: custom_id 'a' repeats line 1", line: 3 },
    { name: 'more requests than the provider takes', content: `${chat('a', 'x')}\n${chat('b', 'y')}\n`, maxRequests: 1, kind: 'too_large', message: 'line 2: gemini takes at most 1 requests', line: 2 },
    { name: 'a second endpoint', content: `${chat('a', 'x')}\n{"custom_id":"b","method":"POST","url":"/v1/embeddings","body":{}}\n`, kind: 'invalid_request', message: 'a batch has one endpoint', line: 2 },
    { name: 'no requests at all', content: '\n \r\n', kind: 'invalid_request', message: 'no requests' },
  ]
  for (const row of FAILURES) {
    test(`rejects ${row.name}`, async () => {
      const err = await failure(row.content, 'gemini', row.maxRequests)
      expect(err.kind).toBe(row.kind)
      expect(err.message).toContain(row.message)
      expect(err.details.line).toBe(row.line)
    })
  }
})
