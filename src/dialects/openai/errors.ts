// GatewayError → HTTP status + OpenAI's envelope {error:{message,type,param,code}}. The record is
// keyed by ErrorKind, so a new kind does not compile until this dialect handles it.

import { type ErrorKind, type GatewayError, upstreamClientStatus } from '../../errors'

interface Mapping {
  status: (e: GatewayError) => number
  type: (status: number) => string
  code: string | null
}

const byStatus = (status: number): string =>
  status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error'

const MAPPING: Record<ErrorKind, Mapping> = {
  invalid_request: { status: () => 400, type: () => 'invalid_request_error', code: null },
  unauthenticated: { status: () => 401, type: () => 'invalid_request_error', code: 'invalid_api_key' },
  not_found: { status: () => 404, type: () => 'invalid_request_error', code: null },
  conflict: { status: () => 400, type: () => 'invalid_request_error', code: null },
  too_large: { status: () => 413, type: () => 'invalid_request_error', code: 'limit_exceeded' },
  // What OpenAI itself answers when an account's quota is spent.
  quota_exceeded: { status: () => 429, type: () => 'insufficient_quota', code: 'insufficient_quota' },
  unsupported: { status: () => 400, type: () => 'invalid_request_error', code: 'unsupported_provider' },
  upstream: { status: upstreamClientStatus, type: byStatus, code: null },
  upstream_unreachable: { status: () => 502, type: () => 'server_error', code: 'upstream_unreachable' },
  upstream_timeout: { status: () => 504, type: () => 'server_error', code: 'upstream_timeout' },
  internal: { status: () => 500, type: () => 'server_error', code: null },
}

export interface OpenAIErrorReply {
  status: number
  body: { error: { message: string; type: string; param: string | null; code: string | null } }
}

export function toOpenAIError(e: GatewayError): OpenAIErrorReply {
  const m = MAPPING[e.kind]
  const status = m.status(e)
  return {
    status,
    body: {
      error: {
        message: e.message,
        type: m.type(status),
        param: e.details.param ?? null,
        code: e.details.code ?? m.code,
      },
    },
  }
}
