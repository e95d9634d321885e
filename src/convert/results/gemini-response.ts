// One line of a Gemini batch responses file (gemini.md §3.8) → ChatResult:
// `{key, response: GenerateContentResponse}` or `{key, error: google.rpc.Status}`.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import type { JsonObject } from '../guards'
import { encodeRecordId } from '../custom-ids'
import { errorTypeFromStatus } from './error-types'
import { type RawResultLine, ResultReader, usageOf } from './read'

/** `model` is the batch's model, used when the response has no `modelVersion`. */
export function geminiResponseLineToResult(value: unknown, line: number, model: string): ChatResult {
  const r = new ResultReader('gemini-responses', line)
  const o = r.object(value, '(line)')
  const customId = r.string(o.key, 'key')
  if (o.error !== undefined && o.error !== null) {
    const error = r.object(o.error, 'error')
    // The error-line shape is not pinned down upstream: tolerate a missing code or status.
    const status = error.code === undefined ? 500 : r.status(error.code, 'error.code')
    return {
      customId,
      type: 'errored',
      error: {
        type: errorTypeFromStatus(status),
        message: r.optionalString(error.message, 'error.message') ?? 'Gemini reported an error without a message',
        status,
        code: r.optionalString(error.status, 'error.status'),
      },
      requestId: null,
    }
  }
  const response = r.object(o.response, 'response')
  const raw: RawResultLine = { format: 'gemini-responses', value: o }
  return { customId, type: 'succeeded', reply: geminiReply(r, response, customId, model), requestId: null, raw }
}

export function geminiReply(r: ResultReader, response: JsonObject, customId: string, model: string): ChatReply {
  const candidates = response.candidates === undefined ? [] : r.list(response.candidates, 'response.candidates')
  const usage = response.usageMetadata === undefined ? {} : r.object(response.usageMetadata, 'response.usageMetadata')
  const reply: ChatReply = {
    // Gemini batch lines may lack responseId; derive a stable id from the key instead.
    id: r.optionalString(response.responseId, 'response.responseId') ?? `gemini_${encodeRecordId(customId)}`,
    model: r.optionalString(response.modelVersion, 'response.modelVersion') ?? model,
    content: [],
    // No candidate means the prompt itself was blocked (promptFeedback.blockReason).
    stopReason: 'refusal',
    stopSequence: null,
    usage: usageOf(
      r.count(usage.promptTokenCount, 'usageMetadata.promptTokenCount'),
      // Thinking tokens are billed as output.
      r.count(usage.candidatesTokenCount, 'usageMetadata.candidatesTokenCount') + r.count(usage.thoughtsTokenCount, 'usageMetadata.thoughtsTokenCount'),
      r.count(usage.cachedContentTokenCount, 'usageMetadata.cachedContentTokenCount'),
      r.count(usage.thoughtsTokenCount, 'usageMetadata.thoughtsTokenCount'),
    ),
    // Vertex replies carry createTime (RFC 3339); AI Studio batch lines do not.
    createdAt: createdAtOf(r.optionalString(response.createTime, 'response.createTime')),
  }
  const candidate = candidates[0]
  if (candidate === undefined) return reply
  const c = r.object(candidate, 'response.candidates.0')
  const content = c.content === undefined ? {} : r.object(c.content, 'response.candidates.0.content')
  const parts = content.parts === undefined ? [] : r.list(content.parts, 'response.candidates.0.content.parts')
  let hasCalls = false
  // A plain loop: this runs for every result line, and forEach with a closure was the largest item
  // of the conversion's profile (docs/benchmark.md).
  for (let i = 0; i < parts.length; i++) {
    const part = r.object(parts[i], partPath(i))
    if (part.thought === true) continue // thought summaries are never requested; not part of the answer
    if (typeof part.text === 'string') {
      reply.content.push({ type: 'text', text: part.text })
      continue
    }
    if (part.functionCall !== undefined) {
      const path = `${partPath(i)}.functionCall`
      const call = r.object(part.functionCall, path)
      const id = r.optionalString(call.id, `${path}.id`) ?? `call_${i}`
      reply.content.push({ type: 'tool_use', id, name: r.string(call.name, `${path}.name`), input: call.args ?? {} })
      hasCalls = true
      continue
    }
    throw r.malformed(partPath(i), `part with keys ${Object.keys(part).join(', ')} cannot be converted`)
  }
  reply.stopReason = geminiStopReason(r.optionalString(c.finishReason, 'finishReason'), hasCalls)
  return reply
}

const partPath = (i: number): string => `response.candidates.0.content.parts.${i}`

/** Gemini reports STOP both for a natural end and for a stop sequence, and for function calls. */
export function geminiStopReason(finish: string | null, hasCalls: boolean): StopReason {
  switch (finish) {
    case 'STOP':
      return hasCalls ? 'tool_use' : 'end_turn'
    case 'MAX_TOKENS':
      return 'max_tokens'
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
      return 'refusal'
    default:
      // LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, unset…
      return 'other'
  }
}

function createdAtOf(value: string | null): number | null {
  const ms = value === null ? Number.NaN : Date.parse(value)
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000)
}
