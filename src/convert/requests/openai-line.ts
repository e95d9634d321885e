// One line of an OpenAI batch input file: the envelope check (shared with pass-through to OpenAI)
// and the chat.completions body → neutral ChatRequest conversion used for every other provider.

import type { ChatRequest, ChatTool, ChatToolChoice } from '../../core/chat'
import {
  at,
  fail,
  isUnset,
  type JsonObject,
  list,
  nonEmptyString,
  object,
  onlyKeys,
  optionalNumber,
  optionalString,
  type Site,
  string,
} from '../guards'
import { checkOpenAIChatFields } from './openai-fields'
import { openaiMessagesToChat } from './openai-messages'

/** Endpoints an OpenAI batch may target (openai-node 6.x `BatchCreateParams.endpoint`). */
export const OPENAI_BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
] as const
export type OpenAIBatchEndpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number]

export const CHAT_COMPLETIONS = '/v1/chat/completions'

/**
 * Endpoints an emulated batch may target from an uploaded file: the lines are sent as they are to
 * the instance's OpenAI-compatible server, so any endpoint such servers commonly serve works.
 */
export const EMULATED_BATCH_ENDPOINTS = [CHAT_COMPLETIONS, '/v1/embeddings', '/v1/responses'] as const

export interface OpenAIBatchLine {
  customId: string
  method: 'POST'
  url: OpenAIBatchEndpoint
  body: JsonObject
}

const isEndpoint = (url: string): url is OpenAIBatchEndpoint => (OPENAI_BATCH_ENDPOINTS as readonly string[]).includes(url)

/** Validates `{custom_id, method, url, body}`; the body itself is only checked for `stream: true`. */
export function parseOpenAIBatchLine(value: unknown, line: number): OpenAIBatchLine {
  const root: Site = { param: '', line }
  const o = object(value, root)
  onlyKeys(o, ['custom_id', 'method', 'url', 'body'], root)
  const customId = nonEmptyString(o.custom_id, at(root, 'custom_id'))
  if (o.method !== 'POST') throw fail(at(root, 'method'), "must be 'POST'")
  const url = string(o.url, at(root, 'url'))
  if (!isEndpoint(url)) throw fail(at(root, 'url'), `must be one of ${OPENAI_BATCH_ENDPOINTS.join(', ')}`)
  const body = object(o.body, at(root, 'body'))
  if (body.stream === true) throw fail(at(at(root, 'body'), 'stream'), 'batch requests cannot stream; remove stream: true')
  return { customId, method: 'POST', url, body }
}

/** A `/v1/chat/completions` body → ChatRequest. Every field is mapped, listed as ignored, or an error. */
export function openaiChatBodyToChat(customId: string, body: JsonObject, line: number): ChatRequest {
  const site: Site = { param: 'body', line }
  checkOpenAIChatFields(body, site)
  const { system, messages } = openaiMessagesToChat(body.messages, at(site, 'messages'))
  return {
    customId,
    model: nonEmptyString(body.model, at(site, 'model')),
    system,
    messages,
    maxTokens: maxTokens(body, site),
    temperature: optionalNumber(body.temperature, at(site, 'temperature'), { min: 0, max: 2 }),
    topP: optionalNumber(body.top_p, at(site, 'top_p'), { min: 0, max: 1 }),
    topK: null,
    stop: stop(body.stop, at(site, 'stop')),
    tools: isUnset(body.tools) ? [] : list(body.tools, at(site, 'tools')).map((t, i) => tool(t, at(at(site, 'tools'), i))),
    toolChoice: toolChoice(body.tool_choice, at(site, 'tool_choice')),
    user: user(body, site),
  }
}

/** The whole line → ChatRequest; only chat.completions lines can change provider. */
export function openaiLineToChat(value: unknown, line: number): ChatRequest {
  return openaiCheckedLineToChat(parseOpenAIBatchLine(value, line), line)
}

/** A line whose envelope parseOpenAIBatchLine already checked → ChatRequest. */
export function openaiCheckedLineToChat(parsed: OpenAIBatchLine, line: number): ChatRequest {
  if (parsed.url !== CHAT_COMPLETIONS) {
    throw fail({ param: 'url', line }, `only ${CHAT_COMPLETIONS} requests can be converted to another provider, not ${parsed.url}`)
  }
  return openaiChatBodyToChat(parsed.customId, parsed.body, line)
}

function maxTokens(body: JsonObject, site: Site): number | null {
  const legacy = optionalNumber(body.max_tokens, at(site, 'max_tokens'), { min: 1, integer: true })
  const current = optionalNumber(body.max_completion_tokens, at(site, 'max_completion_tokens'), { min: 1, integer: true })
  if (legacy !== null && current !== null && legacy !== current) {
    throw fail(at(site, 'max_completion_tokens'), 'conflicts with max_tokens; set only one of them')
  }
  return current ?? legacy
}

function stop(value: unknown, site: Site): string[] {
  if (isUnset(value)) return []
  if (typeof value === 'string') return [value]
  return list(value, site).map((s, i) => string(s, at(site, i)))
}

function tool(value: unknown, site: Site): ChatTool {
  const t = object(value, site)
  onlyKeys(t, ['type', 'function'], site)
  if (t.type !== 'function') throw fail(at(site, 'type'), "only 'function' tools can be converted")
  const fSite = at(site, 'function')
  const fn = object(t.function, fSite)
  onlyKeys(fn, ['name', 'description', 'parameters', 'strict'], fSite)
  if (!isUnset(fn.strict) && fn.strict !== false) {
    throw fail(at(fSite, 'strict'), 'strict schema adherence cannot be converted to Anthropic, Gemini or Bedrock')
  }
  const description = optionalString(fn.description, at(fSite, 'description'))
  return {
    name: nonEmptyString(fn.name, at(fSite, 'name')),
    ...(description === null ? {} : { description }),
    // OpenAI lets a function omit parameters; the others want a schema, and "no arguments" is this one.
    parameters: isUnset(fn.parameters) ? { type: 'object', properties: {} } : object(fn.parameters, at(fSite, 'parameters')),
  }
}

function toolChoice(value: unknown, site: Site): ChatToolChoice | null {
  if (isUnset(value)) return null
  if (value === 'auto') return { type: 'auto' }
  if (value === 'none') return { type: 'none' }
  if (value === 'required') return { type: 'any' }
  const o = object(value, site)
  onlyKeys(o, ['type', 'function'], site)
  if (o.type !== 'function') throw fail(at(site, 'type'), "only 'auto', 'none', 'required' or a named function can be converted")
  const fn = object(o.function, at(site, 'function'))
  onlyKeys(fn, ['name'], at(site, 'function'))
  return { type: 'tool', name: nonEmptyString(fn.name, at(at(site, 'function'), 'name')) }
}

/** `user` and its successor `safety_identifier` both name the end user; they must agree. */
function user(body: JsonObject, site: Site): string | null {
  const legacy = optionalString(body.user, at(site, 'user'))
  const current = optionalString(body.safety_identifier, at(site, 'safety_identifier'))
  if (legacy !== null && current !== null && legacy !== current) {
    throw fail(at(site, 'safety_identifier'), 'conflicts with user; set only one of them')
  }
  return current ?? legacy
}
