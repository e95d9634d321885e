// One line of a Mistral batch output or error file → ChatResult. Lines are
// `{id, custom_id, response: {status_code, body}, error}`: a 2xx body is a chat completion
// (OpenAI's shape, with content that may be a list of chunks and a `model_length` finish);
// anything else is an error whose message sits in the body (`message` or FastAPI's `detail`) or in
// the line's `error`.

import type { ChatResult } from '../../core/chat'
import { isObject, type JsonObject } from '../guards'
import { errorTypeFromStatus } from './error-types'
import { chatCompletionToReply } from './openai-output'
import { ResultReader } from './read'

export function mistralOutputLineToResult(value: unknown, line: number): ChatResult {
  const r = new ResultReader('mistral-output', line)
  const o = r.object(value, '(line)')
  const customId = r.string(o.custom_id, 'custom_id')
  const response = o.response === undefined || o.response === null ? null : r.object(o.response, 'response')
  const status = response ? r.status(response.status_code, 'response.status_code') : 500
  if (response && status >= 200 && status < 300) {
    const body = r.object(response.body, 'response.body')
    return { customId, type: 'succeeded', reply: chatCompletionToReply(r, asOpenAICompletion(r, body)), requestId: null }
  }
  // Lines the gateway writes for requests a cancel or the timeout cut off (providers/mistral).
  const cutOff = response ? null : codeOf(o.error)
  if (cutOff === 'batch_cancelled') return { customId, type: 'canceled' }
  if (cutOff === 'batch_expired') return { customId, type: 'expired' }
  const body = response?.body
  const message = messageOf(r, body, 'response.body') ?? messageOf(r, o.error, 'error') ?? `mistral answered ${status}`
  const code = codeOf(body) ?? codeOf(o.error)
  return { customId, type: 'errored', error: { type: errorTypeFromStatus(status), message, status, code }, requestId: null }
}

/** Mistral's completion in OpenAI's shape: text chunks joined (thinking chunks are not the answer). */
function asOpenAICompletion(r: ResultReader, body: JsonObject): JsonObject {
  const choices = r.list(body.choices, 'response.body.choices')
  return {
    ...body,
    choices: choices.map((raw, i) => {
      const choice = r.object(raw, `response.body.choices.${i}`)
      const message = r.object(choice.message, `response.body.choices.${i}.message`)
      const content = Array.isArray(message.content)
        ? message.content
            .map((chunk, j) => r.object(chunk, `message.content.${j}`))
            .filter((chunk) => chunk.type === 'text')
            .map((chunk, j) => r.string(chunk.text, `message.content.${j}.text`))
            .join('')
        : message.content
      // `model_length`: the model's context ran out, which callers know as a length stop.
      const finish = choice.finish_reason === 'model_length' ? 'length' : choice.finish_reason
      return { ...choice, finish_reason: finish, message: { ...message, content } }
    }),
  }
}

/** `{message}`, `{error: {message}}`, `{detail: "…"}`, `{detail: [{msg}]}` or a bare string. */
function messageOf(r: ResultReader, v: unknown, path: string): string | null {
  if (typeof v === 'string') return v
  if (v === undefined || v === null) return null
  const o = r.object(v, path)
  if (typeof o.message === 'string') return o.message
  if (typeof o.detail === 'string') return o.detail
  if (Array.isArray(o.detail)) {
    const msgs = o.detail.map((d) => (isObject(d) && typeof d.msg === 'string' ? d.msg : null))
    if (msgs.length > 0 && msgs.every((m) => m !== null)) return msgs.join('; ')
  }
  return isObject(o.error) ? messageOf(r, o.error, `${path}.error`) : null
}

function codeOf(v: unknown): string | null {
  return isObject(v) && typeof v.code === 'string' ? v.code : null
}
