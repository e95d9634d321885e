// One line of an OpenAI batch output or error file (openai.md §5) → ChatResult.
// 2xx → succeeded; other statuses → errored with the envelope's message; `response: null` lines
// are expiry (`batch_expired`), cancellation (`batch_cancelled`) or another failure.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import type { JsonObject } from '../guards'
import { parseJsonBounded } from '../json-depth'
import { errorTypeFromStatus } from './error-types'
import { type RawResultLine, ResultReader, usageOf } from './read'

export function openaiOutputLineToResult(value: unknown, line: number): ChatResult {
  const r = new ResultReader('openai-output', line)
  const o = r.object(value, '(line)')
  const customId = r.string(o.custom_id, 'custom_id')
  if (o.response === null || o.response === undefined) {
    const error = r.object(o.error, 'error')
    const code = r.string(error.code, 'error.code')
    if (code === 'batch_expired') return { customId, type: 'expired' }
    if (code === 'batch_cancelled') return { customId, type: 'canceled' }
    // No HTTP answer at all: the request failed inside OpenAI's batch machinery.
    const message = r.optionalString(error.message, 'error.message') ?? code
    return { customId, type: 'errored', error: { type: 'server_error', message, status: 500, code }, requestId: null }
  }
  const response = r.object(o.response, 'response')
  const status = r.status(response.status_code, 'response.status_code')
  const requestId = r.optionalString(response.request_id, 'response.request_id')
  const body = r.object(response.body, 'response.body')
  if (status >= 200 && status < 300) {
    const raw: RawResultLine = { format: 'openai-output', value: o }
    return { customId, type: 'succeeded', reply: chatCompletionToReply(r, body), requestId, raw }
  }
  const envelope = r.object(body.error, 'response.body.error')
  return {
    customId,
    type: 'errored',
    error: {
      type: errorTypeFromStatus(status),
      message: r.string(envelope.message, 'response.body.error.message'),
      status,
      code: r.optionalString(envelope.code, 'response.body.error.code'),
    },
    requestId,
  }
}

export function chatCompletionToReply(r: ResultReader, body: JsonObject): ChatReply {
  const choices = r.list(body.choices, 'response.body.choices')
  if (choices.length !== 1) throw r.malformed('response.body.choices', `expected exactly one choice (n = 1), got ${choices.length}`)
  const choice = r.object(choices[0], 'response.body.choices.0')
  const message = r.object(choice.message, 'response.body.choices.0.message')
  const content: ChatReply['content'] = []
  const text = r.optionalString(message.content, 'message.content')
  if (text !== null && text !== '') content.push({ type: 'text', text })
  // A refusal replaces the content; it is still what the model said, so it stays as text.
  const refusal = r.optionalString(message.refusal, 'message.refusal')
  if (refusal !== null) content.push({ type: 'text', text: refusal })
  const calls = message.tool_calls === undefined || message.tool_calls === null ? [] : r.list(message.tool_calls, 'message.tool_calls')
  calls.forEach((raw, i) => {
    const call = r.object(raw, `message.tool_calls.${i}`)
    const fn = r.object(call.function, `message.tool_calls.${i}.function`)
    const args = r.string(fn.arguments, `message.tool_calls.${i}.function.arguments`)
    content.push({ type: 'tool_use', id: r.string(call.id, `message.tool_calls.${i}.id`), name: r.string(fn.name, `message.tool_calls.${i}.function.name`), input: parseArguments(args) })
  })
  const usage = body.usage === undefined || body.usage === null ? {} : r.object(body.usage, 'response.body.usage')
  return {
    id: r.string(body.id, 'response.body.id'),
    model: r.string(body.model, 'response.body.model'),
    content,
    stopReason: refusal !== null ? 'refusal' : stopReason(r.optionalString(choice.finish_reason, 'finish_reason')),
    // OpenAI does not say which stop sequence matched.
    stopSequence: null,
    usage: usageOf(
      r.count(usage.prompt_tokens, 'usage.prompt_tokens'),
      r.count(usage.completion_tokens, 'usage.completion_tokens'),
      r.count(detail(r, usage.prompt_tokens_details, 'prompt_tokens_details').cached_tokens, 'usage.prompt_tokens_details.cached_tokens'),
      r.count(detail(r, usage.completion_tokens_details, 'completion_tokens_details').reasoning_tokens, 'usage.completion_tokens_details.reasoning_tokens'),
    ),
    createdAt: typeof body.created === 'number' ? body.created : null,
  }
}

const notJsonArgs = (): Error => new SyntaxError('nested too deep')

const detail = (r: ResultReader, v: unknown, path: string): JsonObject =>
  v === undefined || v === null ? {} : r.object(v, `response.body.usage.${path}`)

/** Models sometimes emit invalid JSON arguments (or nest them past the limit); keep the text rather than lose or invent input. */
function parseArguments(args: string): unknown {
  try {
    return parseJsonBounded(args, notJsonArgs)
  } catch {
    return args
  }
}

function stopReason(finish: string | null): StopReason {
  switch (finish) {
    case 'stop':
      return 'end_turn'
    case 'length':
      return 'max_tokens'
    case 'tool_calls':
    case 'function_call':
      return 'tool_use'
    case 'content_filter':
      return 'refusal'
    default:
      return 'other'
  }
}
