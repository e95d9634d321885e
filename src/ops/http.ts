// Wraps the app's fetch handler: gives every request its id (kept from a sane incoming
// `x-request-id`), runs it inside its RequestContext, answers with the id in `x-request-id` and
// `request-id`, and when the last byte has gone out writes the access-log line and the HTTP
// metrics and ends its trace span. Streamed bodies (file content, results) are pulled inside the context too, so the
// upstream calls and log lines they cause still name the request.

import { log } from '../log'
import { type RequestContext, requestIdFor, runInRequest } from './context'
import { httpDuration, httpRequests, inflightUploads, instrumentationOn, transferBytes } from './metrics'
import { endRequestSpan, startRequestSpan } from './tracing'

export type Handler = (req: Request) => Promise<Response>

export function dialectOfPath(path: string): string {
  if (path.startsWith('/openai/') || path === '/openai') return 'openai'
  if (path.startsWith('/anthropic/') || path === '/anthropic') return 'anthropic'
  return 'none'
}

/** Routes whose answers are streams of any size; every other answer is a small JSON document. */
const STREAMED = /\/(?:content|results)\/?$/
const UPLOAD = /\/files\/?$/

export function observeRequests(handle: Handler): Handler {
  return async (req) => {
    const start = performance.now()
    const path = pathOf(req.url)
    const ctx: RequestContext = {
      requestId: requestIdFor(req.headers.get('x-request-id')),
      method: req.method,
      dialect: dialectOfPath(path),
      upstreamIds: [],
    }
    if (!instrumentationOn()) return withIds(await runInRequest(ctx, () => handle(req)), ctx, null)
    ctx.span = startRequestSpan(req, ctx.method, ctx.requestId)
    const upload = req.method === 'POST' && UPLOAD.test(path)
    if (upload) inflightUploads.inc()
    let res: Response
    try {
      res = await runInRequest(ctx, () => handle(req))
    } catch (err) {
      if (upload) inflightUploads.dec()
      finish(ctx, req, 500, 0, start)
      throw err
    }
    const done = (bytesOut: number) => {
      if (upload) inflightUploads.dec()
      finish(ctx, req, res.status, bytesOut, start)
    }
    if (res.body === null) {
      done(0)
      return withIds(res, ctx, null)
    }
    const declared = res.headers.get('content-length')
    if (!STREAMED.test(path) && declared === null) {
      // Small JSON: read once so the client still gets a Content-Length, and the size is known.
      const bytes = await res.arrayBuffer()
      done(bytes.byteLength)
      return withIds(res, ctx, bytes)
    }
    return withIds(res, ctx, counted(res.body, ctx, done))
  }
}

function pathOf(url: string): string {
  const afterScheme = url.indexOf('//')
  const slash = url.indexOf('/', afterScheme + 2)
  if (slash < 0) return '/'
  const query = url.indexOf('?', slash)
  return query < 0 ? url.slice(slash) : url.slice(slash, query)
}

function withIds(res: Response, ctx: RequestContext, body: ArrayBuffer | ReadableStream<Uint8Array> | null): Response {
  const headers = new Headers(res.headers)
  headers.set('x-request-id', ctx.requestId)
  headers.set('request-id', ctx.requestId)
  return new Response(body ?? res.body, { status: res.status, statusText: res.statusText, headers })
}

/** The body as the client reads it: pulled inside the request's context, counted, then logged. */
function counted(body: ReadableStream<Uint8Array>, ctx: RequestContext, done: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let bytes = 0
  let finished = false
  const end = () => {
    if (finished) return
    finished = true
    done(bytes)
  }
  return new ReadableStream<Uint8Array>({
    pull: (controller) =>
      runInRequest(ctx, async () => {
        try {
          const { done: last, value } = await reader.read()
          if (last) {
            controller.close()
            end()
            return
          }
          bytes += value.byteLength
          controller.enqueue(value)
        } catch (err) {
          controller.error(err)
          end()
        }
      }),
    cancel: async (reason) => {
      end()
      await reader.cancel(reason)
    },
  })
}

function finish(ctx: RequestContext, req: Request, status: number, bytesOut: number, start: number): void {
  const seconds = (performance.now() - start) / 1000
  const route = ctx.route ?? 'unmatched'
  const provider = ctx.provider ?? 'none'
  const bytesIn = Number(req.headers.get('content-length') ?? 0) || 0
  endRequestSpan(ctx.span, route, status, {
    'http.request.method': ctx.method,
    'batchgate.dialect': ctx.dialect,
    'batchgate.provider': provider,
    'batchgate.tenant': ctx.tenant ?? '',
    'batchgate.bytes_in': bytesIn,
    'batchgate.bytes_out': bytesOut,
  })
  httpRequests.inc({ dialect: ctx.dialect, route, method: ctx.method, status: String(status) })
  httpDuration.observe({ dialect: ctx.dialect, route, method: ctx.method }, seconds)
  if (bytesIn > 0) transferBytes.inc({ provider, direction: 'client_in' }, bytesIn)
  if (bytesOut > 0) transferBytes.inc({ provider, direction: 'client_out' }, bytesOut)
  log('info', 'request', {
    request_id: ctx.requestId,
    tenant: ctx.tenant ?? null,
    dialect: ctx.dialect,
    method: ctx.method,
    route,
    provider: ctx.provider ?? null,
    status,
    duration_ms: Math.round(seconds * 100_000) / 100,
    bytes_in: bytesIn,
    bytes_out: bytesOut,
    upstream_request_ids: ctx.upstreamIds,
  })
}
