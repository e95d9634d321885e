// Neutral ChatRequest → Anthropic Messages params, and the Bedrock InvokeModel variant of the
// same body (no model, no stream, `anthropic_version` added; bedrock.md §2.1).

import type { ChatMessage, ChatPart, ChatRequest, ChatToolChoice } from '../../core/chat'
import { ANTHROPIC_IMAGE_TYPES } from '../requests/anthropic-content'
import { checkTemperatureAtMostOne, type TargetName, unsupported } from './unsupported'

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: true }

export interface AnthropicMessage {
  role: 'user' | 'assistant'
  content: AnthropicBlock[]
}

export type AnthropicToolChoice = { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string }

/** The fields Anthropic and Bedrock share; `model`/`metadata` exist only on Anthropic's own API. */
export interface AnthropicCommonBody {
  max_tokens: number
  messages: AnthropicMessage[]
  system?: string
  temperature?: number
  top_p?: number
  top_k?: number
  stop_sequences?: string[]
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>
  tool_choice?: AnthropicToolChoice
}

export interface AnthropicParams extends AnthropicCommonBody {
  model: string
  metadata?: { user_id: string }
}

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31'

export interface BedrockAnthropicBody extends AnthropicCommonBody {
  anthropic_version: typeof BEDROCK_ANTHROPIC_VERSION
}

export function chatToAnthropicParams(req: ChatRequest, line?: number): AnthropicParams {
  const params: AnthropicParams = { model: req.model, ...commonBody(req, line, 'Anthropic') }
  if (req.user !== null) params.metadata = { user_id: req.user }
  return params
}

/** `user` is not sent: Bedrock's Claude body has no `metadata` and rejects unknown keys. */
export function chatToBedrockAnthropic(req: ChatRequest, line?: number): BedrockAnthropicBody {
  return { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...commonBody(req, line, 'Bedrock (anthropic.*)') }
}

function commonBody(req: ChatRequest, line: number | undefined, target: TargetName): AnthropicCommonBody {
  // Anthropic has no default output length; inventing one would silently cap or waste tokens.
  if (req.maxTokens === null) throw unsupported(req, line, 'max_tokens', target, 'it is required there; set max_tokens or max_completion_tokens')
  checkTemperatureAtMostOne(req, line, target)
  const body: AnthropicCommonBody = {
    max_tokens: req.maxTokens,
    messages: req.messages.map((m) => anthropicMessage(req, m, line, target)),
  }
  if (req.system !== null) body.system = req.system
  if (req.temperature !== null) body.temperature = req.temperature
  if (req.topP !== null) body.top_p = req.topP
  if (req.topK !== null) body.top_k = req.topK
  if (req.stop.length > 0) body.stop_sequences = req.stop
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      input_schema: t.parameters,
    }))
  }
  if (req.toolChoice !== null) body.tool_choice = anthropicToolChoice(req.toolChoice)
  return body
}

function anthropicToolChoice(choice: ChatToolChoice): AnthropicToolChoice {
  switch (choice.type) {
    case 'auto':
    case 'any':
    case 'none':
      return { type: choice.type }
    case 'tool':
      return { type: 'tool', name: choice.name }
    default:
      return choice satisfies never
  }
}

function anthropicMessage(req: ChatRequest, m: ChatMessage, line: number | undefined, target: TargetName): AnthropicMessage {
  return { role: m.role, content: m.content.map((part) => anthropicBlock(req, part, line, target)) }
}

function anthropicBlock(req: ChatRequest, part: ChatPart, line: number | undefined, target: TargetName): AnthropicBlock {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text }
    case 'image':
      if (!(ANTHROPIC_IMAGE_TYPES as readonly string[]).includes(part.mediaType)) {
        throw unsupported(req, line, 'image', target, `media type ${part.mediaType} is not one of ${ANTHROPIC_IMAGE_TYPES.join(', ')}`)
      }
      return { type: 'image', source: { type: 'base64', media_type: part.mediaType, data: part.data } }
    case 'image_url':
      // Anthropic fetches URL images itself; Bedrock's Claude body only takes base64 sources.
      if (target !== 'Anthropic') throw unsupported(req, line, 'image_url', target, 'only base64 images are accepted; send a data: URL')
      return { type: 'image', source: { type: 'url', url: part.url } }
    case 'tool_use':
      return { type: 'tool_use', id: part.id, name: part.name, input: part.input }
    case 'tool_result':
      return {
        type: 'tool_result',
        tool_use_id: part.toolUseId,
        content: part.content,
        ...(part.isError ? { is_error: true as const } : {}),
      }
    default:
      return part satisfies never
  }
}
