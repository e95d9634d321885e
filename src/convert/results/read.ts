// Readers for upstream result lines. A line that does not have the documented shape is the
// provider's (or a fake's) fault, not the caller's, so it becomes an `upstream` GatewayError with
// code `malformed_result_line` naming the format, the line and the path.

import type { ResultFormat } from '../../core/batch'
import type { ChatUsage } from '../../core/chat'
import { GatewayError } from '../../errors'
import { isObject, type JsonObject } from '../guards'

export class ResultReader {
  constructor(
    readonly format: ResultFormat,
    readonly line: number,
  ) {}

  malformed(path: string, problem: string): GatewayError {
    return new GatewayError('upstream', `${this.format} result line ${this.line}: ${path}: ${problem}`, {
      line: this.line,
      code: 'malformed_result_line',
    })
  }

  object(v: unknown, path: string): JsonObject {
    if (!isObject(v)) throw this.malformed(path, 'expected a JSON object')
    return v
  }

  list(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) throw this.malformed(path, 'expected an array')
    return v
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') throw this.malformed(path, 'expected a string')
    return v
  }

  optionalString(v: unknown, path: string): string | null {
    return v === undefined || v === null ? null : this.string(v, path)
  }

  /** Token counts: absent means the provider did not report them, which we record as 0. */
  count(v: unknown, path: string): number {
    if (v === undefined || v === null) return 0
    // Google's proto3 JSON may send int64 counters as strings.
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw this.malformed(path, 'expected a token count')
    return n
  }

  /** HTTP-like status codes; Bedrock and Google may send them as strings. */
  status(v: unknown, path: string): number {
    const n = typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599) throw this.malformed(path, 'expected an HTTP status code')
    return n
  }
}

/**
 * A neutral usage; cache and reasoning counts present only when non-zero (most lines have
 * neither). Built in place: object spreads per line showed in a results download's profile.
 */
export function usageOf(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): ChatUsage {
  const usage: ChatUsage = { inputTokens, outputTokens }
  if (cachedInputTokens > 0) usage.cachedInputTokens = cachedInputTokens
  if (reasoningTokens > 0) usage.reasoningTokens = reasoningTokens
  return usage
}

/**
 * Usage of the formats that report cache reads and writes beside an input count holding neither
 * (Anthropic, Bedrock Nova): the neutral input count includes both, as OpenAI's prompt_tokens
 * does, and the reads are also the cached part.
 */
export function usageWithCache(input: number, cacheRead: number, cacheWrite: number, output: number): ChatUsage {
  return usageOf(input + cacheRead + cacheWrite, output, cacheRead)
}

/**
 * What a result parser keeps in `ChatResult.raw` (succeeded results): the upstream line untouched
 * and its format, so a writer for the same wire format can pass it through without loss
 * (logprobs, annotations, cache usage… that the neutral reply has no room for).
 */
export interface RawResultLine {
  format: ResultFormat
  value: JsonObject
}

export function rawFrom(raw: unknown, format: ResultFormat): JsonObject | null {
  if (!isObject(raw) || raw.format !== format || !isObject(raw.value)) return null
  return raw.value
}
