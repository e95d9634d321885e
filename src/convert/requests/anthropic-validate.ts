// Anthropic's own acceptance rules for one Message Batch request item (API reference: custom_id
// pattern, a non-streaming Messages body with max_tokens ≥ 1). Used for pass-through to
// Anthropic, so it checks what Anthropic checks and leaves fields it does not know alone.
// Messages follow the API's style: `requests.3.params.max_tokens: Field required`.

import { ANTHROPIC_CUSTOM_ID } from '../custom-ids'
import { at, fail, isObject, isUnset, list, object, optionalNumber, type Site } from '../guards'

/** Validates `{custom_id, params}` at `requests[index]`; returns the custom_id. */
export function validateAnthropicRequest(value: unknown, index: number): string {
  const site: Site = { param: `requests.${index}` }
  const item = object(value, site)
  for (const key of Object.keys(item)) {
    if (key !== 'custom_id' && key !== 'params') throw fail(at(site, key), 'Extra inputs are not permitted')
  }
  const idSite = at(site, 'custom_id')
  if (item.custom_id === undefined) throw fail(idSite, 'Field required')
  if (typeof item.custom_id !== 'string' || !ANTHROPIC_CUSTOM_ID.test(item.custom_id)) {
    throw fail(idSite, `String should match pattern '${ANTHROPIC_CUSTOM_ID.source}'`)
  }
  validateParams(item.params, at(site, 'params'))
  return item.custom_id
}

function validateParams(value: unknown, site: Site): void {
  if (value === undefined) throw fail(site, 'Field required')
  const p = object(value, site)
  const model = at(site, 'model')
  if (p.model === undefined) throw fail(model, 'Field required')
  if (typeof p.model !== 'string' || p.model === '') throw fail(model, 'Input should be a valid non-empty string')
  if (p.max_tokens === undefined) throw fail(at(site, 'max_tokens'), 'Field required')
  optionalNumber(p.max_tokens, at(site, 'max_tokens'), { min: 1, integer: true })
  if (p.max_tokens === null) throw fail(at(site, 'max_tokens'), 'Input should be a valid integer')
  validateMessages(p.messages, at(site, 'messages'))
  if (p.stream === true) throw fail(at(site, 'stream'), 'streaming is not supported in the Message Batches API')
  if (!isUnset(p.stream) && typeof p.stream !== 'boolean') throw fail(at(site, 'stream'), 'Input should be a valid boolean')
  validateSystem(p.system, at(site, 'system'))
  optionalNumber(p.temperature, at(site, 'temperature'), { min: 0, max: 1 })
  optionalNumber(p.top_p, at(site, 'top_p'), { min: 0, max: 1 })
  optionalNumber(p.top_k, at(site, 'top_k'), { min: 0, integer: true })
  if (!isUnset(p.stop_sequences)) {
    list(p.stop_sequences, at(site, 'stop_sequences')).forEach((s, i) => {
      if (typeof s !== 'string') throw fail(at(at(site, 'stop_sequences'), i), 'Input should be a valid string')
    })
  }
  if (!isUnset(p.tools)) {
    list(p.tools, at(site, 'tools')).forEach((t, i) => object(t, at(at(site, 'tools'), i)))
  }
  if (!isUnset(p.tool_choice)) {
    const choice = object(p.tool_choice, at(site, 'tool_choice'))
    if (typeof choice.type !== 'string') throw fail(at(at(site, 'tool_choice'), 'type'), 'Field required')
  }
  if (!isUnset(p.metadata)) {
    const metadata = object(p.metadata, at(site, 'metadata'))
    if (!isUnset(metadata.user_id) && typeof metadata.user_id !== 'string') {
      throw fail(at(at(site, 'metadata'), 'user_id'), 'Input should be a valid string')
    }
  }
}

function validateMessages(value: unknown, site: Site): void {
  if (value === undefined) throw fail(site, 'Field required')
  const messages = list(value, site)
  if (messages.length === 0) throw fail(site, 'List should have at least 1 item after validation, not 0')
  messages.forEach((raw, i) => {
    const mSite = at(site, i)
    const m = object(raw, mSite)
    if (m.role !== 'user' && m.role !== 'assistant') throw fail(at(mSite, 'role'), "Input should be 'user' or 'assistant'")
    validateContent(m.content, at(mSite, 'content'))
  })
}

function validateContent(value: unknown, site: Site): void {
  if (typeof value === 'string') return
  if (value === undefined) throw fail(site, 'Field required')
  if (!Array.isArray(value)) throw fail(site, 'Input should be a valid string or list of content blocks')
  value.forEach((block, k) => {
    if (!isObject(block) || typeof block.type !== 'string') {
      throw fail(at(site, k), 'Input should be a content block with a `type`')
    }
    if (block.type === 'text' && typeof block.text !== 'string') throw fail(at(at(site, k), 'text'), 'Field required')
  })
}

function validateSystem(value: unknown, site: Site): void {
  if (isUnset(value) || typeof value === 'string') return
  list(value, site).forEach((block, i) => {
    if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string') {
      throw fail(at(site, i), "Input should be a text block ({type: 'text', text})")
    }
  })
}
