// Settled usage of one finished batch: per model, how many requests ended which way and the
// tokens they used. It is tallied from the batch's result lines, one line at a time; a line that
// cannot be read is counted as bad and the rest still count (LiteLLM zeroes a batch for one bad
// line), and requests with no line at all are counted as missing.

import type { ChatResult } from './chat'

export interface ModelUsage {
  model: string
  succeeded: number
  errored: number
  expired: number
  cancelled: number
  inputTokens: number
  /** Of inputTokens, read from a prompt cache. */
  cachedTokens: number
  outputTokens: number
  /** Of outputTokens, spent reasoning. */
  reasoningTokens: number
  /** null when the price table does not know the model (never 0 for "unknown"). */
  costUsd: number | null
}

export interface BatchUsage {
  models: ModelUsage[]
  /** Result lines that could not be read (each named in the log with its line number). */
  badLines: number
  /** Requests of the batch's total that had no result line at all. */
  missingLines: number
  /** Sum over models; null when any model with tokens has no price. */
  costUsd: number | null
  settledAt: number
}

export const emptyModelUsage = (model: string): ModelUsage => ({
  model,
  succeeded: 0,
  errored: 0,
  expired: 0,
  cancelled: 0,
  inputTokens: 0,
  cachedTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  costUsd: null,
})

export interface Tally {
  models: Map<string, ModelUsage>
  /** Results read (bad lines are counted by the reader, see core/results.ts). */
  lines: number
}

/**
 * Adds every item to a per-model tally. Requests that never ran name no model, so they go to
 * `batchModel` (the model the batch was created for), or 'unknown' when even that is missing.
 */
export async function tallyResults(items: AsyncIterable<ChatResult>, batchModel: string | null): Promise<Tally> {
  const tally: Tally = { models: new Map(), lines: 0 }
  const row = (model: string): ModelUsage => {
    let m = tally.models.get(model)
    if (!m) tally.models.set(model, (m = emptyModelUsage(model)))
    return m
  }
  const fallback = batchModel ?? 'unknown'
  for await (const item of items) {
    tally.lines++
    switch (item.type) {
      case 'succeeded': {
        const m = row(item.reply.model || fallback)
        const u = item.reply.usage
        m.succeeded++
        m.inputTokens += u.inputTokens
        m.cachedTokens += u.cachedInputTokens ?? 0
        m.outputTokens += u.outputTokens
        m.reasoningTokens += u.reasoningTokens ?? 0
        break
      }
      case 'errored':
        row(fallback).errored++
        break
      case 'expired':
        row(fallback).expired++
        break
      case 'canceled':
        row(fallback).cancelled++
        break
      default: {
        const never: never = item
        throw new Error(`unknown result ${JSON.stringify(never)}`)
      }
    }
  }
  return tally
}

/**
 * Per-outcome request counts read from the results at settlement. Once a batch is settled they
 * replace the upstream's own counts, which some providers fold together (OpenAI counts expired
 * and cancelled requests as failed). Unreadable and missing lines count as errored.
 */
export function settledOutcomes(usage: BatchUsage): { succeeded: number; errored: number; expired: number; canceled: number } {
  const sum = (k: 'succeeded' | 'errored' | 'expired' | 'cancelled') => usage.models.reduce((n, m) => n + m[k], 0)
  return {
    succeeded: sum('succeeded'),
    errored: sum('errored') + usage.badLines + usage.missingLines,
    expired: sum('expired'),
    canceled: sum('cancelled'),
  }
}

/** OpenAI Batch object `usage` (openai.md §4.5) from settled usage. */
export function openaiBatchUsage(usage: BatchUsage) {
  const sum = (k: 'inputTokens' | 'cachedTokens' | 'outputTokens' | 'reasoningTokens') =>
    usage.models.reduce((n, m) => n + m[k], 0)
  const input = sum('inputTokens')
  const output = sum('outputTokens')
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: sum('cachedTokens') },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: sum('reasoningTokens') },
    total_tokens: input + output,
  }
}
