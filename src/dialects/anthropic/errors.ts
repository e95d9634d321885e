// GatewayError → HTTP status + Anthropic's envelope {type:"error", error:{type,message}, request_id}.
// Keyed by ErrorKind so a new kind does not compile until this dialect handles it.

import { type ErrorKind, type GatewayError, upstreamClientStatus } from '../../errors'

const byStatus = (status: number): string => {
  if (status === 401) return 'authentication_error'
  if (status === 402) return 'billing_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 413) return 'request_too_large'
  if (status === 429) return 'rate_limit_error'
  if (status === 504) return 'timeout_error'
  if (status === 529 || status === 503) return 'overloaded_error'
  if (status >= 500) return 'api_error'
  return 'invalid_request_error'
}

const STATUS: Record<ErrorKind, (e: GatewayError) => number> = {
  invalid_request: () => 400,
  unauthenticated: () => 401,
  not_found: () => 404,
  conflict: () => 400,
  too_large: () => 413,
  // Anthropic has no quota error type; 429 maps to rate_limit_error with the budget in the message.
  quota_exceeded: () => 429,
  unsupported: () => 400,
  upstream: upstreamClientStatus,
  upstream_unreachable: () => 502,
  upstream_timeout: () => 504,
  internal: () => 500,
}

export interface AnthropicErrorReply {
  status: number
  body: { type: 'error'; error: { type: string; message: string }; request_id: string }
}

export function toAnthropicError(e: GatewayError, requestId: string): AnthropicErrorReply {
  const status = STATUS[e.kind](e)
  // 413 has its own type at Anthropic; every other client error is an invalid request.
  const type = e.kind === 'too_large' ? 'request_too_large' : byStatus(status)
  return { status, body: { type: 'error', error: { type, message: e.message }, request_id: requestId } }
}
