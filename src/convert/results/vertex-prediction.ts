// One line of a Vertex AI batch prediction output file for Gemini → ChatResult. Vertex echoes the
// input line (our `key` passes through beside `request`) and adds `response` (a
// GenerateContentResponse, read by the Gemini reader) or a non-empty `status` string saying why
// the row failed, plus `processed_time`. Rows come back in no particular order: the key maps them.

import type { ChatResult } from '../../core/chat'
import { isObject } from '../guards'
import { errorTypeFromStatus } from './error-types'
import { geminiReply } from './gemini-response'
import { type RawResultLine, ResultReader } from './read'

/** `model` is the batch's model, used when the response has no `modelVersion`. */
export function vertexPredictionLineToResult(value: unknown, line: number, model: string): ChatResult {
  const r = new ResultReader('vertex-predictions', line)
  const o = r.object(value, '(line)')
  const customId = r.string(o.key, 'key')
  if (o.response === undefined || o.response === null) {
    const status = r.optionalString(o.status, 'status') ?? ''
    if (status === '') throw r.malformed('(line)', 'neither a response nor a failure status')
    const embedded = embeddedError(status)
    return {
      customId,
      type: 'errored',
      error: {
        type: errorTypeFromStatus(embedded.code),
        message: embedded.message,
        status: embedded.code,
        code: embedded.status,
      },
      requestId: null,
    }
  }
  const response = r.object(o.response, 'response')
  const raw: RawResultLine = { format: 'vertex-predictions', value: o }
  return { customId, type: 'succeeded', reply: geminiReply(r, response, customId, model), requestId: null, raw }
}

/**
 * A failed row's `status` is free text, usually a reason phrase followed by the google.rpc error
 * envelope as JSON (`Bad Request: {"error": {"code": 400, …}}`); the envelope's code, message and
 * status are used when present, the whole text as the message (and 500) otherwise.
 */
function embeddedError(status: string): { code: number; message: string; status: string | null } {
  const at = status.indexOf('{')
  if (at >= 0) {
    try {
      const parsed: unknown = JSON.parse(status.slice(at))
      const e = isObject(parsed) && isObject(parsed.error) ? parsed.error : null
      const code = typeof e?.code === 'number' && e.code >= 400 && e.code <= 599 ? e.code : 500
      if (e && typeof e.message === 'string') return { code, message: e.message, status: typeof e.status === 'string' ? e.status : null }
    } catch {
      // Not an envelope after all: the text is the message.
    }
  }
  return { code: 500, message: status.slice(0, 2000), status: null }
}
