// convert/whole-lines.ts: complete lines of a byte stream, one decode per chunk. Lines must come
// out the same wherever the chunks are cut, a character split between two chunks included.

import { describe, expect, test } from 'bun:test'
import { wholeLines } from '../../src/convert/whole-lines'

function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]
  const pieces = points.slice(1).map((end, k) => bytes.slice(points[k], end))
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift()
      if (next) controller.enqueue(next)
      else controller.close()
    },
  })
}

async function collect(bytes: Uint8Array, cuts: number[], lastLine: boolean, maxLineBytes = 1 << 20) {
  const lines: string[] = []
  let end = 0
  for await (const chunk of wholeLines(streamOf(bytes, cuts), { maxLineBytes, lastLine })) {
    lines.push(...chunk.lines)
    end = chunk.end
  }
  return { lines, end }
}

describe('whole lines', () => {
  const text = 'première ligne\n日本語 🙂\n\nlast without newline'
  const bytes = new TextEncoder().encode(text)

  test('the same lines at any cut, a multi-byte character split across chunks included', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = await collect(bytes, [cut, cut + 3], true)
      expect(got.lines).toEqual(['première ligne', '日本語 🙂', '', 'last without newline'])
      expect(got.end).toBe(bytes.length)
    }
  })

  test('without lastLine an unterminated last line stays out, and end stops after the last newline', async () => {
    const got = await collect(bytes, [5, 17], false)
    expect(got.lines).toEqual(['première ligne', '日本語 🙂', ''])
    expect(got.end).toBe(new TextEncoder().encode('première ligne\n日本語 🙂\n\n').length)
  })

  test('a line longer than the limit is an error', async () => {
    const long = new TextEncoder().encode(`${'x'.repeat(100)}\nok\n`)
    expect(collect(long, [10, 20, 30, 40, 50, 60, 70, 80, 90], true, 50)).rejects.toThrow('longer than 50 bytes')
  })
})
