// One Anthropic Message Batch request item `{custom_id, params}` → neutral ChatRequest, for
// batches that go to OpenAI, Gemini or Bedrock. Anthropic's own rules are checked first
// (validateAnthropicRequest, also used for pass-through), then every params field is either
// mapped, explicitly ignored (anthropic-fields.ts) or rejected.

import type { ChatRequest, ChatTool, ChatToolChoice } from '../../core/chat'
import {
  at,
  fail,
  isUnset,
  list,
  nonEmptyString,
  object,
  onlyDefault,
  onlyKeys,
  optionalNumber,
  optionalString,
  type Site,
  string,
} from '../guards'
import { anthropicMessagesToChat, anthropicSystemToChat } from './anthropic-content'
import { checkAnthropicParamsFields } from './anthropic-fields'
import { validateAnthropicRequest } from './anthropic-validate'

export { validateAnthropicRequest } from './anthropic-validate'

const TARGETS = 'OpenAI, Gemini or Bedrock'

/** `index` is the item's 0-based position in `requests`; errors name `requests.{index}.params…`. */
export function anthropicRequestToChat(value: unknown, index: number): ChatRequest {
  const customId = validateAnthropicRequest(value, index)
  const site: Site = { param: `requests.${index}.params` }
  // validateAnthropicRequest proved `value.params` is an object with these fields well-typed.
  const params = object(object(value, { param: `requests.${index}` }).params, site)
  checkAnthropicParamsFields(params, site)
  return {
    customId,
    model: nonEmptyString(params.model, at(site, 'model')),
    system: anthropicSystemToChat(params.system, at(site, 'system')),
    messages: anthropicMessagesToChat(params.messages, at(site, 'messages')),
    maxTokens: optionalNumber(params.max_tokens, at(site, 'max_tokens'), { min: 1, integer: true }),
    temperature: optionalNumber(params.temperature, at(site, 'temperature')),
    topP: optionalNumber(params.top_p, at(site, 'top_p')),
    topK: optionalNumber(params.top_k, at(site, 'top_k')),
    stop: isUnset(params.stop_sequences) ? [] : list(params.stop_sequences, at(site, 'stop_sequences')).map((s, i) => string(s, at(at(site, 'stop_sequences'), i))),
    tools: isUnset(params.tools) ? [] : list(params.tools, at(site, 'tools')).map((t, i) => tool(t, at(at(site, 'tools'), i))),
    toolChoice: toolChoice(params.tool_choice, at(site, 'tool_choice')),
    user: user(params.metadata, at(site, 'metadata')),
  }
}

function tool(value: unknown, site: Site): ChatTool {
  const t = object(value, site)
  // Server tools (web search, bash, …) carry a versioned `type`; only client tools convert.
  if (!isUnset(t.type) && t.type !== 'custom') {
    throw fail(at(site, 'type'), `tool type '${String(t.type)}' runs on Anthropic's servers and cannot be converted to ${TARGETS}`)
  }
  onlyKeys(t, ['type', 'name', 'description', 'input_schema', 'cache_control', 'strict'], site)
  onlyDefault(t.strict, at(site, 'strict'), [false], `strict tool schemas cannot be converted to ${TARGETS}`)
  const description = optionalString(t.description, at(site, 'description'))
  return {
    name: nonEmptyString(t.name, at(site, 'name')),
    ...(description === null ? {} : { description }),
    parameters: object(t.input_schema, at(site, 'input_schema')),
  }
}

function toolChoice(value: unknown, site: Site): ChatToolChoice | null {
  if (isUnset(value)) return null
  const c = object(value, site)
  onlyKeys(c, ['type', 'name', 'disable_parallel_tool_use'], site)
  onlyDefault(c.disable_parallel_tool_use, at(site, 'disable_parallel_tool_use'), [false], `cannot be converted to ${TARGETS}`)
  switch (c.type) {
    case 'auto':
    case 'any':
    case 'none':
      if (c.name !== undefined) throw fail(at(site, 'name'), `only allowed when type is 'tool'`)
      return { type: c.type }
    case 'tool':
      return { type: 'tool', name: nonEmptyString(c.name, at(site, 'name')) }
    default:
      throw fail(at(site, 'type'), "must be 'auto', 'any', 'none' or 'tool'")
  }
}

function user(value: unknown, site: Site): string | null {
  if (isUnset(value)) return null
  const metadata = object(value, site)
  onlyKeys(metadata, ['user_id'], site)
  return optionalString(metadata.user_id, at(site, 'user_id'))
}
