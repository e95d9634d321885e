import { describe, expect, test } from 'bun:test'
import { iterateLines, LineSplitter, parseJsonLine, RequestLineCounter } from '../../src/convert/lines'
import { GatewayError } from '../../src/errors'

const encoder = new TextEncoder()

/** Runs `bytes` through a splitter cut into chunks at `cuts`; returns [text, line] pairs. */
function split(bytes: Uint8Array, cuts: number[], maxLineBytes = 1024): Array<[string, number]> {
  const lines: Array<[string, number]> = []
  const splitter = new LineSplitter((text, line) => lines.push([text, line]), { maxLineBytes })
  let start = 0
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(start, cut))
    start = cut
  }
  splitter.end()
  return lines
}

/** Every way to cut `bytes` in two, plus one chunk per byte: catches state lost between chunks. */
function everySplit(bytes: Uint8Array): number[][] {
  const cuts: number[][] = [[]]
  for (let i = 1; i < bytes.length; i++) cuts.push([i])
  cuts.push(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))
  return cuts
}

function expectError(run: () => unknown, kind: GatewayError['kind'], message: string, line: number): void {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError)
    const e = err as GatewayError
    expect(e.kind).toBe(kind)
    expect(e.message).toContain(message)
    expect(e.details.line).toBe(line)
    return
  }
  throw new Error('expected an error')
}

describe('LineSplitter', () => {
  const CASES: Array<{ name: string; input: string | Uint8Array; lines: Array<[string, number]> }> = [
    { name: 'LF endings', input: 'a\nbb\nccc\n', lines: [['a', 1], ['bb', 2], ['ccc', 3]] },
    { name: 'CRLF endings', input: 'a\r\nbb\r\n', lines: [['a', 1], ['bb', 2]] },
    { name: 'no final newline', input: 'a\nlast', lines: [['a', 1], ['last', 2]] },
    { name: 'blank and whitespace lines skipped but counted', input: '\na\n\r\n  \t\nb\n\n', lines: [['a', 2], ['b', 5]] },
    { name: 'leading BOM dropped', input: '\uFEFF{"a":1}\n{"b":2}', lines: [['{"a":1}', 1], ['{"b":2}', 2]] },
    { name: 'BOM alone on the first line', input: '\uFEFF\nx\n', lines: [['x', 2]] },
    { name: 'a BOM after the start is kept', input: 'x\n\uFEFFy\n', lines: [['x', 1], ['\uFEFFy', 2]] },
    { name: 'multi-byte characters split anywhere', input: 'é日本😀\n"ü"\n', lines: [['é日本😀', 1], ['"ü"', 2]] },
    { name: 'a lone CR is not a line end', input: 'a\rb\n', lines: [['a\rb', 1]] },
    { name: 'empty input', input: '', lines: [] },
  ]
  for (const row of CASES) {
    test(`${row.name}, however the bytes are chunked`, () => {
      const bytes = typeof row.input === 'string' ? encoder.encode(row.input) : row.input
      for (const cuts of everySplit(bytes)) expect(split(bytes, cuts)).toEqual(row.lines)
    })
  }

  test('counts lines, blank ones included', () => {
    const splitter = new LineSplitter(() => undefined, { maxLineBytes: 100 })
    splitter.push(encoder.encode('a\n\nb\nc'))
    splitter.end()
    expect(splitter.lines).toBe(4)
  })

  test('rejects invalid UTF-8 naming the line that holds it', () => {
    const bytes = new Uint8Array([...encoder.encode('ok\nfine\n'), 0x41, 0xff, 0x42, 0x0a, ...encoder.encode('x\n')])
    for (const cuts of everySplit(bytes)) expectError(() => split(bytes, cuts), 'invalid_request', 'line 3 is not valid UTF-8', 3)
  })

  test('rejects a truncated character at the end of the input', () => {
    const bytes = new Uint8Array([...encoder.encode('ok\n'), 0xe6, 0x97])
    expectError(() => split(bytes, []), 'invalid_request', 'line 2 is not valid UTF-8', 2)
  })

  test('accepts a line of exactly the limit in bytes, CRLF or not', () => {
    const line = 'é'.repeat(5) // 10 bytes
    expect(split(encoder.encode(`${line}\r\n${line}`), [], 10)).toEqual([[line, 1], [line, 2]])
    const bytes = encoder.encode(`${line}\r\n`)
    for (const cuts of everySplit(bytes)) expect(split(bytes, cuts, 10)).toEqual([[line, 1]])
  })

  test('rejects a line over the limit in UTF-8 bytes, not characters', () => {
    const bytes = encoder.encode(`ok\n${'é'.repeat(6)}\nok\n`) // line 2: 6 characters, 12 bytes
    for (const cuts of everySplit(bytes)) expectError(() => split(bytes, cuts, 10), 'too_large', 'line 2 is longer than the limit of 10 bytes', 2)
  })

  test('rejects an endless line before it ends, holding no more than the limit', () => {
    const splitter = new LineSplitter(() => undefined, { maxLineBytes: 64 })
    splitter.push(encoder.encode('{"a":1}\n'))
    const chunk = encoder.encode('x'.repeat(40))
    splitter.push(chunk)
    expectError(() => splitter.push(chunk), 'too_large', 'line 2 is longer than the limit of 64 bytes', 2)
  })

  test('hands each line its bytes, without CR, LF or BOM', () => {
    const seen: string[] = []
    const splitter = new LineSplitter((_text, _line, bytes) => seen.push(Buffer.from(bytes).toString('hex')), { maxLineBytes: 100 })
    splitter.push(encoder.encode('\uFEFFa\r\n'))
    splitter.push(encoder.encode('é'))
    splitter.end()
    expect(seen).toEqual(['61', 'c3a9'])
  })
})

describe('iterateLines', () => {
  const stream = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(encoder.encode(chunk))
        c.close()
      },
    })

  test('yields fn of every line in order, across chunks', async () => {
    const out: string[] = []
    for await (const v of iterateLines(stream('{"n":1}\n{"n"', ':2}\n\n{"n":3}'), (t, l) => `${l}:${t}`, { maxLineBytes: 100 })) out.push(v)
    expect(out).toEqual(['1:{"n":1}', '2:{"n":2}', '4:{"n":3}'])
  })

  test('cancels the source when the consumer stops early', async () => {
    let cancelled = false
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(encoder.encode('a\nb\n'))
      },
      cancel() {
        cancelled = true
      },
    })
    for await (const v of iterateLines(source, (t) => t, { maxLineBytes: 100 })) if (v === 'b') break
    expect(cancelled).toBe(true)
  })
})

describe('parseJsonLine', () => {
  test('parses a line', () => expect(parseJsonLine('{"a":[1]}', 1)).toEqual({ a: [1] }))
  test('names the line of a syntax error', () => expectError(() => parseJsonLine('{"a":', 7), 'invalid_request', 'line 7 is not valid JSON', 7))
})

describe('RequestLineCounter', () => {
  const enc = new TextEncoder()
  test('counts lines with content, blank and whitespace-only ones skipped but numbered, across chunks', () => {
    const counter = new RequestLineCounter()
    const text = '{"a":1}\n\n  \r\n{"b"\n:2}\r\n\t\n{"c":3}'
    // Cut at every position: the count never depends on where chunks end.
    for (let cut = 0; cut <= text.length; cut++) {
      const c = new RequestLineCounter()
      c.push(enc.encode(text.slice(0, cut)))
      expect(c.push(enc.encode(text.slice(cut)))).toBe(5 - 1)
      expect(c.lastLine).toBe(7)
    }
    expect(counter.push(enc.encode(text))).toBe(4)
  })

  test('stops at the first line past the limit and names it', () => {
    const counter = new RequestLineCounter()
    expect(counter.push(enc.encode('{}\n\n{}\n{}\n{}\n'), 2)).toBe(3)
    expect(counter.lastLine).toBe(4)
  })
})
