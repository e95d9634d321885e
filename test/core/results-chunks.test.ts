// The results path works one upstream chunk at a time (core/results.ts): a chunk's lines are
// parsed and mapped synchronously and written as packed bytes. These tests pin that the output
// does not depend on where the upstream cut its chunks — a line split across chunks, a multi-byte
// UTF-8 character split across chunks, 1-byte chunks — and that a bad line still stops the stream
// naming its exact line, also when it arrives in the middle of a chunk.

import { describe, expect, test } from 'bun:test'
import type { ResultFormat, StoredBatch } from '../../src/core/batch'
import type { ChatResult } from '../../src/core/chat'
import { completeResults } from '../../src/core/result-completion'
import { chatResultBatches, chatResults, dialectResults, type ResultFilter } from '../../src/core/results'
import { iterateLineBatches } from '../../src/convert/lines'
import { resultLineParser, resultLineWriter } from '../../src/convert/pairs'
import type { Dialect } from '../../src/core/provider-name'
import type { GatewayError } from '../../src/errors'
import type { Provider } from '../../src/providers/provider'
import { cut } from '../streams'

const LIMITS = { maxLineBytes: 1 << 20 } as never

// Texts that make the UTF-8 interesting: 2-, 3- and 4-byte characters.
const TEXTS = ['plain ascii', 'Latin-1: café, naïve, ß', 'CJK 日本語のテキスト', 'emoji 🚀🙂 and “curly” quotes', 'mixed é日🙂 end']

const geminiOk = (i: number) =>
  JSON.stringify({
    key: `req-${i}`,
    response: {
      candidates: [{ content: { role: 'model', parts: [{ text: `${TEXTS[i % TEXTS.length]} #${i}` }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: i, candidatesTokenCount: 2 * i, totalTokenCount: 3 * i },
      modelVersion: 'gemini-2.0-flash',
    },
  })
const geminiError = (i: number) => JSON.stringify({ key: `req-${i}`, error: { code: 400, message: `bad request ${TEXTS[i % TEXTS.length]}`, status: 'INVALID_ARGUMENT' } })

/** n Gemini result lines, every fourth an error line, a blank line and a CRLF among them. */
function geminiLines(n: number): string[] {
  return Array.from({ length: n }, (_, k) => (k % 4 === 3 ? geminiError(k + 1) : geminiOk(k + 1)))
}

function joinLines(lines: string[]): Uint8Array {
  // Line 3 ends in CRLF, and a blank line follows line 5: both are counted, neither is a result.
  const text = lines.map((l, k) => (k === 2 ? `${l}\r\n` : k === 4 ? `${l}\n\n` : `${l}\n`)).join('')
  return new TextEncoder().encode(text)
}

function source(format: ResultFormat, stream: () => ReadableStream<Uint8Array>, status = 'completed'): { batch: StoredBatch; provider: Provider } {
  const batch = { id: 'batch_x', snapshot: { model: 'gemini-2.0-flash', status, resultRefs: [{ format, ref: 'r' }] } } as unknown as StoredBatch
  const provider = { name: 'gemini', openResults: async () => stream() } as unknown as Provider
  return { batch, provider }
}

/** What the old line-by-line path produced: each line parsed, mapped and stringified on its own. */
function lineByLine(format: ResultFormat, lines: string[], dialect: Dialect, filter: ResultFilter): string {
  const parse = resultLineParser(format, { model: 'gemini-2.0-flash' })
  const write = resultLineWriter(dialect)
  // Line numbers as the file has them (the blank line after line 5 is counted).
  const results = lines.map((l, k) => parse(JSON.parse(l), k < 5 ? k + 1 : k + 2))
  const kept = results.filter((r) => filter === 'all' || (filter === 'succeeded') === (r.type === 'succeeded'))
  return kept.map((r) => `${JSON.stringify(write(r))}\n`).join('')
}

async function download(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder('utf-8', { fatal: true }).decode(await new Response(stream).arrayBuffer())
}

describe('iterateLineBatches', () => {
  test('one large chunk comes as several newline-aligned slices, every line whole and numbered', async () => {
    const lines = Array.from({ length: 3000 }, (_, k) => JSON.stringify({ n: k + 1, pad: 'x'.repeat(k % 97), w: k % 5 === 0 ? '日本🙂' : 'é' }))
    // A line longer than a slice in the middle: it must not be cut either.
    lines[1500] = JSON.stringify({ n: 1501, pad: 'y'.repeat(40_000) })
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`)
    const batches: Array<Array<[number, string]>> = []
    for await (const values of iterateLineBatches(cut(bytes, bytes.length + 1), (text, line) => [line, text] as [number, string], { maxLineBytes: 1 << 20 })) {
      batches.push(values)
    }
    expect(batches.length).toBeGreaterThan(bytes.length / (64 * 1024))
    expect(batches.flat()).toEqual(lines.map((l, k) => [k + 1, l]))
  })
})

describe('results, one upstream chunk at a time', () => {
  const lines = geminiLines(40)
  const bytes = joinLines(lines)

  for (const [name, at] of [
    ['one chunk', bytes.length + 1],
    ['1-byte chunks (every line and every multi-byte character split)', 1],
    ['7-byte chunks', 7],
    ['4 KiB chunks', 4096],
  ] as const) {
    test(`${name}: the same bytes as line by line, for both dialects and every filter`, async () => {
      for (const dialect of ['openai', 'anthropic'] as const) {
        for (const filter of ['all', 'succeeded', 'failed'] as const) {
          const { batch, provider } = source('gemini-responses', () => cut(bytes, at))
          const got = await download(dialectResults(chatResultBatches(batch, provider, LIMITS), dialect, filter))
          expect(got).toBe(lineByLine('gemini-responses', lines, dialect, filter))
        }
      }
    })
  }

  test('a 4-byte character cut after each of its bytes decodes whole', async () => {
    const line = `${JSON.stringify({ key: 'req-r', response: { candidates: [{ content: { parts: [{ text: 'go 🚀 now' }] }, finishReason: 'STOP' }] } })}\n`
    const b = new TextEncoder().encode(line)
    const at = b.indexOf(0xf0)
    expect(at).toBeGreaterThan(0)
    for (const offsets of [[at + 1], [at + 2], [at + 3], [at + 1, at + 2, at + 3]]) {
      const { batch, provider } = source('gemini-responses', () => cut(b, offsets))
      const got = await download(dialectResults(chatResultBatches(batch, provider, LIMITS), 'openai', 'all'))
      expect(JSON.parse(got).response.body.choices[0].message.content).toBe('go 🚀 now')
    }
  })

  test('a bad line in the middle of a chunk stops the download naming its line', async () => {
    const bad = [...lines.slice(0, 20), '{"key": "req-21", "response": "not an object"}', ...lines.slice(21)]
    const all = joinLines(bad)
    for (const at of [all.length + 1, 1, 333]) {
      const { batch, provider } = source('gemini-responses', () => cut(all, at))
      // Line 21 of the list is file line 22: a blank line follows line 5.
      await expect(download(dialectResults(chatResultBatches(batch, provider, LIMITS), 'openai', 'all'))).rejects.toThrow(
        'gemini-responses result line 22: response: expected a JSON object',
      )
    }
  })

  test('a line that is not JSON, and bytes that are not UTF-8, name their lines across chunk cuts', async () => {
    const notJson = joinLines([...lines.slice(0, 9), '{"key": "req-10", "response": {', ...lines.slice(10)])
    const notUtf8 = new Uint8Array([...joinLines(lines.slice(0, 6)), ...new TextEncoder().encode('{"key": "x'), 0xc3, 0x28, ...new TextEncoder().encode('"}\n')])
    for (const at of [1, 5, 64 * 1024]) {
      const a = source('gemini-responses', () => cut(notJson, at))
      await expect(download(dialectResults(chatResultBatches(a.batch, a.provider, LIMITS), 'openai', 'all'))).rejects.toThrow(/^line 11 is not valid JSON/)
      const b = source('gemini-responses', () => cut(notUtf8, at))
      await expect(download(dialectResults(chatResultBatches(b.batch, b.provider, LIMITS), 'openai', 'all'))).rejects.toThrow('line 8 is not valid UTF-8')
    }
  })

  test('with onBadLine the bad lines are reported in order and the rest still comes, chunk by chunk', async () => {
    const bad = [...lines.slice(0, 3), 'nope', ...lines.slice(4, 30), '{"key": 1}', ...lines.slice(31)]
    const all = joinLines(bad)
    const { batch, provider } = source('gemini-responses', () => cut(all, 50))
    const errors: GatewayError[] = []
    const got: ChatResult[] = []
    for await (const r of chatResults(batch, provider, LIMITS, undefined, (e) => errors.push(e))) got.push(r)
    expect(errors.map((e) => e.details.line)).toEqual([4, 32])
    expect(got.map((r) => r.customId)).toEqual(lines.map((_, k) => `req-${k + 1}`).filter((_, k) => k !== 3 && k !== 30))
  })

  test('a cancelled batch gets its missing requests after the upstream lines, in the kept ids order', async () => {
    const upstream = lines.slice(0, 10)
    const ids = Array.from({ length: 14 }, (_, k) => `req-${k + 1}`)
    const { batch, provider } = source('gemini-responses', () => cut(new TextEncoder().encode(`${upstream.join('\n')}\n`), 100), 'cancelled')
    const openIds = async () => cut(new TextEncoder().encode(`${ids.map((id) => JSON.stringify(id)).join('\n')}\n`), 9)
    const text = await download(dialectResults(completeResults(chatResultBatches(batch, provider, LIMITS), batch, openIds, 1 << 20), 'openai', 'all'))
    const out = text.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(out.map((l) => l.custom_id)).toEqual(ids)
    expect(out.slice(10).map((l) => l.error.code)).toEqual(['batch_cancelled', 'batch_cancelled', 'batch_cancelled', 'batch_cancelled'])
  })

  test('a client that stops reading cancels the upstream body', async () => {
    let cancelled = false
    const many = joinLines(geminiLines(5000))
    let offset = 0
    const upstream = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= many.length) return controller.close()
          controller.enqueue(many.slice(offset, offset + 1000))
          offset += 1000
        },
        cancel() {
          cancelled = true
        },
      })
    const { batch, provider } = source('gemini-responses', upstream)
    const reader = dialectResults(chatResultBatches(batch, provider, LIMITS), 'openai', 'all').getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    await reader.cancel()
    expect(cancelled).toBe(true)
    expect(offset).toBeLessThan(many.length)
  })
})
