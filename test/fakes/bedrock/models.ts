// The "model" side of the Bedrock fake: checks each record's modelInput against the request
// body its model family takes through InvokeModel (spec bedrock.md §2.1) and answers with the
// family's response body via the shared deterministic modelReply(). A body that does not fit
// the family, or a prompt containing FAIL, becomes a per-record error (errorCode 400), the
// way Bedrock reports records it could not process (§2.2) — never a job failure.

import { countTokens, modelReply } from '../harness'

export type ModelFamily = 'anthropic' | 'nova'
export type InvocationType = 'InvokeModel' | 'Converse'

export type RecordResult =
  | { ok: true; output: Record<string, unknown>; inputTokens: number; outputTokens: number }
  | { ok: false; errorCode: number; errorMessage: string }

/**
 * Family of a model id, inference-profile id (`us.anthropic.…`) or ARN (…/anthropic.…).
 * Undefined for models this fake does not serve.
 */
export function modelFamily(modelId: string): ModelFamily | undefined {
  const base = baseModelId(modelId)
  if (base.startsWith('anthropic.')) return 'anthropic'
  if (base.startsWith('amazon.nova')) return 'nova'
  return undefined
}

function baseModelId(modelId: string): string {
  const last = modelId.slice(modelId.lastIndexOf('/') + 1)
  // Cross-region inference profiles prefix the model id with a geography: `us.`, `eu.`, `apac.`, `global.`…
  const m = /^[a-z-]{2,8}\.((?:anthropic|amazon)\..*)$/.exec(last)
  return m?.[1] ?? last
}

class BadInput extends Error {}

/** Bedrock's wording for schema violations of an InvokeModel body. */
const malformed = (detail: string) => new BadInput(`Malformed input request: ${detail}, please reformat your input and try again.`)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function requirePositiveInt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw malformed(`#/${path}: expected integer >= 1`)
  return v
}

/** Cuts the reply to the token budget, the way a real model stops at max_tokens. */
function limitReply(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined || countTokens(text) <= maxTokens) return { text, truncated: false }
  return { text: text.split(/\s+/).filter(Boolean).slice(0, maxTokens).join(' '), truncated: true }
}

// ---- Anthropic Messages body (anthropic.* with InvokeModel) ----

function anthropicText(content: unknown, path: string): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw malformed(`#/${path}: expected type: String or JSONArray`)
  return content
    .map((block, i) => {
      if (!isObject(block) || typeof block.type !== 'string') throw malformed(`#/${path}/${i}: required key [type] not found`)
      if (block.type === 'text') {
        if (typeof block.text !== 'string') throw malformed(`#/${path}/${i}/text: expected type: String`)
        return block.text
      }
      return undefined
    })
    .filter((t): t is string => t !== undefined)
    .join('\n')
}

function invokeAnthropic(modelId: string, input: Record<string, unknown>): RecordResult {
  // Bedrock takes the Messages body minus `model`/`stream`, plus a mandatory anthropic_version.
  for (const key of ['model', 'stream']) if (key in input) throw malformed(`#: extraneous key [${key}] is not permitted`)
  if (!('anthropic_version' in input)) throw malformed('#: required key [anthropic_version] not found')
  if (input.anthropic_version !== 'bedrock-2023-05-31') {
    throw malformed(`#/anthropic_version: ${JSON.stringify(input.anthropic_version)} is not a valid enum value`)
  }
  if (!('max_tokens' in input)) throw malformed('#: required key [max_tokens] not found')
  const maxTokens = requirePositiveInt(input.max_tokens, 'max_tokens')
  if (!('messages' in input)) throw malformed('#: required key [messages] not found')
  const messages = input.messages
  if (!Array.isArray(messages) || messages.length === 0) throw malformed('#/messages: expected minimum item count: 1')
  const texts: string[] = []
  if (input.system !== undefined) texts.push(anthropicText(input.system, 'system'))
  let prompt: string | undefined
  messages.forEach((m, i) => {
    if (!isObject(m)) throw malformed(`#/messages/${i}: expected type: JSONObject`)
    if (m.role !== 'user' && m.role !== 'assistant') throw malformed(`#/messages/${i}/role: ${JSON.stringify(m.role)} is not a valid enum value`)
    if (!('content' in m)) throw malformed(`#/messages/${i}: required key [content] not found`)
    const text = anthropicText(m.content, `messages/${i}/content`)
    texts.push(text)
    if (m.role === 'user') prompt = text
  })
  if (prompt === undefined) throw new BadInput('messages: at least one user message is required')
  const reply = modelReply(prompt)
  if (!reply.ok) return { ok: false, errorCode: 400, errorMessage: reply.message }
  const { text, truncated } = limitReply(reply.text, maxTokens)
  const inputTokens = countTokens(texts.join('\n'))
  const outputTokens = countTokens(text)
  const model = baseModelId(modelId)
    .replace(/^anthropic\./, '')
    .replace(/-v\d+(:\d+)?$/, '')
  return {
    ok: true,
    inputTokens,
    outputTokens,
    output: {
      id: `msg_bdrk_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text }],
      stop_reason: truncated ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
  }
}

// ---- Nova InvokeModel body and Converse request body (same messages/system/inferenceConfig shape) ----

const CONTENT_KINDS = ['text', 'image', 'video', 'document', 'toolUse', 'toolResult', 'reasoningContent', 'cachePoint']

function converseText(content: unknown, path: string): string {
  if (!Array.isArray(content) || content.length === 0) throw malformed(`#/${path}: expected type: JSONArray with minimum item count: 1`)
  return content
    .map((block, i) => {
      if (!isObject(block) || !CONTENT_KINDS.some((k) => k in block)) throw malformed(`#/${path}/${i}: content block must contain one of ${CONTENT_KINDS.join(', ')}`)
      if ('text' in block) {
        if (typeof block.text !== 'string') throw malformed(`#/${path}/${i}/text: expected type: String`)
        return block.text
      }
      return undefined
    })
    .filter((t): t is string => t !== undefined)
    .join('\n')
}

function invokeMessagesV1(input: Record<string, unknown>, converse: boolean): RecordResult {
  const allowed = converse
    ? ['messages', 'system', 'inferenceConfig', 'additionalModelRequestFields', 'promptVariables', 'requestMetadata', 'toolConfig']
    : ['schemaVersion', 'messages', 'system', 'inferenceConfig', 'toolConfig']
  for (const key of Object.keys(input)) if (!allowed.includes(key)) throw malformed(`#: extraneous key [${key}] is not permitted`)
  // Tool use is not available to Converse-type batch jobs (§2.1).
  if (converse && 'toolConfig' in input) throw new BadInput('toolConfig is not supported for batch inference jobs of type Converse')
  if (!converse && input.schemaVersion !== undefined && input.schemaVersion !== 'messages-v1') {
    throw malformed(`#/schemaVersion: ${JSON.stringify(input.schemaVersion)} is not a valid enum value`)
  }
  if (!('messages' in input)) throw malformed('#: required key [messages] not found')
  const messages = input.messages
  if (!Array.isArray(messages) || messages.length === 0) throw malformed('#/messages: expected minimum item count: 1')
  const texts: string[] = []
  if (input.system !== undefined) {
    if (!Array.isArray(input.system)) throw malformed('#/system: expected type: JSONArray')
    texts.push(converseText(input.system, 'system'))
  }
  let prompt: string | undefined
  messages.forEach((m, i) => {
    if (!isObject(m)) throw malformed(`#/messages/${i}: expected type: JSONObject`)
    if (m.role !== 'user' && m.role !== 'assistant') throw malformed(`#/messages/${i}/role: ${JSON.stringify(m.role)} is not a valid enum value`)
    const text = converseText(m.content, `messages/${i}/content`)
    texts.push(text)
    if (m.role === 'user') prompt = text
  })
  let maxTokens: number | undefined
  if (input.inferenceConfig !== undefined) {
    const cfg = input.inferenceConfig
    if (!isObject(cfg)) throw malformed('#/inferenceConfig: expected type: JSONObject')
    // Nova docs show both camelCase (maxTokens/topP/topK) and snake_case (max_new_tokens/top_p/top_k).
    const mt = cfg.maxTokens ?? (converse ? undefined : cfg.max_new_tokens)
    if (mt !== undefined) maxTokens = requirePositiveInt(mt, 'inferenceConfig/maxTokens')
    for (const k of ['temperature', 'topP', 'top_p', 'topK', 'top_k']) {
      if (cfg[k] !== undefined && typeof cfg[k] !== 'number') throw malformed(`#/inferenceConfig/${k}: expected type: Number`)
    }
    const stops = cfg.stopSequences
    if (stops !== undefined && (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string'))) {
      throw malformed('#/inferenceConfig/stopSequences: expected type: JSONArray of String')
    }
  }
  if (prompt === undefined) throw new BadInput('A conversation must start with a user message.')
  const reply = modelReply(prompt)
  if (!reply.ok) return { ok: false, errorCode: 400, errorMessage: reply.message }
  const { text, truncated } = limitReply(reply.text, maxTokens)
  const inputTokens = countTokens(texts.join('\n'))
  const outputTokens = countTokens(text)
  const output: Record<string, unknown> = {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: truncated ? 'max_tokens' : 'end_turn',
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
  }
  if (converse) output.metrics = { latencyMs: 1 }
  return { ok: true, inputTokens, outputTokens, output }
}

/** Runs one record's modelInput through the model named by the job. */
export function invokeRecord(modelId: string, invocationType: InvocationType, modelInput: unknown): RecordResult {
  try {
    if (!isObject(modelInput)) throw malformed('#: expected type: JSONObject')
    if (invocationType === 'Converse') return invokeMessagesV1(modelInput, true)
    switch (modelFamily(modelId)) {
      case 'anthropic':
        return invokeAnthropic(modelId, modelInput)
      case 'nova':
        return invokeMessagesV1(modelInput, false)
      default:
        return { ok: false, errorCode: 400, errorMessage: `The provided model identifier is invalid: ${modelId}` }
    }
  } catch (err) {
    if (err instanceof BadInput) return { ok: false, errorCode: 400, errorMessage: err.message }
    throw err
  }
}
