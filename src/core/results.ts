// Reads a finished batch's upstream results as neutral ChatResults and writes them back in the
// caller's dialect, streaming: one upstream line in, one dialect line out, never the whole file.

import type { Limits } from '../config'
import { GatewayError } from '../errors'
import { iterateLines, LinePacker, parseJsonLine } from '../convert/lines'
import { resultLineParser, resultLineWriter } from '../convert/pairs'
import { iterableToStream } from '../providers/multipart-body'
import type { Provider } from '../providers/provider'
import { brokenOffAs } from '../providers/upstream-fetch'
import type { ResultRef, StoredBatch } from './batch'
import type { ChatResult } from './chat'
import type { Dialect } from './provider-name'

export type ResultFilter = 'all' | 'succeeded' | 'failed'

/**
 * Every result of the batch as neutral values, ref after ref. A line that cannot be read stops
 * the stream with its line number, unless `onBadLine` is given (settlement counts bad lines and
 * goes on, issue 15).
 */
export async function* chatResults(
  batch: StoredBatch,
  provider: Provider,
  limits: Limits,
  refs: ResultRef[] = batch.snapshot.resultRefs,
  onBadLine?: (err: GatewayError) => void,
): AsyncGenerator<ChatResult> {
  for (const ref of refs) {
    const parse = resultLineParser(ref.format, { model: batch.snapshot.model })
    const read = (text: string, line: number) => parse(parseJsonLine(text, line), line)
    const body = brokenOffAs(provider.name, await provider.openResults(ref))
    const opts = { maxLineBytes: limits.maxLineBytes }
    if (!onBadLine) {
      yield* iterateLines(body, read, opts)
      continue
    }
    const lines = iterateLines(body, (text, line) => {
      try {
        return read(text, line)
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err
        onBadLine(err)
        return null
      }
    }, opts)
    for await (const result of lines) if (result) yield result
  }
}

const keep = (filter: ResultFilter, r: ChatResult): boolean =>
  filter === 'all' || (filter === 'succeeded') === (r.type === 'succeeded')

/** The batch's results as JSONL in `dialect`, keeping only what `filter` selects. */
export function dialectResults(
  results: AsyncIterable<ChatResult>,
  dialect: Dialect,
  filter: ResultFilter,
): ReadableStream<Uint8Array> {
  const write = resultLineWriter(dialect)
  async function* chunks(): AsyncGenerator<Uint8Array> {
    // ~64 KB chunks: fewer, larger writes without holding more than one chunk.
    const packer = new LinePacker()
    for await (const result of results) {
      if (keep(filter, result)) yield* packer.push(JSON.stringify(write(result)))
    }
    const last = packer.end()
    if (last) yield last
  }
  return iterableToStream(chunks())
}
