// convert/whole-lines.ts: complete lines of a byte stream, one decode per chunk. Lines must come
// out the same wherever the chunks are cut, a character split between two chunks included.

import { describe, expect, test } from 'bun:test'
import { wholeLines } from '../../src/convert/whole-lines'
import { cut } from '../streams'

async function collect(bytes: Uint8Array, cuts: number[], lastLine: boolean, maxLineBytes = 1 << 20) {
  const lines: string[] = []
  let end = 0
  for await (const chunk of wholeLines(cut(bytes, cuts), { maxLineBytes, lastLine })) {
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

describe('whole lines, read ahead', () => {
  test('a caller that stops early cancels the stream; the read asked for ahead goes nowhere', async () => {
    let cancelled = false
    let pulls = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++
        controller.enqueue(new TextEncoder().encode(`line ${pulls}\n`))
      },
      cancel() {
        cancelled = true
      },
    })
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown) => unhandled.push(err)
    process.on('unhandledRejection', onUnhandled)
    try {
      for await (const { lines } of wholeLines(stream, { maxLineBytes: 100, lastLine: true })) {
        expect(lines).toEqual(['line 1'])
        break
      }
      await Bun.sleep(10)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    expect(cancelled).toBe(true)
    expect(unhandled).toEqual([])
  })

  test('the next chunk is asked for before the current one is handed out', async () => {
    const asked: number[] = []
    let n = 0
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          asked.push(++n)
          if (n > 3) controller.close()
          else controller.enqueue(new TextEncoder().encode(`c${n}\n`))
        },
      },
      { highWaterMark: 0 },
    )
    const seen: string[] = []
    for await (const { lines } of wholeLines(stream, { maxLineBytes: 100, lastLine: true })) {
      // While the caller holds chunk k, chunk k + 1 has been asked for already.
      seen.push(`${lines[0]} while ${asked.length} asked`)
    }
    expect(seen).toEqual(['c1 while 2 asked', 'c2 while 3 asked', 'c3 while 4 asked'])
  })
})
