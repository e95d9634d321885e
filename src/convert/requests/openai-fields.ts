// What happens to every top-level field of an OpenAI chat.completions body on its way into the
// neutral ChatRequest. The table is the single source of truth: the parser enforces it and the
// docs/conversions.md tests check that each key is documented. Keys not listed are errors.

import type { JsonObject, Site } from '../guards'
import { checkFields, type FieldRule, MAPPED as mapped, rejected } from './field-rules'

const onlyValues =
  (...values: unknown[]) =>
  (v: unknown): boolean =>
    values.includes(v)

/** Errors name the targets: a field is only checked when it leaves OpenAI for another provider. */
const TARGETS = 'Anthropic, Gemini or Bedrock'
const NO_EQUIVALENT = "batchgate's provider-neutral request has no place for it"

export const OPENAI_CHAT_FIELDS = {
  model: mapped,
  messages: mapped,
  max_tokens: mapped,
  max_completion_tokens: mapped,
  temperature: mapped,
  top_p: mapped,
  stop: mapped,
  tools: mapped,
  tool_choice: mapped,
  user: mapped,
  safety_identifier: mapped,
  n: { kind: 'default-only', harmless: onlyValues(1), why: 'only n = 1 can be converted (one reply per request)' },
  stream: { kind: 'default-only', harmless: onlyValues(false), why: 'batch requests cannot stream' },
  parallel_tool_calls: {
    kind: 'default-only',
    harmless: onlyValues(true),
    why: 'only true (the default) can be converted; the neutral request cannot forbid parallel tool calls',
  },
  logprobs: { kind: 'default-only', harmless: onlyValues(false), why: `log probabilities: ${NO_EQUIVALENT}` },
  presence_penalty: { kind: 'default-only', harmless: onlyValues(0), why: `only 0 can be converted; ${NO_EQUIVALENT}` },
  frequency_penalty: { kind: 'default-only', harmless: onlyValues(0), why: `only 0 can be converted; ${NO_EQUIVALENT}` },
  logit_bias: {
    kind: 'default-only',
    harmless: (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 0,
    why: `only {} can be converted; ${NO_EQUIVALENT}`,
  },
  response_format: {
    kind: 'default-only',
    harmless: (v) => typeof v === 'object' && v !== null && (v as JsonObject).type === 'text' && Object.keys(v).length === 1,
    why: `only {"type":"text"} can be converted; structured output modes: ${NO_EQUIVALENT}`,
  },
  modalities: {
    kind: 'default-only',
    harmless: (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text',
    why: 'only ["text"] can be converted',
  },
  store: {
    kind: 'default-only',
    harmless: onlyValues(false),
    why: 'store: true asks OpenAI to keep the completion; other providers cannot',
  },
  service_tier: {
    kind: 'default-only',
    harmless: onlyValues('auto', 'default'),
    why: "only 'auto' or 'default' can be converted; batch jobs have no per-request tier elsewhere",
  },
  metadata: { kind: 'ignored', why: 'tags for stored completions; they never change the reply' },
  prompt_cache_key: { kind: 'ignored', why: 'a cache-routing hint; it never changes the reply' },
  prompt_cache_retention: { kind: 'ignored', why: 'a cache-lifetime hint; it never changes the reply' },
  audio: rejected(`audio output: ${NO_EQUIVALENT}`),
  function_call: rejected('legacy function calling: use tools / tool_choice'),
  functions: rejected('legacy function calling: use tools / tool_choice'),
  moderation: rejected(`OpenAI moderation settings: ${NO_EQUIVALENT}`),
  prediction: rejected(`predicted outputs: ${NO_EQUIVALENT}`),
  prompt_cache_options: rejected('prompt cache options cannot be converted'),
  reasoning_effort: rejected('reasoning effort has no portable equivalent in batchgate'),
  seed: rejected(`deterministic sampling seeds: ${NO_EQUIVALENT}`),
  stream_options: rejected('batch requests cannot stream'),
  top_logprobs: rejected(`log probabilities: ${NO_EQUIVALENT}`),
  verbosity: rejected('verbosity has no portable equivalent in batchgate'),
  web_search_options: rejected('OpenAI web search cannot be converted'),
} as const satisfies Record<string, FieldRule>

export type OpenAIChatField = keyof typeof OPENAI_CHAT_FIELDS

/** Throws on the first body field that is unknown, rejected, or set to a value that cannot be honoured. */
export function checkOpenAIChatFields(body: JsonObject, site: Site): void {
  checkFields(OPENAI_CHAT_FIELDS, body, site, TARGETS)
}
