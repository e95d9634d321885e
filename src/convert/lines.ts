// The one JSONL line driver: bytes → numbered lines → a callback. Like openai-node's LineDecoder it
// keeps a line split across chunks, flushes a last line that has no newline, and bounds the
// buffered partial line so one endless line cannot eat memory.
//
// Lines are cut in the bytes, not in decoded text: 0x0A never occurs inside a multi-byte UTF-8
// character, so each line decodes on its own. That keeps no chunk-sized strings alive (a 512 KB
// disk chunk decodes to a 1 MB UTF-16 string that every line sliced from it would pin), names the
// exact line of a bad byte, measures line limits in real bytes, and hands callers the line's raw
// bytes so a line kept unchanged can be written out without encoding it again.
// Measured on 256 MiB of batch lines: a bare parse + stringify loop ran ~12 % faster this way
// than decoding whole chunks (bench/baseline.ts, docs/benchmark.md).

import { GatewayError, invalid } from '../errors'
import { depthLimitText, parseJsonBounded } from './json-depth'

export interface LineOptions {
  /** Longest accepted line in UTF-8 bytes, line ending excluded. */
  maxLineBytes: number
  /**
   * Number of the first line, for bytes that start inside a file (a slice converted on its own);
   * a BOM is only dropped from a file's real first line. Default 1.
   */
  firstLine?: number
}

/**
 * Called for each non-blank line. `bytes` is the line without BOM, CR or LF; it is a view into
 * the current chunk, valid only during the call.
 */
export type OnLine = (text: string, line: number, bytes: Uint8Array) => void

const LF = 0x0a
const CR = 0x0d
const BOM = [0xef, 0xbb, 0xbf] as const

/**
 * Splits UTF-8 bytes into numbered lines: CRLF or LF endings, a leading BOM dropped, blank lines
 * skipped (but counted, so numbers match what an editor shows), the last line flushed by end().
 */
export class LineSplitter {
  // fatal: bytes that are not UTF-8 are the caller's error, not something to replace silently.
  // ignoreBOM: only the file's first line may lose a BOM (handle() does it); a decoder would
  // strip one from the start of every line it decodes.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  /** Pieces of the line that is still open at the end of the last chunk. */
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private lineNo: number

  constructor(
    private readonly onLine: OnLine,
    private readonly opts: LineOptions,
  ) {
    this.lineNo = (opts.firstLine ?? 1) - 1
  }

  /** Lines seen so far, blank ones included. */
  get lines(): number {
    return this.lineNo - ((this.opts.firstLine ?? 1) - 1)
  }

  push(chunk: Uint8Array): void {
    let start = 0
    let nl = chunk.indexOf(LF)
    if (nl !== -1 && this.pendingBytes > 0) {
      this.keep(chunk.subarray(0, nl))
      this.handle(this.takePending())
      start = nl + 1
      nl = chunk.indexOf(LF, start)
    }
    for (; nl !== -1; nl = chunk.indexOf(LF, start)) {
      this.handle(chunk.subarray(start, nl))
      start = nl + 1
    }
    // Copied: the caller may reuse the chunk's memory, and a view would keep all of it alive.
    // (Not chunk.slice(): on a Node Buffer that is a view too.)
    if (start < chunk.length) this.keep(new Uint8Array(chunk.subarray(start)))
  }

  end(): void {
    if (this.pendingBytes > 0) this.handle(this.takePending())
  }

  private keep(piece: Uint8Array): void {
    this.pending.push(piece)
    this.pendingBytes += piece.length
    // +1: the open line may end in the CR of a CRLF, which is not part of the line.
    if (this.pendingBytes > this.opts.maxLineBytes + 1) throw lineTooLong(this.lineNo + 1, this.opts.maxLineBytes)
  }

  private takePending(): Uint8Array {
    const line = this.pending.length === 1 ? (this.pending[0] as Uint8Array) : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    return line
  }

  private handle(raw: Uint8Array): void {
    const line = ++this.lineNo
    let bytes = raw[raw.length - 1] === CR ? raw.subarray(0, -1) : raw
    if (line === 1 && this.opts.firstLine === undefined && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2]) bytes = bytes.subarray(3)
    if (bytes.length > this.opts.maxLineBytes) throw lineTooLong(line, this.opts.maxLineBytes)
    let text: string
    try {
      text = this.decoder.decode(bytes)
    } catch {
      throw invalid(`line ${line} is not valid UTF-8`, { line, code: 'invalid_encoding' })
    }
    if (isBlank(text)) return
    this.onLine(text, line, bytes)
  }
}

/** trim() === '', without trimming the usual line, which starts with '{'. */
function isBlank(text: string): boolean {
  return text.charCodeAt(0) !== 0x7b && text.trim() === ''
}

function lineTooLong(line: number, max: number): GatewayError {
  return new GatewayError('too_large', `line ${line} is longer than the limit of ${max} bytes`, {
    line,
    code: 'line_too_long',
  })
}

/** Parses one JSONL line, turning a syntax error or deep nesting into an error that names the line. */
export function parseJsonLine(text: string, line: number): unknown {
  try {
    return parseJsonBounded(text, () => invalid(`line ${line} ${depthLimitText}`, { line, code: 'invalid_json' }))
  } catch (err) {
    if (err instanceof GatewayError) throw err
    const why = err instanceof Error ? err.message : 'syntax error'
    throw invalid(`line ${line} is not valid JSON: ${why}`, { line, code: 'invalid_json_line' })
  }
}

/** Iterates the lines of a byte stream through `fn`, one value at a time. */
export async function* iterateLines<T>(
  source: ReadableStream<Uint8Array>,
  fn: (text: string, line: number) => T,
  opts: LineOptions,
): AsyncGenerator<T> {
  for await (const values of iterateLineBatches(source, fn, opts)) yield* values
}

const SLICE_BYTES = 16 * 1024

/**
 * Iterates the lines of a byte stream through `fn`, one source chunk at a time: `fn` runs
 * synchronously for every line of a chunk and the chunk's values come out as one array (empty
 * when the chunk completed no line; a large chunk comes as several slices). Consumers that handle
 * a chunk's values in one go pay one promise turn per chunk instead of one per line per async
 * layer (the results path, issue 12).
 */
export async function* iterateLineBatches<T>(
  source: ReadableStream<Uint8Array>,
  fn: (text: string, line: number) => T,
  opts: LineOptions,
): AsyncGenerator<T[]> {
  let values: T[] = []
  const splitter = new LineSplitter((text, line) => values.push(fn(text, line)), opts)
  const reader = source.getReader()
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        splitter.end()
        yield values
        finished = true
        return
      }
      // Large source chunks (a file stream hands out 512 KiB) go in ~16 KiB slices cut after a
      // newline: the values of one slice are consumed before the next is made, so fewer of them
      // live long enough to be promoted by the collector. Measured on 200 000 Gemini result lines
      // (CPU time): ~25 % less than one array per 512 KiB chunk; 16 and 64 KiB within noise.
      for (let start = 0; start < value.length; ) {
        const cut = start + SLICE_BYTES >= value.length ? -1 : value.indexOf(LF, start + SLICE_BYTES)
        const end = cut === -1 ? value.length : cut + 1
        splitter.push(start === 0 && end === value.length ? value : value.subarray(start, end))
        start = end
        const ready = values
        values = []
        yield ready
      }
    }
  } finally {
    // A consumer that stops early (or a bad line) must not leave the upstream body half-read.
    if (!finished) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
}

/**
 * Counts request lines (lines with anything but whitespace, as LineSplitter keeps them) while the
 * bytes stream by, so a request-count cap can stop an upload before it is all spooled. Cheap:
 * a memchr per line and, for a line that starts with '{', one byte looked at.
 */
export class RequestLineCounter {
  requests = 0
  /** Number of the last line counted. */
  lastLine = 0
  private lineNo = 1
  private openCounted = false

  /**
   * Adds a chunk; returns the requests counted so far, the open line included. Stops counting
   * once past `stopAfter`, so `lastLine` is then the first line over it.
   */
  push(chunk: Uint8Array, stopAfter = Number.POSITIVE_INFINITY): number {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(LF, start)
      const end = nl === -1 ? chunk.length : nl
      if (!this.openCounted && hasContent(chunk, start, end)) {
        this.openCounted = true
        this.requests++
        this.lastLine = this.lineNo
        if (this.requests > stopAfter) return this.requests
      }
      if (nl === -1) return this.requests
      this.lineNo++
      this.openCounted = false
      start = nl + 1
    }
  }
}

function hasContent(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i]
    // Space, tab, CR, VT, FF: what String.prototype.trim() drops among single bytes.
    if (b !== 0x20 && b !== 0x09 && b !== CR && b !== 0x0b && b !== 0x0c) return true
  }
  return false
}

const NO_CHUNKS: readonly Uint8Array[] = Object.freeze([])

/**
 * The way back: output lines packed into byte chunks of about `chunkBytes`, each line encoded
 * once, straight into its chunk with TextEncoder.encodeInto. `buffer += line` followed by
 * encode() flattened and copied every chunk's string before encoding it. Measured on 128 MiB of
 * results: ~40 % less time encoding and a ~12 MiB lower peak; results throughput as a whole moved
 * by less than the machine's noise (docs/benchmark.md).
 */
export class LinePacker {
  private readonly encoder = new TextEncoder()
  private chunk: Uint8Array
  private used = 0

  constructor(private readonly chunkBytes = 64 * 1024) {
    this.chunk = new Uint8Array(chunkBytes)
  }

  /** Adds `line` and a '\n'; returns the chunks this completed (usually none). */
  push(line: string): readonly Uint8Array[] {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit: reserve that, so encodeInto never stops short.
    const worst = line.length * 3 + 1
    if (this.used + worst <= this.chunk.length) {
      this.append(line)
      return NO_CHUNKS
    }
    const done: Uint8Array[] = []
    if (this.used > 0) done.push(this.take())
    if (worst <= this.chunk.length) this.append(line)
    else done.push(this.encoder.encode(`${line}\n`)) // larger than a chunk: its own chunk
    return done
  }

  /** The last, partly filled chunk, or null. */
  end(): Uint8Array | null {
    return this.used > 0 ? this.take() : null
  }

  private append(line: string): void {
    this.used += this.encoder.encodeInto(line, this.chunk.subarray(this.used)).written
    this.chunk[this.used++] = LF
  }

  private take(): Uint8Array {
    const full = this.chunk.subarray(0, this.used)
    // A fresh buffer: the reader may still hold the chunk just handed out.
    this.chunk = new Uint8Array(this.chunkBytes)
    this.used = 0
    return full
  }
}
