// Batch input validation and the per-request "model" of the OpenAI fake (openai.md §5).
// Input lines are `{custom_id, method:"POST", url:<batch endpoint>, body}`; output/error lines are
// `{id:"batch_req_…", custom_id, response:{status_code, request_id, body}|null, error:{code,message}|null}`.

import { existsSync, readFileSync } from 'node:fs'
import { countTokens, modelReply } from '../harness'
import { type BatchError, errorBody, isPlainObject, newId, nowSeconds } from './wire'

/** ≤ 50 000 requests per batch (openai.md §4 POST /batches). */
export const MAX_REQUESTS_PER_BATCH = 50_000

export interface InputLine {
  custom_id: string
  body: Record<string, unknown>
  /** 1-based line number in the input file. */
  line: number
}

export interface OutputLine {
  id: string
  custom_id: string
  response: { status_code: number; request_id: string; body: unknown } | null
  error: { code: string; message: string } | null
}

export interface Outcome {
  ok: boolean
  line: OutputLine
  inputTokens: number
  outputTokens: number
}

/**
 * Checks an input file the way the batch service does while `validating`: every non-blank line is
 * a JSON object with a unique string `custom_id`, `method` "POST", `url` equal to the batch
 * endpoint, an object `body` without `stream:true`, and all lines name the same model (guide).
 * The error codes are descriptive — the real code set is unverified (openai.md §4.5).
 */
export function validateInput(
  path: string | undefined,
  endpoint: string,
  canonical: (url: string) => string = (url) => url,
): { lines: InputLine[]; model?: string } | { errors: BatchError[] } {
  if (!path || !existsSync(path)) {
    return { errors: [{ code: 'file_not_found', message: 'The input file could not be found.', param: 'input_file_id', line: null }] }
  }
  const errors: BatchError[] = []
  const lines: InputLine[] = []
  const seen = new Set<string>()
  let model: string | undefined
  const add = (code: string, message: string, param: string | null, line: number): void => {
    if (errors.length < 1000) errors.push({ code, message, param, line })
  }
  const raw = readFileSync(path, 'utf8').split('\n')
  raw.forEach((text, idx) => {
    const lineNo = idx + 1
    if (text.trim() === '') return // the trailing newline (and stray blank lines) are tolerated
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      add('invalid_json_line', `This line is not parseable as valid JSON.`, null, lineNo)
      return
    }
    if (!isPlainObject(parsed)) return add('invalid_json_line', 'Each line must be a JSON object.', null, lineNo)
    const { custom_id: customId, method, url, body } = parsed
    if (typeof customId !== 'string' || customId === '') {
      return add('missing_required_parameter', `Missing required parameter: 'custom_id'.`, 'custom_id', lineNo)
    }
    if (seen.has(customId)) {
      return add('duplicate_custom_id', `The custom_id '${customId}' is used more than once; custom_id values must be unique.`, 'custom_id', lineNo)
    }
    seen.add(customId)
    if (method !== 'POST') return add('invalid_method', `Invalid method '${String(method)}': only 'POST' is supported.`, 'method', lineNo)
    if (typeof url !== 'string' || canonical(url) !== endpoint) {
      return add('mismatched_endpoint', `The url '${String(url)}' does not match the batch endpoint '${endpoint}'.`, 'url', lineNo)
    }
    if (!isPlainObject(body)) return add('invalid_body', `The 'body' of each request must be a JSON object.`, 'body', lineNo)
    if (body.stream === true) return add('invalid_body', 'Streaming is not supported in the Batch API.', 'body.stream', lineNo)
    if (typeof body.model === 'string') {
      if (model === undefined) model = body.model
      else if (body.model !== model) {
        return add('mismatched_model', `All requests in a batch must use the same model; expected '${model}', got '${body.model}'.`, 'body.model', lineNo)
      }
    }
    lines.push({ custom_id: customId, body, line: lineNo })
  })
  if (errors.length > 0) return { errors }
  if (lines.length === 0) return { errors: [{ code: 'empty_file', message: 'The input file contains no requests.', param: null, line: null }] }
  if (lines.length > MAX_REQUESTS_PER_BATCH) {
    return {
      errors: [
        { code: 'too_many_requests', message: `A batch may contain at most ${MAX_REQUESTS_PER_BATCH} requests; got ${lines.length}.`, param: null, line: null },
      ],
    }
  }
  return { lines, model }
}

/** Text of a message `content`: a string, or text parts joined with "\n" (harness rule). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .filter((p): p is Record<string, unknown> => isPlainObject(p) && typeof p.text === 'string' && (p.type === 'text' || p.type === 'input_text'))
    .map((p) => String(p.text))
    .join('\n')
}

/** The prompt is the text of the LAST user message. */
function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]
    if (isPlainObject(m) && m.role === 'user') return contentText(m.content)
  }
  return ''
}

type Reply = { status: number; body: unknown; inputTokens: number; outputTokens: number }

const clientError = (message: string, param: string | null = null): Reply => ({ status: 400, body: errorBody(message, param), inputTokens: 0, outputTokens: 0 })

function requireModel(body: Record<string, unknown>): string | Reply {
  return typeof body.model === 'string' && body.model !== '' ? body.model : clientError('you must provide a model parameter', 'model')
}

function chatCompletion(body: Record<string, unknown>): Reply {
  const model = requireModel(body)
  if (typeof model !== 'string') return model
  if (!Array.isArray(body.messages) || body.messages.length === 0) return clientError(`Missing required parameter: 'messages'.`, 'messages')
  const prompt = lastUserText(body.messages)
  const reply = modelReply(prompt)
  if (!reply.ok) return clientError(reply.message)
  const promptTokens = countTokens(prompt)
  const completionTokens = countTokens(reply.text)
  return {
    status: 200,
    inputTokens: promptTokens,
    outputTokens: completionTokens,
    body: {
      id: newId.chatCompletion(),
      object: 'chat.completion',
      created: nowSeconds(),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.text, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  }
}

function textCompletion(body: Record<string, unknown>): Reply {
  const model = requireModel(body)
  if (typeof model !== 'string') return model
  const prompt = Array.isArray(body.prompt) ? body.prompt.map(String).join('\n') : typeof body.prompt === 'string' ? body.prompt : undefined
  if (prompt === undefined) return clientError(`Missing required parameter: 'prompt'.`, 'prompt')
  const reply = modelReply(prompt)
  if (!reply.ok) return clientError(reply.message)
  const inputTokens = countTokens(prompt)
  const outputTokens = countTokens(reply.text)
  return {
    status: 200,
    inputTokens,
    outputTokens,
    body: {
      id: newId.completion(),
      object: 'text_completion',
      created: nowSeconds(),
      model,
      choices: [{ index: 0, text: reply.text, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    },
  }
}

/** A small deterministic vector derived from the text, so equal inputs embed equally. */
function fakeEmbedding(text: string): number[] {
  const hash = new Bun.CryptoHasher('sha256').update(text).digest()
  return Array.from(hash.subarray(0, 8), (b) => Math.round((b / 127.5 - 1) * 1e6) / 1e6)
}

function embeddings(body: Record<string, unknown>): Reply {
  const model = requireModel(body)
  if (typeof model !== 'string') return model
  const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : undefined
  if (!inputs || inputs.length === 0 || !inputs.every((i) => typeof i === 'string')) {
    return clientError(`Invalid 'input': expected a string or an array of strings.`, 'input')
  }
  const texts = inputs as string[]
  const refused = texts.map(modelReply).find((r) => !r.ok)
  if (refused && !refused.ok) return clientError(refused.message)
  const tokens = texts.reduce((sum, t) => sum + countTokens(t), 0)
  return {
    status: 200,
    inputTokens: tokens,
    outputTokens: 0,
    body: {
      object: 'list',
      data: texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  }
}

function responsesApi(body: Record<string, unknown>): Reply {
  const model = requireModel(body)
  if (typeof model !== 'string') return model
  const prompt = typeof body.input === 'string' ? body.input : Array.isArray(body.input) ? lastUserText(body.input) : undefined
  if (prompt === undefined) return clientError(`Missing required parameter: 'input'.`, 'input')
  const reply = modelReply(prompt)
  if (!reply.ok) return clientError(reply.message)
  const inputTokens = countTokens(prompt)
  const outputTokens = countTokens(reply.text)
  const created = nowSeconds()
  return {
    status: 200,
    inputTokens,
    outputTokens,
    body: {
      id: newId.response(),
      object: 'response',
      created_at: created,
      completed_at: created,
      status: 'completed',
      model,
      output: [
        {
          type: 'message',
          id: newId.message(),
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: reply.text, annotations: [] }],
        },
      ],
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
    },
  }
}

/** Runs one request against the deterministic model; non-2xx answers become error-file lines. */
export function executeLine(endpoint: string, input: InputLine): Outcome {
  let reply: Reply
  switch (endpoint) {
    case '/v1/chat/completions':
      reply = chatCompletion(input.body)
      break
    case '/v1/completions':
      reply = textCompletion(input.body)
      break
    case '/v1/embeddings':
      reply = embeddings(input.body)
      break
    case '/v1/responses':
      reply = responsesApi(input.body)
      break
    default:
      reply = clientError(`The fake OpenAI server does not model the ${endpoint} endpoint.`)
  }
  return {
    ok: reply.status < 300,
    inputTokens: reply.inputTokens,
    outputTokens: reply.outputTokens,
    line: {
      id: newId.batchRequest(),
      custom_id: input.custom_id,
      response: { status_code: reply.status, request_id: newId.request(), body: reply.body },
      error: null,
    },
  }
}

/** A request that never ran (batch cancelled or expired): `response:null` plus an `error` object. */
export function unexecutedLine(input: InputLine, reason: 'batch_cancelled' | 'batch_expired'): OutputLine {
  const message =
    reason === 'batch_expired'
      ? 'This request could not be executed before the completion window expired.'
      : 'This request was not executed because the batch was cancelled.'
  return { id: newId.batchRequest(), custom_id: input.custom_id, response: null, error: { code: reason, message } }
}
