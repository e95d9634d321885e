// Validation of `POST /v1/messages/batches` bodies (spec §3.1). Messages name the offending
// path the way the real API does, e.g. `requests.1.custom_id: …`.

import { invalid } from './common'

export interface BatchRequest {
  custom_id: string
  params: Record<string, unknown> & { model: string; max_tokens: number; messages: unknown[] }
}

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/
const MAX_REQUESTS = 100_000

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function validateMessages(messages: unknown, at: string): void {
  if (!Array.isArray(messages)) throw invalid(`${at}: Input should be a valid list`)
  if (messages.length === 0) throw invalid(`${at}: List should have at least 1 item after validation, not 0`)
  messages.forEach((m, j) => {
    const mp = `${at}.${j}`
    if (!isObject(m)) throw invalid(`${mp}: Input should be a valid dictionary`)
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw invalid(`${mp}.role: Input should be 'user' or 'assistant'`)
    }
    const content = m.content
    if (typeof content === 'string') return
    if (!Array.isArray(content)) throw invalid(`${mp}.content: Input should be a valid string or list of content blocks`)
    content.forEach((block, k) => {
      if (!isObject(block) || typeof block.type !== 'string') {
        throw invalid(`${mp}.content.${k}: Input should be a content block with a \`type\``)
      }
      if (block.type === 'text' && typeof block.text !== 'string') {
        throw invalid(`${mp}.content.${k}.text: Field required`)
      }
    })
  })
}

function validateParams(params: unknown, at: string): void {
  if (params === undefined) throw invalid(`${at}: Field required`)
  if (!isObject(params)) throw invalid(`${at}: Input should be a valid dictionary`)
  if (params.model === undefined) throw invalid(`${at}.model: Field required`)
  if (typeof params.model !== 'string' || params.model === '') throw invalid(`${at}.model: Input should be a valid string`)
  if (params.max_tokens === undefined) throw invalid(`${at}.max_tokens: Field required`)
  if (typeof params.max_tokens !== 'number' || !Number.isInteger(params.max_tokens)) {
    throw invalid(`${at}.max_tokens: Input should be a valid integer`)
  }
  if (params.max_tokens < 1) throw invalid(`${at}.max_tokens: Input should be greater than or equal to 1`)
  if (params.messages === undefined) throw invalid(`${at}.messages: Field required`)
  validateMessages(params.messages, `${at}.messages`)
  // Batches run non-streaming Messages requests only (spec §3.1).
  if (params.stream === true) throw invalid(`${at}.stream: Streaming is not supported in the Message Batches API`)
}

/** Returns the typed requests or throws a 400 invalid_request_error naming the bad path. */
export function validateCreateBody(body: unknown): BatchRequest[] {
  if (!isObject(body)) throw invalid('Request body must be a JSON object')
  const requests = body.requests
  if (requests === undefined) throw invalid('requests: Field required')
  if (!Array.isArray(requests)) throw invalid('requests: Input should be a valid list')
  if (requests.length < 1) throw invalid('requests: List should have at least 1 item after validation, not 0')
  if (requests.length > MAX_REQUESTS) {
    throw invalid(`requests: List should have at most ${MAX_REQUESTS} items after validation, not ${requests.length}`)
  }
  const seen = new Set<string>()
  requests.forEach((r, i) => {
    const at = `requests.${i}`
    if (!isObject(r)) throw invalid(`${at}: Input should be a valid dictionary`)
    if (r.custom_id === undefined) throw invalid(`${at}.custom_id: Field required`)
    if (typeof r.custom_id !== 'string' || !CUSTOM_ID.test(r.custom_id)) {
      throw invalid(`${at}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`)
    }
    if (seen.has(r.custom_id)) {
      throw invalid(`${at}.custom_id: Duplicate custom_id '${r.custom_id}'; custom_id values must be unique within a batch`)
    }
    seen.add(r.custom_id)
    validateParams(r.params, `${at}.params`)
  })
  return requests as BatchRequest[]
}

/** The prompt the shared model answers: text of the LAST user message, text parts joined by "\n". */
export function lastUserPrompt(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]
    if (!isObject(m) || m.role !== 'user') continue
    if (typeof m.content === 'string') return m.content
    if (!Array.isArray(m.content)) return ''
    return m.content
      .filter((b): b is { type: 'text'; text: string } => isObject(b) && b.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text)
      .join('\n')
  }
  return ''
}
