// The provider-neutral shape of one batch request and one batch result. Every request converter
// goes source → ChatRequest → target, and every result converter source → ChatResult → dialect,
// so N formats need N+M converters instead of N×M (see convert/pairs.ts).

export type ChatRole = 'user' | 'assistant'

export type ChatPart =
  | { type: 'text'; text: string }
  | { type: 'image'; mediaType: string; data: string } // base64 data
  | { type: 'image_url'; url: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; content: string; isError?: boolean }

export interface ChatMessage {
  role: ChatRole
  content: ChatPart[]
}

export interface ChatTool {
  name: string
  description?: string
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>
}

export type ChatToolChoice = { type: 'auto' } | { type: 'any' } | { type: 'none' } | { type: 'tool'; name: string }

export interface ChatRequest {
  /** The caller's id for this request (OpenAI/Anthropic `custom_id`). */
  customId: string
  model: string
  system: string | null
  messages: ChatMessage[]
  maxTokens: number | null
  temperature: number | null
  topP: number | null
  topK: number | null
  stop: string[]
  tools: ChatTool[]
  toolChoice: ChatToolChoice | null
  /** Caller-provided end-user id / metadata, carried where the target has a place for it. */
  user: string | null
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal' | 'other'

export interface ChatUsage {
  inputTokens: number
  outputTokens: number
  /** Of inputTokens, those read from a prompt cache (settled usage, issue 15). */
  cachedInputTokens?: number
  /** Of outputTokens, those spent on reasoning/thinking. */
  reasoningTokens?: number
}

export interface ChatReply {
  id: string
  model: string
  content: Array<Extract<ChatPart, { type: 'text' } | { type: 'tool_use' }>>
  stopReason: StopReason
  stopSequence: string | null
  usage: ChatUsage
  createdAt: number | null // unix seconds when known
}

/** Neutral error classes; dialects map them to their own error types. */
export type ChatErrorType =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'rate_limit'
  | 'server_error'
  | 'overloaded'
  | 'timeout'

export type ChatResult =
  | { customId: string; type: 'succeeded'; reply: ChatReply; requestId: string | null; raw?: unknown }
  | {
      customId: string
      type: 'errored'
      error: { type: ChatErrorType; message: string; status: number; code: string | null }
      requestId: string | null
    }
  | { customId: string; type: 'canceled' }
  | { customId: string; type: 'expired' }
