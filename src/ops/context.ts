// The request a piece of code runs for, carried by AsyncLocalStorage: every log line, metric and
// upstream call made while serving a request can name it without the id being threaded through
// every signature. Background work (start-up reconciliation) has no request and logs without one.

import { AsyncLocalStorage } from 'node:async_hooks'
import type { Span } from '@opentelemetry/api'

export interface RequestContext {
  readonly requestId: string
  readonly method: string
  /** `openai`, `anthropic`, or `none` for /health, /metrics, /docs and unknown paths. */
  readonly dialect: string
  /** The route template (`/openai/v1/files/:id`); unset until routing, `unmatched` if none. */
  route?: string
  tenant?: string
  /** The first provider the request used (registry lookups name it). */
  provider?: string
  /** Request ids the upstreams answered with, in call order, deduplicated and capped. */
  readonly upstreamIds: string[]
  /** The request's trace span when tracing is on; upstream and conversion spans are its children. */
  span?: Span
}

const storage = new AsyncLocalStorage<RequestContext>()

export const currentRequest = (): RequestContext | undefined => storage.getStore()

export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn)
}

/**
 * Runs work that outlives the request it was started from (an emulated run kicked by a create)
 * with no request: its log lines and spans must not name a request that has long answered.
 */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(fn)
}

/** Called where a provider adapter is chosen; the first one named is the request's provider. */
export function noteProvider(name: string): void {
  const ctx = storage.getStore()
  if (ctx && ctx.provider === undefined) ctx.provider = name
}

const MAX_UPSTREAM_IDS = 16

export function noteUpstreamId(id: string): void {
  const ctx = storage.getStore()
  if (!ctx || ctx.upstreamIds.length >= MAX_UPSTREAM_IDS || ctx.upstreamIds.includes(id)) return
  ctx.upstreamIds.push(id)
}

/**
 * A caller's `x-request-id` is kept when it is a plain token (it lands in logs and headers, so
 * nothing that could split a line or smuggle markup); otherwise the gateway makes its own.
 */
const SANE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export function requestIdFor(incoming: string | null): string {
  if (incoming && SANE_ID.test(incoming)) return incoming
  return `req_${crypto.randomUUID().replaceAll('-', '')}`
}
