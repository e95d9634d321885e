// ChatResult → one line of Anthropic Message Batch results (anthropic.md §3.8), as the Anthropic
// dialect hands results to its clients.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import type { JsonObject } from '../guards'
import { type AnthropicErrorType, toAnthropicErrorType } from './error-types'
import { rawFrom } from './read'

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal'

export interface AnthropicMessageOut {
  id: string
  type: 'message'
  role: 'assistant'
  model: string
  content: Array<{ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown }>
  stop_reason: AnthropicStopReason
  stop_sequence: string | null
  usage: { input_tokens: number; output_tokens: number }
}

export type AnthropicBatchResult =
  | { type: 'succeeded'; message: AnthropicMessageOut }
  | { type: 'errored'; error: { type: 'error'; error: { type: AnthropicErrorType; message: string }; request_id: string | null } }
  | { type: 'canceled' }
  | { type: 'expired' }

export interface AnthropicResultLine {
  custom_id: string
  result: AnthropicBatchResult
}

/** Lines that came from Anthropic go back untouched (`JsonObject`), keeping fields the hub drops. */
export function resultToAnthropicLine(result: ChatResult): AnthropicResultLine | JsonObject {
  switch (result.type) {
    case 'succeeded':
      return rawFrom(result.raw, 'anthropic-results') ?? { custom_id: result.customId, result: { type: 'succeeded', message: replyToMessage(result.reply) } }
    case 'errored':
      return {
        custom_id: result.customId,
        result: {
          type: 'errored',
          error: {
            type: 'error',
            error: { type: toAnthropicErrorType(result.error.type), message: result.error.message },
            request_id: result.requestId,
          },
        },
      }
    case 'canceled':
    case 'expired':
      return { custom_id: result.customId, result: { type: result.type } }
    default:
      return result satisfies never
  }
}

function replyToMessage(reply: ChatReply): AnthropicMessageOut {
  return {
    // Anthropic SDK users expect msg_ ids; an upstream one (Bedrock's msg_bdrk_…) is kept as is.
    id: reply.id.startsWith('msg_') ? reply.id : `msg_${reply.id}`,
    type: 'message',
    role: 'assistant',
    model: reply.model,
    content: reply.content.map((p) =>
      p.type === 'text' ? { type: 'text', text: p.text } : { type: 'tool_use', id: p.id, name: p.name, input: p.input },
    ),
    stop_reason: stopReason(reply.stopReason),
    stop_sequence: reply.stopSequence,
    usage: { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens },
  }
}

export function stopReason(reason: StopReason): AnthropicStopReason {
  switch (reason) {
    case 'end_turn':
    case 'max_tokens':
    case 'stop_sequence':
    case 'tool_use':
    case 'refusal':
      return reason
    // Anthropic has no "other"; the reply ended without being cut short, so end_turn reads right.
    case 'other':
      return 'end_turn'
    default:
      return reason satisfies never
  }
}
