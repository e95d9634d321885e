// The conversion tables. Requests go source → ChatRequest → target and results go upstream
// format → ChatResult → dialect, so each table is keyed by a closed union and typed as a full
// Record: adding a format without its converter does not compile.

import type { ResultFormat } from '../core/batch'
import type { ChatRequest, ChatResult } from '../core/chat'
import type { Dialect } from '../core/provider-name'
import { countConverted } from '../ops/metrics'
import type { JsonObject } from './guards'
import { parseJsonLine } from './lines'
import { anthropicRequestToChat, validateAnthropicRequest } from './requests/anthropic-request'
import { type OpenAIBatchLine, openaiCheckedLineToChat, openaiLineToChat } from './requests/openai-line'
import { type AnthropicBatchItem, chatToAnthropicItem } from './requests/to-anthropic-item'
import { type BedrockRecord, chatToBedrockRecord } from './requests/to-bedrock-record'
import { chatToGeminiLine, type GeminiInputLine } from './requests/to-gemini-line'
import { chatToMistralLine, type MistralInputLine } from './requests/to-mistral-line'
import { chatToOpenAILine, type OpenAIInputLine } from './requests/to-openai-line'
import { anthropicResultLineToResult } from './results/anthropic-result'
import { bedrockOutRecordToResult } from './results/bedrock-out'
import { parseBedrockOutLine } from './results/bedrock-out-text'
import { geminiResponseLineToResult } from './results/gemini-response'
import { mistralOutputLineToResult } from './results/mistral-output'
import { openaiOutputLineToResult } from './results/openai-output'
import { vertexPredictionLineToResult } from './results/vertex-prediction'
import { type AnthropicResultLine, resultToAnthropicLine } from './results/to-anthropic-line'
import { type OpenAIOutputLine, openaiLineId, resultToOpenAILine } from './results/to-openai-line'

/** Where requests come from: OpenAI batch file lines, or items of an Anthropic create call. */
export type RequestSource = 'openai-line' | 'anthropic-request'
/** The provider-native request line each provider's batch input takes. */
export type RequestTarget = 'openai-line' | 'anthropic-item' | 'gemini-line' | 'bedrock-record' | 'mistral-line'

/**
 * `position` is each source's natural address: the 1-based file line for `openai-line`, the
 * 0-based index in `requests` for `anthropic-request` (errors name `requests.{index}…`).
 */
export const REQUEST_PARSERS: { [S in RequestSource]: (value: unknown, position: number) => ChatRequest } = {
  'openai-line': openaiLineToChat,
  'anthropic-request': anthropicRequestToChat,
}

export interface TargetLines {
  'openai-line': OpenAIInputLine
  'anthropic-item': AnthropicBatchItem
  'gemini-line': GeminiInputLine
  'bedrock-record': BedrockRecord
  'mistral-line': MistralInputLine
}

/** `line` only labels errors (a 1-based line or request number). */
export const REQUEST_SERIALIZERS: { [T in RequestTarget]: (req: ChatRequest, line?: number) => TargetLines[T] } = {
  'openai-line': chatToOpenAILine,
  'anthropic-item': chatToAnthropicItem,
  'gemini-line': chatToGeminiLine,
  'bedrock-record': chatToBedrockRecord,
  'mistral-line': chatToMistralLine,
}

/** The target that speaks a source's own format: such pairs skip the hub and lose nothing. */
export const NATIVE_TARGET: { readonly [S in RequestSource]: RequestTarget } = {
  'openai-line': 'openai-line',
  'anthropic-request': 'anthropic-item',
}

export function chatRequestWriter<T extends RequestTarget>(target: T): (req: ChatRequest, line?: number) => TargetLines[T] {
  const serialize = REQUEST_SERIALIZERS[target]
  const counted = countConverted('chat', target)
  return (req, line) => {
    counted()
    return serialize(req, line)
  }
}

/**
 * An already envelope-checked OpenAI batch line → the JSON text of the target's line. For the
 * OpenAI target the caller's line is re-serialized unchanged (any endpoint); every other target
 * goes through the hub, which accepts only chat.completions bodies.
 */
export function requestLineWriter(target: RequestTarget): (parsed: OpenAIBatchLine, line: number) => string {
  const counted = countConverted('openai-line', target)
  if (target === NATIVE_TARGET['openai-line']) {
    return (parsed) => {
      counted()
      return JSON.stringify({ custom_id: parsed.customId, method: parsed.method, url: parsed.url, body: parsed.body })
    }
  }
  const serialize = REQUEST_SERIALIZERS[target]
  // The envelope was checked once already (parseOpenAIBatchLine); only the body is converted here.
  return (parsed, line) => {
    counted()
    return JSON.stringify(serialize(openaiCheckedLineToChat(parsed, line), line))
  }
}

/** One Anthropic create-call item → the target's line as a value; Anthropic itself gets it unchanged. */
export function requestItemWriter(target: RequestTarget): (item: unknown, index: number) => unknown {
  const counted = countConverted('anthropic-request', target)
  if (target === NATIVE_TARGET['anthropic-request']) {
    return (item, index) => {
      counted()
      validateAnthropicRequest(item, index)
      return item
    }
  }
  const serialize = REQUEST_SERIALIZERS[target]
  // Items have no file lines; target errors then name the request by its custom_id.
  return (item, index) => {
    counted()
    return serialize(REQUEST_PARSERS['anthropic-request'](item, index))
  }
}

export interface ResultContext {
  /** The batch's model; Gemini and Nova replies may not name one. */
  model: string | null
}

export const RESULT_PARSERS: { [F in ResultFormat]: (value: unknown, line: number, ctx: ResultContext) => ChatResult } = {
  'openai-output': (value, line) => openaiOutputLineToResult(value, line),
  'anthropic-results': (value, line) => anthropicResultLineToResult(value, line),
  'gemini-responses': (value, line, ctx) => geminiResponseLineToResult(value, line, ctx.model ?? ''),
  'vertex-predictions': (value, line, ctx) => vertexPredictionLineToResult(value, line, ctx.model ?? ''),
  'bedrock-out': (value, line, ctx) => bedrockOutRecordToResult(value, line, ctx.model ?? ''),
  'mistral-output': (value, line) => mistralOutputLineToResult(value, line),
}

/** How a result line's text becomes a value: whole, except where a format has a cheaper reading. */
const RESULT_TEXT_READERS: { [F in ResultFormat]: (text: string, line: number) => unknown } = {
  'openai-output': parseJsonLine,
  'anthropic-results': parseJsonLine,
  'gemini-responses': parseJsonLine,
  'vertex-predictions': parseJsonLine,
  'bedrock-out': parseBedrockOutLine,
  'mistral-output': parseJsonLine,
}

/** A result line's text → ChatResult (parse errors and shape errors both name `line`). */
export function resultLineReader(format: ResultFormat, ctx: ResultContext): (text: string, line: number) => ChatResult {
  const read = RESULT_TEXT_READERS[format]
  const parse = resultLineParser(format, ctx)
  return (text, line) => parse(read(text, line), line)
}

export function resultLineParser(format: ResultFormat, ctx: ResultContext): (value: unknown, line: number) => ChatResult {
  const parse = RESULT_PARSERS[format]
  const counted = countConverted(format, 'chat')
  return (value, line) => {
    counted()
    return parse(value, line, ctx)
  }
}

export interface WriterContext {
  /** Fallback `created` for OpenAI lines whose reply has no timestamp (e.g. the batch's completion time). */
  created?: number
}

export interface DialectLines {
  openai: OpenAIOutputLine | JsonObject
  anthropic: AnthropicResultLine | JsonObject
}

export const RESULT_WRITERS: { [D in Dialect]: (result: ChatResult, ctx: WriterContext) => DialectLines[D] } = {
  openai: (result, ctx) => {
    const lineId = openaiLineId(result.customId)
    return resultToOpenAILine(result, ctx.created === undefined ? { lineId } : { lineId, created: ctx.created })
  },
  anthropic: (result) => resultToAnthropicLine(result),
}

export function resultLineWriter<D extends Dialect>(dialect: D, ctx: WriterContext = {}): (result: ChatResult) => DialectLines[D] {
  const write = RESULT_WRITERS[dialect]
  const counted = countConverted('chat', dialect)
  return (result) => {
    counted()
    return write(result, ctx)
  }
}
