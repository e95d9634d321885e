// Every request gets a result line. Gemini and Bedrock end a cancelled or expired batch without
// lines for the requests they never ran, while Anthropic's results() and OpenAI's error file
// account for each one; the custom_ids kept beside the input (the input's `ids` blob) fill the gap
// with `canceled` / `expired` results instead of silently losing those requests.

import { iterateLineBatches } from '../convert/lines'
import type { StoredBatch } from './batch'
import type { ChatResult } from './chat'

/** Works on the arrays chatResultBatches yields (one per upstream chunk) and yields arrays too. */
export async function* completeResults(
  results: AsyncIterable<ChatResult[]>,
  batch: StoredBatch,
  openIds: (() => Promise<ReadableStream<Uint8Array> | null>) | null,
  maxLineBytes: number,
): AsyncGenerator<ChatResult[]> {
  const status = batch.snapshot.status
  const missing = status === 'cancelled' ? 'canceled' : status === 'expired' ? 'expired' : null
  if (!missing || !openIds) {
    yield* results
    return
  }
  // Bounded by the batch's own size; only cancelled or expired batches pay for it.
  const seen = new Set<string>()
  for await (const batchResults of results) {
    for (const result of batchResults) seen.add(result.customId)
    yield batchResults
  }
  // Opened only now: a bucket connection is not held open while the results stream.
  const idsStream = await openIds()
  if (!idsStream) return
  const ids = iterateLineBatches(idsStream, (text) => JSON.parse(text) as string, { maxLineBytes })
  for await (const customIds of ids) {
    const gaps: ChatResult[] = []
    for (const customId of customIds) if (!seen.has(customId)) gaps.push({ customId, type: missing })
    yield gaps
  }
}
