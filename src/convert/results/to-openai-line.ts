// ChatResult → one line of an OpenAI batch output/error file (openai.md §5), as the OpenAI
// dialect hands results to its clients.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import type { JsonObject } from '../guards'
import { toOpenAIErrorType } from './error-types'
import { rawFrom } from './read'

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

export interface OpenAIChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: Array<{
    index: 0
    message: {
      role: 'assistant'
      content: string | null
      refusal: null
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>
    }
    logprobs: null
    finish_reason: OpenAIFinishReason
  }>
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: null; code: string | null }
}

export interface OpenAIOutputLine {
  id: string
  custom_id: string
  response: { status_code: number; request_id: string; body: OpenAIChatCompletion | OpenAIErrorBody } | null
  error: { code: 'batch_expired' | 'batch_cancelled'; message: string } | null
}

export interface OpenAILineIds {
  /** The line's own id (`batch_req_…`). */
  lineId: string
  /** Fallback `created` (unix seconds) for replies whose provider reports no creation time. */
  created?: number
}

/** Lines that came from OpenAI go back untouched (`JsonObject`), keeping fields the hub drops. */
export function resultToOpenAILine(result: ChatResult, ids: OpenAILineIds): OpenAIOutputLine | JsonObject {
  switch (result.type) {
    case 'succeeded': {
      const upstream = rawFrom(result.raw, 'openai-output')
      if (upstream !== null) return upstream
      const body = replyToChatCompletion(result.reply, ids.created ?? 0)
      return { id: ids.lineId, custom_id: result.customId, response: { status_code: 200, request_id: result.requestId ?? ids.lineId, body }, error: null }
    }
    case 'errored': {
      const { status, message, type, code } = result.error
      const body: OpenAIErrorBody = { error: { message, type: toOpenAIErrorType(type), param: null, code } }
      return { id: ids.lineId, custom_id: result.customId, response: { status_code: status, request_id: result.requestId ?? ids.lineId, body }, error: null }
    }
    case 'expired':
      return {
        id: ids.lineId,
        custom_id: result.customId,
        response: null,
        error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
      }
    case 'canceled':
      return {
        id: ids.lineId,
        custom_id: result.customId,
        response: null,
        error: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' },
      }
    default:
      return result satisfies never
  }
}

function replyToChatCompletion(reply: ChatReply, created: number): OpenAIChatCompletion {
  // Anthropic splits text into blocks (e.g. around citations); OpenAI has one string, so concatenate.
  // One loop, no arrays for the usual reply of one text block.
  let text: string | null = null
  let calls: NonNullable<OpenAIChatCompletion['choices'][number]['message']['tool_calls']> | null = null
  for (const p of reply.content) {
    if (p.type === 'text') text = text === null ? p.text : text + p.text
    else {
      const args = typeof p.input === 'string' ? p.input : JSON.stringify(p.input ?? {})
      ;(calls ??= []).push({ id: p.id, type: 'function', function: { name: p.name, arguments: args } })
    }
  }
  const content = text ?? (calls ? null : '')
  const message: OpenAIChatCompletion['choices'][number]['message'] = { role: 'assistant', content, refusal: null }
  if (calls) message.tool_calls = calls
  const { inputTokens, outputTokens } = reply.usage
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.createdAt ?? created,
    model: reply.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply.stopReason) }],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  }
}

export function finishReason(reason: StopReason): OpenAIFinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'other':
      return 'stop'
    case 'max_tokens':
      return 'length'
    case 'tool_use':
      return 'tool_calls'
    case 'refusal':
      return 'content_filter'
    default:
      return reason satisfies never
  }
}

/** A stable `batch_req_…` id from the custom_id (unique per batch), so re-downloads match. */
export function openaiLineId(customId: string): string {
  // Two FNV-style lanes over the id's UTF-8 bytes, in one loop. An ASCII id is its own bytes, so
  // it is hashed from its char codes without encoding it (a TextEncoder and a Uint8Array per line).
  let a = 0x811c9dc5
  let b = 0x9747b28c
  if (ASCII.test(customId)) {
    for (let i = 0; i < customId.length; i++) {
      const c = customId.charCodeAt(i)
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x01000197)
    }
  } else {
    for (const c of utf8.encode(customId)) {
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x01000197)
    }
  }
  return `batch_req_${hex8(a)}${hex8(b)}`
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
const ASCII = /^[\u0000-\u007f]*$/
const utf8 = new TextEncoder()
// Two hex digits per byte from a table: toString(16) + padStart per lane showed up at ~3 % of a
// results download's profile (200 000 lines, docs/benchmark.md).
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const hex8 = (h: number): string =>
  (HEX2[h >>> 24] as string) + (HEX2[(h >>> 16) & 255] as string) + (HEX2[(h >>> 8) & 255] as string) + (HEX2[h & 255] as string)
