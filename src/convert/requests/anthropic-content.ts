// Anthropic message content blocks → neutral ChatParts. Only blocks every target can express
// are accepted (text, image, tool_use, tool_result); `cache_control` is a caching hint and is
// ignored. Runs after validateAnthropicRequest, so shapes Anthropic itself checks are known good.

import type { ChatMessage, ChatPart } from '../../core/chat'
import {
  at,
  fail,
  isObject,
  list,
  nonEmptyString,
  object,
  onlyDefault,
  onlyKeys,
  optionalBoolean,
  type Site,
  string,
} from '../guards'
import { TEXT_JOINER } from './openai-messages'

const TARGETS = 'OpenAI, Gemini or Bedrock'
/** Media types Anthropic accepts for base64 images (Base64ImageSource.media_type). */
export const ANTHROPIC_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const

export function anthropicMessagesToChat(value: unknown, site: Site): ChatMessage[] {
  return list(value, site).map((raw, i) => {
    const mSite = at(site, i)
    const m = object(raw, mSite)
    onlyKeys(m, ['role', 'content'], mSite)
    const role = m.role === 'assistant' ? 'assistant' : 'user'
    const cSite = at(mSite, 'content')
    if (typeof m.content === 'string') return { role, content: [{ type: 'text', text: m.content }] }
    return { role, content: list(m.content, cSite).map((b, k) => block(b, at(cSite, k))) }
  })
}

/** `system`: a string or text blocks, joined into the one neutral system string. */
export function anthropicSystemToChat(value: unknown, site: Site): string | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'string') return value
  return list(value, site)
    .map((b, i) => textBlock(object(b, at(site, i)), at(site, i)).text)
    .join(TEXT_JOINER)
}

function block(value: unknown, site: Site): ChatPart {
  const b = object(value, site)
  switch (b.type) {
    case 'text':
      return textBlock(b, site)
    case 'image':
      return imageBlock(b, site)
    case 'tool_use': {
      onlyKeys(b, ['type', 'id', 'name', 'input', 'cache_control'], site)
      if (!isObject(b.input)) throw fail(at(site, 'input'), 'must be a JSON object')
      return { type: 'tool_use', id: nonEmptyString(b.id, at(site, 'id')), name: nonEmptyString(b.name, at(site, 'name')), input: b.input }
    }
    case 'tool_result':
      return toolResultBlock(b, site)
    default:
      throw fail(at(site, 'type'), `content block type '${String(b.type)}' cannot be converted to ${TARGETS}; use text, image, tool_use or tool_result`)
  }
}

function textBlock(b: Record<string, unknown>, site: Site): { type: 'text'; text: string } {
  onlyKeys(b, ['type', 'text', 'cache_control', 'citations'], site)
  onlyDefault(b.citations, at(site, 'citations'), [], `citations cannot be converted to ${TARGETS}`)
  return { type: 'text', text: string(b.text, at(site, 'text')) }
}

function imageBlock(b: Record<string, unknown>, site: Site): ChatPart {
  onlyKeys(b, ['type', 'source', 'cache_control'], site)
  const sSite = at(site, 'source')
  const source = object(b.source, sSite)
  if (source.type === 'base64') {
    onlyKeys(source, ['type', 'media_type', 'data'], sSite)
    const mediaType = string(source.media_type, at(sSite, 'media_type'))
    if (!(ANTHROPIC_IMAGE_TYPES as readonly string[]).includes(mediaType)) {
      throw fail(at(sSite, 'media_type'), `must be one of ${ANTHROPIC_IMAGE_TYPES.join(', ')}`)
    }
    return { type: 'image', mediaType, data: nonEmptyString(source.data, at(sSite, 'data')) }
  }
  if (source.type === 'url') {
    onlyKeys(source, ['type', 'url'], sSite)
    return { type: 'image_url', url: nonEmptyString(source.url, at(sSite, 'url')) }
  }
  throw fail(at(sSite, 'type'), `image source type '${String(source.type)}' cannot be converted to ${TARGETS}; use base64 or url`)
}

function toolResultBlock(b: Record<string, unknown>, site: Site): ChatPart {
  onlyKeys(b, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'], site)
  const cSite = at(site, 'content')
  let content = ''
  if (typeof b.content === 'string') content = b.content
  else if (b.content !== undefined) {
    content = list(b.content, cSite)
      .map((inner, i) => {
        const innerSite = at(cSite, i)
        const o = object(inner, innerSite)
        if (o.type !== 'text') throw fail(at(innerSite, 'type'), `only text tool results can be converted to ${TARGETS}`)
        return textBlock(o, innerSite).text
      })
      .join(TEXT_JOINER)
  }
  const isError = optionalBoolean(b.is_error, at(site, 'is_error'))
  return {
    type: 'tool_result',
    toolUseId: nonEmptyString(b.tool_use_id, at(site, 'tool_use_id')),
    content,
    ...(isError === true ? { isError: true } : {}),
  }
}
