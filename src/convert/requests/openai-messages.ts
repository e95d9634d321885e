// OpenAI chat `messages` → neutral system text + ChatMessage[]. System and developer messages are
// lifted into one system string (the neutral request, like Anthropic and Gemini, has a single
// system slot); consecutive `tool` messages become tool_result parts of one user message, which
// is where Anthropic and Gemini expect the answers to a turn's tool calls.

import type { ChatMessage, ChatPart } from '../../core/chat'
import { GatewayError } from '../../errors'
import {
  at,
  fail,
  isObject,
  list,
  nonEmptyString,
  object,
  onlyDefault,
  onlyKeys,
  type Site,
  string,
} from '../guards'
import { depthLimitText, parseJsonBounded } from '../json-depth'

export interface OpenAIMessages {
  system: string | null
  messages: ChatMessage[]
}

/** Joins multi-part texts (system prompts, tool results) with a newline, matching how they read. */
export const TEXT_JOINER = '\n'

const DATA_URL = /^data:(image\/[a-zA-Z0-9.+-]+);base64,(.+)$/s

export function openaiMessagesToChat(value: unknown, site: Site): OpenAIMessages {
  const items = list(value, site)
  if (items.length === 0) throw fail(site, 'must contain at least one message')
  const system: string[] = []
  const messages: ChatMessage[] = []
  let previousWasTool = false
  items.forEach((item, i) => {
    const mSite = at(site, i)
    const m = object(item, mSite)
    const role = string(m.role, at(mSite, 'role'))
    const isTool = role === 'tool'
    switch (role) {
      case 'system':
      case 'developer':
        onlyKeys(m, ['role', 'content', 'name'], mSite)
        rejectName(m, mSite)
        system.push(textOnly(m.content, at(mSite, 'content')))
        break
      case 'user':
        onlyKeys(m, ['role', 'content', 'name'], mSite)
        rejectName(m, mSite)
        messages.push({ role: 'user', content: userContent(m.content, at(mSite, 'content')) })
        break
      case 'assistant':
        messages.push(assistantMessage(m, mSite))
        break
      case 'tool': {
        onlyKeys(m, ['role', 'content', 'tool_call_id'], mSite)
        const part: ChatPart = {
          type: 'tool_result',
          toolUseId: nonEmptyString(m.tool_call_id, at(mSite, 'tool_call_id')),
          content: textOnly(m.content, at(mSite, 'content')),
        }
        const last = messages.at(-1)
        if (previousWasTool && last) last.content.push(part)
        else messages.push({ role: 'user', content: [part] })
        break
      }
      default:
        throw fail(at(mSite, 'role'), `role '${role}' cannot be converted; use system, developer, user, assistant or tool`)
    }
    previousWasTool = isTool
  })
  if (messages.length === 0) throw fail(site, 'must contain at least one user or assistant message')
  return { system: system.length === 0 ? null : system.join(TEXT_JOINER), messages }
}

function rejectName(m: Record<string, unknown>, site: Site): void {
  onlyDefault(m.name, at(site, 'name'), [], 'participant names cannot be converted to Anthropic, Gemini or Bedrock')
}

/** A string, or an array of text parts (system, developer and tool content). */
function textOnly(value: unknown, site: Site): string {
  if (typeof value === 'string') return value
  return list(value, site)
    .map((part, i) => textPart(part, at(site, i)).text)
    .join(TEXT_JOINER)
}

function textPart(value: unknown, site: Site): { type: 'text'; text: string } {
  const p = object(value, site)
  if (p.type !== 'text') throw fail(at(site, 'type'), `content part type '${String(p.type)}' is not allowed here; only 'text'`)
  onlyKeys(p, ['type', 'text'], site)
  return { type: 'text', text: string(p.text, at(site, 'text')) }
}

function userContent(value: unknown, site: Site): ChatPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }]
  const parts = list(value, site)
  if (parts.length === 0) throw fail(site, 'must contain at least one content part')
  return parts.map((raw, i): ChatPart => {
    const pSite = at(site, i)
    const p = object(raw, pSite)
    if (p.type === 'text') return textPart(p, pSite)
    if (p.type === 'image_url') return imagePart(p, pSite)
    throw fail(at(pSite, 'type'), `content part type '${String(p.type)}' cannot be converted; only text and image_url`)
  })
}

function imagePart(p: Record<string, unknown>, site: Site): ChatPart {
  onlyKeys(p, ['type', 'image_url'], site)
  const iSite = at(site, 'image_url')
  const image = object(p.image_url, iSite)
  onlyKeys(image, ['url', 'detail'], iSite)
  onlyDefault(image.detail, at(iSite, 'detail'), ['auto'], "only 'auto' can be converted; other providers have no detail setting")
  const url = nonEmptyString(image.url, at(iSite, 'url'))
  const data = DATA_URL.exec(url)
  // Base64 data URLs become inline images every provider accepts; remote URLs stay URLs.
  if (data?.[1] !== undefined && data[2] !== undefined) return { type: 'image', mediaType: data[1], data: data[2] }
  if (url.startsWith('data:')) throw fail(at(iSite, 'url'), 'data URLs must be base64-encoded images')
  return { type: 'image_url', url }
}

function assistantMessage(m: Record<string, unknown>, site: Site): ChatMessage {
  onlyKeys(m, ['role', 'content', 'tool_calls', 'refusal', 'audio', 'function_call', 'name'], site)
  rejectName(m, site)
  onlyDefault(m.refusal, at(site, 'refusal'), [], 'earlier refusals cannot be converted; send them as content')
  onlyDefault(m.audio, at(site, 'audio'), [], 'audio replies cannot be converted')
  onlyDefault(m.function_call, at(site, 'function_call'), [], 'legacy function calls cannot be converted; use tool_calls')
  const content: ChatPart[] = []
  // SDKs often send `content: ""` beside tool_calls; an empty text says nothing, and Anthropic
  // rejects empty text blocks, so it is not carried.
  const keep = (text: string): void => {
    if (text !== '') content.push({ type: 'text', text })
  }
  if (typeof m.content === 'string') keep(m.content)
  else if (m.content !== undefined && m.content !== null) {
    list(m.content, at(site, 'content')).forEach((part, i) => keep(textPart(part, at(at(site, 'content'), i)).text))
  }
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    const cSite = at(site, 'tool_calls')
    list(m.tool_calls, cSite).forEach((call, j) => content.push(toolCall(call, at(cSite, j))))
  }
  if (content.length === 0) throw fail(site, 'an assistant message needs content or tool_calls')
  return { role: 'assistant', content }
}

function toolCall(value: unknown, site: Site): ChatPart {
  const call = object(value, site)
  onlyKeys(call, ['id', 'type', 'function'], site)
  if (call.type !== 'function') throw fail(at(site, 'type'), "only 'function' tool calls can be converted")
  const fSite = at(site, 'function')
  const fn = object(call.function, fSite)
  onlyKeys(fn, ['name', 'arguments'], fSite)
  const argsSite = at(fSite, 'arguments')
  const args = string(fn.arguments, argsSite)
  let input: unknown
  try {
    input = parseJsonBounded(args, () => fail(argsSite, depthLimitText))
  } catch (err) {
    if (err instanceof GatewayError) throw err
    throw fail(argsSite, 'must be a JSON-encoded object')
  }
  // Anthropic, Gemini and Nova all take tool input as an object.
  if (!isObject(input)) throw fail(argsSite, 'must be a JSON-encoded object')
  return { type: 'tool_use', id: nonEmptyString(call.id, at(site, 'id')), name: nonEmptyString(fn.name, at(fSite, 'name')), input }
}
