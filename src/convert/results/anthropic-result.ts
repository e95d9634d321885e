// One line of Anthropic Message Batch results (anthropic.md §3.8) → ChatResult, and the Messages
// reply reader shared with Bedrock's Claude output records.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import type { JsonObject } from '../guards'
import { fromAnthropicErrorType } from './error-types'
import { type RawResultLine, ResultReader, usageWithCache } from './read'

export function anthropicResultLineToResult(value: unknown, line: number): ChatResult {
  const r = new ResultReader('anthropic-results', line)
  const o = r.object(value, '(line)')
  const customId = r.string(o.custom_id, 'custom_id')
  const result = r.object(o.result, 'result')
  switch (result.type) {
    case 'succeeded': {
      const raw: RawResultLine = { format: 'anthropic-results', value: o }
      return { customId, type: 'succeeded', reply: anthropicMessageToReply(r, result.message, 'result.message'), requestId: null, raw }
    }
    case 'errored':
      return { customId, type: 'errored', ...erroredResult(r, r.object(result.error, 'result.error')) }
    case 'canceled':
      return { customId, type: 'canceled' }
    case 'expired':
      return { customId, type: 'expired' }
    default:
      throw r.malformed('result.type', `unknown result type '${String(result.type)}'`)
  }
}

/** `result.error` is a full error envelope `{type:'error', error:{type,message}, request_id}`. */
function erroredResult(r: ResultReader, envelope: JsonObject): Pick<Extract<ChatResult, { type: 'errored' }>, 'error' | 'requestId'> {
  // Older material shows the inner object directly; accept both nestings.
  const inner = envelope.type === 'error' ? r.object(envelope.error, 'result.error.error') : envelope
  const anthropicType = r.string(inner.type, 'result.error.error.type')
  const { type, status } = fromAnthropicErrorType(anthropicType)
  return {
    error: { type, status, message: r.string(inner.message, 'result.error.error.message'), code: anthropicType },
    requestId: r.optionalString(envelope.request_id, 'result.error.request_id'),
  }
}

/** A Messages API reply (`type: "message"`), as Anthropic and Bedrock's Claude return it. */
export function anthropicMessageToReply(r: ResultReader, value: unknown, path: string): ChatReply {
  const message = r.object(value, path)
  const content: ChatReply['content'] = r.list(message.content, `${path}.content`).map((raw, i) => {
    const block = r.object(raw, `${path}.content.${i}`)
    switch (block.type) {
      case 'text':
        return { type: 'text', text: r.string(block.text, `${path}.content.${i}.text`) }
      case 'tool_use':
        return {
          type: 'tool_use',
          id: r.string(block.id, `${path}.content.${i}.id`),
          name: r.string(block.name, `${path}.content.${i}.name`),
          input: block.input,
        }
      default:
        // Requests we convert never ask for thinking or server tools, so anything else is unexpected.
        throw r.malformed(`${path}.content.${i}.type`, `content block type '${String(block.type)}' cannot be converted`)
    }
  })
  const usage = message.usage === undefined ? {} : r.object(message.usage, `${path}.usage`)
  return {
    id: r.string(message.id, `${path}.id`),
    model: r.string(message.model, `${path}.model`),
    content,
    stopReason: anthropicStopReason(r.optionalString(message.stop_reason, `${path}.stop_reason`)),
    stopSequence: r.optionalString(message.stop_sequence, `${path}.stop_sequence`),
    // Anthropic's input_tokens leaves out cache reads and writes.
    usage: usageWithCache(
      r.count(usage.input_tokens, 'usage.input_tokens'),
      r.count(usage.cache_read_input_tokens, 'usage.cache_read_input_tokens'),
      r.count(usage.cache_creation_input_tokens, 'usage.cache_creation_input_tokens'),
      r.count(usage.output_tokens, 'usage.output_tokens'),
    ),
    createdAt: null,
  }
}

export function anthropicStopReason(reason: string | null): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'max_tokens':
    case 'stop_sequence':
    case 'tool_use':
    case 'refusal':
      return reason
    // The context window filled up: the reply was cut short, like max_tokens.
    case 'model_context_window_exceeded':
      return 'max_tokens'
    default:
      // pause_turn and anything newer.
      return 'other'
  }
}
