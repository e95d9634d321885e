// Reads a finished batch's upstream results as neutral ChatResults and writes them back in the
// caller's dialect, streaming, never the whole file. The work goes one upstream chunk at a time:
// each chunk's lines are parsed and mapped synchronously and come out as one array, and the
// writer turns a whole array into packed output bytes before it awaits again. One promise turn
// per chunk per layer, not one per line (issue 12: four async generators stepping line by line
// cost ~40 % of a 200 000-line download, docs/benchmark.md).

import type { Limits } from '../config'
import { GatewayError } from '../errors'
import { iterateLineBatches, LinePacker } from '../convert/lines'
import { resultLineReader, resultLineWriter, type WriterContext } from '../convert/pairs'
import type { Provider } from '../providers/provider'
import { brokenOffAs } from '../providers/upstream-fetch'
import type { ResultRef, StoredBatch } from './batch'
import type { ChatResult } from './chat'
import type { Dialect } from './provider-name'

export type ResultFilter = 'all' | 'succeeded' | 'failed'

/**
 * Every result of the batch as neutral values, ref after ref, one array per upstream chunk (an
 * array may be empty). A line that cannot be read stops the stream with its line number, unless
 * `onBadLine` is given (settlement counts bad lines and goes on, issue 15).
 */
export async function* chatResultBatches(
  batch: StoredBatch,
  provider: Provider,
  limits: Limits,
  refs: ResultRef[] = batch.snapshot.resultRefs,
  onBadLine?: (err: GatewayError) => void,
): AsyncGenerator<ChatResult[]> {
  for (const ref of refs) {
    const read = resultLineReader(ref.format, { model: batch.snapshot.model })
    const body = brokenOffAs(provider.name, await provider.openResults(ref))
    const opts = { maxLineBytes: limits.maxLineBytes }
    if (!onBadLine) {
      yield* iterateLineBatches(body, read, opts)
      continue
    }
    const lines = iterateLineBatches(body, (text, line) => {
      try {
        return read(text, line)
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err
        onBadLine(err)
        return null
      }
    }, opts)
    for await (const results of lines) yield results.filter((r): r is ChatResult => r !== null)
  }
}

/** chatResultBatches one result at a time (settlement's tally, tests). */
export async function* chatResults(...args: Parameters<typeof chatResultBatches>): AsyncGenerator<ChatResult> {
  for await (const results of chatResultBatches(...args)) yield* results
}

const keep = (filter: ResultFilter, r: ChatResult): boolean =>
  filter === 'all' || (filter === 'succeeded') === (r.type === 'succeeded')

/** The batch's results as JSONL in `dialect`, keeping only what `filter` selects. */
export function dialectResults(
  batches: AsyncIterable<ChatResult[]>,
  dialect: Dialect,
  filter: ResultFilter,
  ctx: WriterContext = {},
): ReadableStream<Uint8Array> {
  const write = resultLineWriter(dialect, ctx)
  const source = batches[Symbol.asyncIterator]()
  // ~64 KB chunks: fewer, larger writes without holding more than one chunk.
  const packer = new LinePacker()
  return new ReadableStream<Uint8Array>({
    // Pull-based, so the client's pace decides how fast the upstream is read.
    async pull(controller) {
      for (;;) {
        const next = await source.next()
        if (next.done) {
          const last = packer.end()
          if (last) controller.enqueue(last)
          controller.close()
          return
        }
        let enqueued = false
        for (const result of next.value) {
          if (!keep(filter, result)) continue
          const full = packer.push(JSON.stringify(write(result)))
          if (full.length === 0) continue
          for (const chunk of full) controller.enqueue(chunk)
          enqueued = true
        }
        if (enqueued) return
      }
    },
    async cancel() {
      await source.return?.(undefined)
    },
  })
}
