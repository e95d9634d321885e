// Neutral ChatRequest → OpenAI `/v1/chat/completions` body (model included).

import type { ChatMessage, ChatRequest, ChatToolChoice } from '../../core/chat'
import { unsupported } from './unsupported'

export type OpenAIContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }

export interface OpenAIToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export type OpenAIMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | OpenAIContentPart[] }
  | { role: 'assistant'; content: string | Array<{ type: 'text'; text: string }> | null; tool_calls?: OpenAIToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string }

export type OpenAIToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }

export interface OpenAIChatBody {
  model: string
  messages: OpenAIMessage[]
  max_completion_tokens?: number
  temperature?: number
  top_p?: number
  stop?: string[]
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: Record<string, unknown> } }>
  tool_choice?: OpenAIToolChoice
  user?: string
}

const TARGET = 'OpenAI'

export function chatToOpenAIBody(req: ChatRequest, line?: number): OpenAIChatBody {
  if (req.topK !== null) throw unsupported(req, line, 'top_k', TARGET, 'chat.completions has no top_k')
  const messages: OpenAIMessage[] = req.system === null ? [] : [{ role: 'system', content: req.system }]
  for (const m of req.messages) messages.push(...openaiMessages(req, m, line))
  const body: OpenAIChatBody = { model: req.model, messages }
  // max_completion_tokens replaces the deprecated max_tokens and is the only one o-series models take.
  if (req.maxTokens !== null) body.max_completion_tokens = req.maxTokens
  if (req.temperature !== null) body.temperature = req.temperature
  if (req.topP !== null) body.top_p = req.topP
  if (req.stop.length > 0) body.stop = req.stop
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parameters: t.parameters },
    }))
  }
  if (req.toolChoice !== null) body.tool_choice = openaiToolChoice(req.toolChoice)
  if (req.user !== null) body.user = req.user
  return body
}

function openaiToolChoice(choice: ChatToolChoice): OpenAIToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto'
    case 'none':
      return 'none'
    case 'any':
      return 'required'
    case 'tool':
      return { type: 'function', function: { name: choice.name } }
    default:
      return choice satisfies never
  }
}

/** One neutral message may become several OpenAI ones: each tool result is its own `tool` message. */
function openaiMessages(req: ChatRequest, m: ChatMessage, line: number | undefined): OpenAIMessage[] {
  if (m.role === 'assistant') return [assistantMessage(req, m, line)]
  const tools: OpenAIMessage[] = []
  const parts: OpenAIContentPart[] = []
  for (const part of m.content) {
    switch (part.type) {
      case 'tool_result':
        // OpenAI tool messages have no error flag; dropping it would change what the model sees.
        if (part.isError) throw unsupported(req, line, 'is_error', TARGET, 'tool messages cannot mark a result as an error')
        tools.push({ role: 'tool', tool_call_id: part.toolUseId, content: part.content })
        break
      case 'text':
        parts.push({ type: 'text', text: part.text })
        break
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: `data:${part.mediaType};base64,${part.data}` } })
        break
      case 'image_url':
        parts.push({ type: 'image_url', image_url: { url: part.url } })
        break
      case 'tool_use':
        throw unsupported(req, line, 'tool_use', TARGET, 'only assistant messages can call tools')
      default:
        part satisfies never
    }
  }
  if (parts.length === 0) return tools
  const only = parts[0]
  const content = parts.length === 1 && only?.type === 'text' ? only.text : parts
  return [...tools, { role: 'user', content }]
}

function assistantMessage(req: ChatRequest, m: ChatMessage, line: number | undefined): OpenAIMessage {
  const texts: Array<{ type: 'text'; text: string }> = []
  const calls: OpenAIToolCall[] = []
  for (const part of m.content) {
    switch (part.type) {
      case 'text':
        texts.push({ type: 'text', text: part.text })
        break
      case 'tool_use':
        calls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: JSON.stringify(part.input) } })
        break
      case 'image':
      case 'image_url':
      case 'tool_result':
        throw unsupported(req, line, part.type, TARGET, 'assistant messages carry only text and tool calls')
      default:
        part satisfies never
    }
  }
  const first = texts[0]
  const content = texts.length === 0 ? null : texts.length === 1 && first ? first.text : texts
  return calls.length === 0 ? { role: 'assistant', content } : { role: 'assistant', content, tool_calls: calls }
}

