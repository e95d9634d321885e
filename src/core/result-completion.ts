// Every request gets a result line. Gemini and Bedrock end a cancelled or expired batch without
// lines for the requests they never ran, while Anthropic's results() and OpenAI's error file
// account for each one; the custom_ids kept beside the input (the input's `ids` blob) fill the gap
// with `canceled` / `expired` results instead of silently losing those requests.

import { iterateLines } from '../convert/lines'
import type { StoredBatch } from './batch'
import type { ChatResult } from './chat'

export async function* completeResults(
  results: AsyncIterable<ChatResult>,
  batch: StoredBatch,
  openIds: (() => Promise<ReadableStream<Uint8Array> | null>) | null,
  maxLineBytes: number,
): AsyncGenerator<ChatResult> {
  const status = batch.snapshot.status
  const missing = status === 'cancelled' ? 'canceled' : status === 'expired' ? 'expired' : null
  if (!missing || !openIds) {
    yield* results
    return
  }
  // Bounded by the batch's own size; only cancelled or expired batches pay for it.
  const seen = new Set<string>()
  for await (const result of results) {
    seen.add(result.customId)
    yield result
  }
  // Opened only now: a bucket connection is not held open while the results stream.
  const idsStream = await openIds()
  if (!idsStream) return
  const ids = iterateLines(idsStream, (text) => JSON.parse(text) as string, { maxLineBytes })
  for await (const customId of ids) {
    if (!seen.has(customId)) yield { customId, type: missing }
  }
}
