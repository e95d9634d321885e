// The one streaming JSONL driver: bytes → numbered lines → fn → bytes, as a TransformStream so
// backpressure flows through from the sink to the source. Like openai-node's LineDecoder it
// decodes incrementally (a UTF-8 character split across chunks is kept), flushes a last line that
// has no newline, and bounds the buffered partial line so one endless line cannot eat memory.

import { GatewayError, invalid } from '../errors'

/** Turns one input line into one output line (without '\n'), or null to emit nothing. */
export type LineFn = (text: string, line: number) => string | null

export interface LineOptions {
  /** Longest accepted line in bytes (UTF-16 length is used as a cheap lower bound first). */
  maxLineBytes: number
}

const BOM = '\uFEFF'

/**
 * Splits UTF-8 bytes into numbered lines: CRLF or LF endings, a leading BOM dropped, blank lines
 * skipped (but counted, so numbers match what an editor shows), the last line flushed by end().
 */
export class LineSplitter {
  // fatal: bytes that are not UTF-8 are the caller's error, not something to replace silently.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private pending = ''
  private lineNo = 0
  private first = true

  constructor(
    private readonly onLine: (text: string, line: number) => void,
    private readonly opts: LineOptions,
  ) {}

  /** Lines seen so far, blank ones included. */
  get lines(): number {
    return this.lineNo
  }

  push(chunk: Uint8Array): void {
    this.split(this.pending + this.decode(chunk), false)
  }

  end(): void {
    this.split(this.pending + this.decode(), true)
  }

  private decode(chunk?: Uint8Array): string {
    try {
      return chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode()
    } catch {
      const line = this.lineNo + 1
      throw invalid(`line ${line} is not valid UTF-8`, { line, code: 'invalid_encoding' })
    }
  }

  private split(text: string, final: boolean): void {
    if (this.first && text.length > 0) {
      this.first = false
      if (text.startsWith(BOM)) text = text.slice(1)
    }
    let start = 0
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      this.handle(text.slice(start, nl))
      start = nl + 1
    }
    this.pending = text.slice(start)
    if (final) {
      if (this.pending.length > 0) this.handle(this.pending)
      this.pending = ''
    } else if (this.pending.length > this.opts.maxLineBytes) {
      throw lineTooLong(this.lineNo + 1, this.opts.maxLineBytes)
    }
  }

  private handle(raw: string): void {
    this.lineNo++
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    checkLength(text, this.lineNo, this.opts.maxLineBytes)
    if (text.trim() === '') return
    this.onLine(text, this.lineNo)
  }
}

export function mapLines(fn: LineFn, opts: LineOptions): TransformStream<Uint8Array, Uint8Array> {
  const encoder = new TextEncoder()
  let out: string[] = []
  const splitter = new LineSplitter((text, line) => {
    const result = fn(text, line)
    if (result !== null) out.push(result)
  }, opts)
  const drain = (controller: TransformStreamDefaultController<Uint8Array>): void => {
    if (out.length > 0) controller.enqueue(encoder.encode(`${out.join('\n')}\n`))
    out = []
  }
  return new TransformStream<Uint8Array, Uint8Array>(
    {
      transform(chunk, controller) {
        splitter.push(chunk)
        drain(controller)
      },
      flush(controller) {
        splitter.end()
        drain(controller)
      },
    },
    // Small queues on both sides: memory stays flat however large the file is.
    { highWaterMark: 4 },
    { highWaterMark: 4 },
  )
}

function checkLength(text: string, line: number, max: number): void {
  // UTF-16 length ≤ UTF-8 byte length, so only lines near the limit need the exact count.
  if (text.length * 3 <= max) return
  if (text.length > max || Buffer.byteLength(text) > max) throw lineTooLong(line, max)
}

function lineTooLong(line: number, max: number): GatewayError {
  return new GatewayError('too_large', `line ${line} is longer than the limit of ${max} bytes`, {
    line,
    code: 'line_too_long',
  })
}

/** Parses one JSONL line, turning a syntax error into an error that names the line. */
export function parseJsonLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const why = err instanceof Error ? err.message : 'syntax error'
    throw invalid(`line ${line} is not valid JSON: ${why}`, { line, code: 'invalid_json_line' })
  }
}

/** Iterates the lines of a byte stream through `fn`, one source chunk at a time. */
export async function* iterateLines<T>(
  source: ReadableStream<Uint8Array>,
  fn: (text: string, line: number) => T,
  opts: LineOptions,
): AsyncGenerator<T> {
  let values: T[] = []
  const splitter = new LineSplitter((text, line) => values.push(fn(text, line)), opts)
  const reader = source.getReader()
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) splitter.end()
      else splitter.push(value)
      const ready = values
      values = []
      yield* ready
      if (done) {
        finished = true
        return
      }
    }
  } finally {
    // A consumer that stops early (or a bad line) must not leave the upstream body half-read.
    if (!finished) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
}
