// Error classes across the wire formats. Statuses are the common language: OpenAI, Gemini and
// Bedrock result lines carry one; Anthropic result lines carry only a type, whose documented
// status (anthropic.md, error shape) is used instead.

import type { ChatErrorType } from '../../core/chat'

export function errorTypeFromStatus(status: number): ChatErrorType {
  if (status === 401) return 'authentication'
  if (status === 402 || status === 403) return 'permission'
  if (status === 404) return 'not_found'
  if (status === 408 || status === 504) return 'timeout'
  if (status === 429) return 'rate_limit'
  if (status === 503 || status === 529) return 'overloaded'
  if (status >= 400 && status < 500) return 'invalid_request'
  return 'server_error'
}

/** Anthropic error type → neutral type and the HTTP status Anthropic documents for it. */
const FROM_ANTHROPIC: Readonly<Record<string, { type: ChatErrorType; status: number }>> = {
  invalid_request_error: { type: 'invalid_request', status: 400 },
  authentication_error: { type: 'authentication', status: 401 },
  billing_error: { type: 'permission', status: 402 },
  permission_error: { type: 'permission', status: 403 },
  not_found_error: { type: 'not_found', status: 404 },
  conflict_error: { type: 'invalid_request', status: 409 },
  request_too_large: { type: 'invalid_request', status: 413 },
  rate_limit_error: { type: 'rate_limit', status: 429 },
  api_error: { type: 'server_error', status: 500 },
  timeout_error: { type: 'timeout', status: 504 },
  overloaded_error: { type: 'overloaded', status: 529 },
}

export function fromAnthropicErrorType(type: string): { type: ChatErrorType; status: number } {
  return FROM_ANTHROPIC[type] ?? { type: 'server_error', status: 500 }
}

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error'

export function toAnthropicErrorType(type: ChatErrorType): AnthropicErrorType {
  switch (type) {
    case 'invalid_request':
      return 'invalid_request_error'
    case 'authentication':
      return 'authentication_error'
    case 'permission':
      return 'permission_error'
    case 'not_found':
      return 'not_found_error'
    case 'rate_limit':
      return 'rate_limit_error'
    case 'server_error':
      return 'api_error'
    case 'overloaded':
      return 'overloaded_error'
    case 'timeout':
      return 'timeout_error'
    default:
      return type satisfies never
  }
}

/** OpenAI's envelope `type`; SDKs pick the exception class from the status, so this is informative. */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error'

export function toOpenAIErrorType(type: ChatErrorType): OpenAIErrorType {
  switch (type) {
    case 'invalid_request':
    case 'not_found':
      return 'invalid_request_error'
    case 'authentication':
      return 'authentication_error'
    case 'permission':
      return 'permission_error'
    case 'rate_limit':
      return 'rate_limit_error'
    case 'server_error':
    case 'overloaded':
      return 'server_error'
    case 'timeout':
      return 'timeout_error'
    default:
      return type satisfies never
  }
}
