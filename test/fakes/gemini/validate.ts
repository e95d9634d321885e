// Validation of GenerateContentRequest bodies (batch inline requests and JSONL lines, spec §3.1,
// §3.8). Unknown field names are rejected the way the real proto-JSON parser does; semantic
// problems use the real API's "* GenerateContentRequest.…" wording.

import { GoogleError, invalidValue, isObject, normaliseKeys } from './common'
import type { Json, JsonObject } from './common'

const REQUEST_FIELDS = [
  'model',
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'safetySettings',
  'generationConfig',
  'cachedContent',
  'labels',
  'serviceTier',
  'store',
] as const

const GENERATION_CONFIG_FIELDS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
  'audioTranscriptionConfig',
] as const

const FLOAT_FIELDS = ['temperature', 'topP', 'presencePenalty', 'frequencyPenalty']
const INT_FIELDS = ['candidateCount', 'maxOutputTokens', 'topK', 'seed', 'logprobs']

const CONTENT_FIELDS = ['role', 'parts'] as const
/** The Part "data" oneof plus its metadata siblings. */
const PART_DATA_FIELDS = ['text', 'inlineData', 'functionCall', 'functionResponse', 'fileData', 'executableCode', 'codeExecutionResult']
const PART_FIELDS = [...PART_DATA_FIELDS, 'videoMetadata', 'thought', 'thoughtSignature', 'partMetadata', 'mediaResolution']

/** A request after validation, with camelCase keys at the levels the fake's model reads. */
export interface CheckedRequest {
  contents: CheckedContent[]
  systemInstruction?: CheckedContent
  generationConfig: JsonObject
  raw: JsonObject
}
export interface CheckedContent {
  role?: string
  parts: JsonObject[]
}

function snake(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

function checkContent(value: Json | undefined, at: string, field: string): CheckedContent {
  if (!isObject(value)) throw invalidValue(snake(at), 'TYPE_MESSAGE', value)
  const c = normaliseKeys(value, CONTENT_FIELDS, snake(at))
  const role = c.role
  if (role !== undefined && role !== '') {
    if (typeof role !== 'string') throw invalidValue(snake(`${at}.role`), 'TYPE_STRING', role)
    // The real API only knows these roles ("Please use a valid role: user, model.").
    if (!['user', 'model', 'function'].includes(role)) {
      throw new GoogleError('INVALID_ARGUMENT', 'Please use a valid role: user, model.')
    }
  }
  // A missing role is accepted and treated as "user", as in the guide's JSONL examples (§3.8).
  const parts = c.parts
  if (parts !== undefined && !Array.isArray(parts)) throw invalidValue(snake(`${at}.parts`), 'TYPE_MESSAGE', parts)
  if (!parts || parts.length === 0) {
    throw new GoogleError('INVALID_ARGUMENT', `* GenerateContentRequest.${field}.parts: contents.parts must not be empty.\n`)
  }
  const checked = parts.map((p, i) => {
    if (!isObject(p)) throw invalidValue(snake(`${at}.parts[${i}]`), 'TYPE_MESSAGE', p)
    const part = normaliseKeys(p, PART_FIELDS, snake(`${at}.parts[${i}]`))
    const data = PART_DATA_FIELDS.filter((f) => part[f] !== undefined)
    if (data.length === 0) {
      throw new GoogleError(
        'INVALID_ARGUMENT',
        `* GenerateContentRequest.${field}.parts[${i}].data: required oneof field 'data' must have one initialized field\n`,
      )
    }
    if (data.length > 1) {
      throw new GoogleError('INVALID_ARGUMENT', `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${data[1]}'`)
    }
    if (part.text !== undefined && typeof part.text !== 'string') {
      throw invalidValue(snake(`${at}.parts[${i}].text`), 'TYPE_STRING', part.text)
    }
    return part
  })
  return { ...(typeof role === 'string' && role !== '' ? { role } : {}), parts: checked }
}

function checkGenerationConfig(value: Json | undefined, at: string): JsonObject {
  if (value === undefined || value === null) return {}
  if (!isObject(value)) throw invalidValue(snake(at), 'TYPE_MESSAGE', value)
  const g = normaliseKeys(value, GENERATION_CONFIG_FIELDS, snake(at))
  for (const f of FLOAT_FIELDS) {
    const v = g[f]
    if (v !== undefined && typeof v !== 'number') throw invalidValue(snake(`${at}.${f}`), 'TYPE_FLOAT', v)
  }
  for (const f of INT_FIELDS) {
    const v = g[f]
    // int32 accepts JSON numbers or decimal strings in proto3 JSON.
    if (v === undefined) continue
    const ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
    if (!ok) throw invalidValue(snake(`${at}.${f}`), 'TYPE_INT32', v)
  }
  const stops = g.stopSequences
  if (stops !== undefined && (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string'))) {
    throw invalidValue(snake(`${at}.stopSequences`), 'TYPE_STRING', stops)
  }
  const temperature = g.temperature
  if (typeof temperature === 'number' && (temperature < 0 || temperature > 2)) {
    throw new GoogleError('INVALID_ARGUMENT', `* GenerateContentRequest.generation_config.temperature: must be in the range [0.0, 2.0]\n`)
  }
  const candidateCount = Number(g.candidateCount ?? 1)
  if (candidateCount < 1 || candidateCount > 8) {
    throw new GoogleError('INVALID_ARGUMENT', '* GenerateContentRequest.generation_config.candidate_count: must be in the range [1, 8]\n')
  }
  const maxTokens = g.maxOutputTokens
  if (maxTokens !== undefined && Number(maxTokens) < 1) {
    throw new GoogleError('INVALID_ARGUMENT', '* GenerateContentRequest.generation_config.max_output_tokens: must be positive\n')
  }
  return g
}

/** Validates one GenerateContentRequest; `at` is its path in the enclosing body for messages. */
export function checkRequest(value: Json | undefined, at: string): CheckedRequest {
  if (value === undefined || value === null) {
    throw new GoogleError('INVALID_ARGUMENT', `* GenerateContentRequest.contents: contents is not specified\n`)
  }
  if (!isObject(value)) throw invalidValue(snake(at), 'TYPE_MESSAGE', value)
  const r = normaliseKeys(value, REQUEST_FIELDS, snake(at))
  const contents = r.contents
  if (contents !== undefined && !Array.isArray(contents)) throw invalidValue(snake(`${at}.contents`), 'TYPE_MESSAGE', contents)
  if (!contents || contents.length === 0) {
    throw new GoogleError('INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n')
  }
  const checkedContents = contents.map((c, i) => checkContent(c, `${at}.contents[${i}]`, `contents[${i}]`))
  const sys = r.systemInstruction
  const systemInstruction =
    sys === undefined || sys === null ? undefined : checkContent(sys, `${at}.systemInstruction`, 'system_instruction')
  for (const f of ['tools', 'safetySettings'] as const) {
    const v = r[f]
    if (v !== undefined && !Array.isArray(v)) throw invalidValue(snake(`${at}.${f}`), 'TYPE_MESSAGE', v)
  }
  const generationConfig = checkGenerationConfig(r.generationConfig, `${at}.generationConfig`)
  return {
    contents: checkedContents,
    ...(systemInstruction ? { systemInstruction } : {}),
    generationConfig,
    raw: r,
  }
}
