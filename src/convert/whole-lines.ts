// The complete lines of a byte stream as strings, one decode per source chunk rather than one per
// line, the next chunk read while the current one is worked through: what the emulated runner
// reads its input with, and the result log its records with (the per-line decode of LineSplitter
// was the runner's largest cost after fetch and the log write; waiting for each file read with no
// read ahead left the runner's slots empty ~17 times per 50 000 requests).
// No validation: both read bytes the gateway wrote or checked whole before (LineSplitter,
// convert/lines.ts, is the reader for anything a client sent).

const NEWLINE = 10

export interface WholeLines {
  lines: string[]
  /** Bytes of the stream consumed so far: up to and including the last newline. */
  end: number
}

/**
 * The stream's lines, a source chunk at a time, each without its newline. A last line with no
 * newline after it comes at the end only when `lastLine` is set (the result log leaves it out: it
 * is a record still being written, or torn). A line longer than `maxLineBytes` is an error.
 */
export async function* wholeLines(stream: ReadableStream<Uint8Array>, opts: { maxLineBytes: number; lastLine: boolean }): AsyncGenerator<WholeLines> {
  const decoder = new TextDecoder()
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  let end = 0
  for await (const chunk of readAhead(stream)) {
    const cut = chunk.lastIndexOf(NEWLINE)
    if (cut < 0) {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes > opts.maxLineBytes) throw new Error(`a line is longer than ${opts.maxLineBytes} bytes`)
      continue
    }
    const head = pending.length === 0 ? chunk.subarray(0, cut) : Buffer.concat([...pending, chunk.subarray(0, cut)])
    end += head.length + 1
    pending = cut + 1 < chunk.length ? [chunk.subarray(cut + 1)] : []
    pendingBytes = chunk.length - cut - 1
    yield { lines: decoder.decode(head).split('\n'), end }
  }
  if (opts.lastLine && pendingBytes > 0) {
    const rest = Buffer.concat(pending)
    yield { lines: [decoder.decode(rest)], end: end + rest.length }
  }
}

/**
 * The stream's chunks, the next one always asked for before the current one is handed out: its
 * read (a file read on Bun's thread pool) runs while the caller works through the current one.
 */
async function* readAhead(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  let next: ReturnType<typeof reader.read> | null = reader.read()
  try {
    for (;;) {
      const { done, value } = await next
      if (done) {
        next = null
        return
      }
      next = reader.read()
      yield value
    }
  } finally {
    // Left early (the caller stopped, or threw): the read asked for ahead is not wanted.
    if (next) {
      next.catch(() => undefined)
      await reader.cancel().catch(() => undefined)
    }
    reader.releaseLock()
  }
}
