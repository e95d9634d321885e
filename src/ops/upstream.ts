// One provider call, observed: its duration, status, retries, bytes each way, the request id
// the provider gave it, and a CLIENT span whose `traceparent` goes with the call. upstreamFetch calls this once per attempt; the SDKs' HTTP (openai,
// @google/genai) is sent through upstreamFetch too.

import type { Attributes, Span } from '@opentelemetry/api'
import { noteUpstreamId } from './context'
import { instrumentationOn, operationLabel, transferBytes, upstreamDuration, upstreamRequests, upstreamRetries } from './metrics'
import { endSpan, startUpstreamSpan, tracingOn } from './tracing'

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>

export interface UpstreamAttempt {
  provider: string
  /** The call's fixed description (`create batch`); becomes the `operation` label. */
  what: string
  /** 0 for the first try, 1… for retries. */
  attempt: number
}

/** Where providers put the id of a request (OpenAI, Anthropic, AWS, S3, Google front ends). */
const ID_HEADERS = ['x-request-id', 'request-id', 'x-amzn-requestid', 'x-amz-request-id', 'x-goog-request-id'] as const

export async function observedFetch(call: UpstreamAttempt, url: string, init: RequestInit, doFetch: Fetcher): Promise<Response> {
  if (!instrumentationOn()) return doFetch(url, init)
  const provider = call.provider
  const operation = operationLabel(call.what)
  if (call.attempt > 0) upstreamRetries.inc({ provider, operation })
  const sent = bodyBytes(init)
  if (sent > 0) transferBytes.inc({ provider, direction: 'upstream_out' }, sent)
  else if (init.body instanceof ReadableStream) init = { ...init, body: countedStream(init.body, provider, 'upstream_out') }
  let span: Span | undefined
  if (tracingOn()) {
    const headers = new Headers(init.headers)
    span = startUpstreamSpan(`${provider} ${operation}`, spanAttributes(call, operation, url, init), headers)
    init = { ...init, headers }
  }
  const start = performance.now()
  let res: Response
  try {
    res = await doFetch(url, init)
  } catch (err) {
    const status = init.signal?.aborted ? 'timeout' : 'network'
    upstreamRequests.inc({ provider, operation, status })
    upstreamDuration.observe({ provider, operation }, (performance.now() - start) / 1000)
    endSpan(span, { 'error.type': status }, true)
    throw err
  }
  upstreamRequests.inc({ provider, operation, status: String(res.status) })
  upstreamDuration.observe({ provider, operation }, (performance.now() - start) / 1000)
  let upstreamId: string | undefined
  for (const name of ID_HEADERS) {
    const id = res.headers.get(name)
    if (!id) continue
    upstreamId ??= id.slice(0, 200)
    noteUpstreamId(id.slice(0, 200))
  }
  endSpan(span, { 'http.response.status_code': res.status, ...(upstreamId ? { 'batchgate.upstream_request_id': upstreamId } : {}) }, res.status >= 500)
  return countReceived(res, provider)
}

/** Where the call went (host only: paths carry upstream ids, queries may carry capabilities). */
function spanAttributes(call: UpstreamAttempt, operation: string, url: string, init: RequestInit): Attributes {
  let host = ''
  try {
    host = new URL(url).host
  } catch {
    // An unparsable URL fails in fetch; the span just has no address.
  }
  return {
    'batchgate.provider': call.provider,
    'batchgate.operation': operation,
    'batchgate.attempt': call.attempt,
    'http.request.method': (init.method ?? 'GET').toUpperCase(),
    'server.address': host,
  }
}

/** The bytes of a request body where they are known without reading it. */
function bodyBytes(init: RequestInit): number {
  const body = init.body
  if (body === undefined || body === null) return 0
  if (typeof body === 'string') return Buffer.byteLength(body)
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength
  if (body instanceof Blob) return body.size
  // Streams: a declared length counts now, others as they are sent.
  const declared = new Headers(init.headers).get('content-length')
  return declared ? Number(declared) || 0 : 0
}

/** A declared length is counted at once; a chunked answer is counted as it is read. */
function countReceived(res: Response, provider: string): Response {
  const declared = res.headers.get('content-length')
  if (declared !== null || res.body === null) {
    const n = Number(declared ?? 0)
    if (n > 0) transferBytes.inc({ provider, direction: 'upstream_in' }, n)
    return res
  }
  return new Response(countedStream(res.body, provider, 'upstream_in'), { status: res.status, statusText: res.statusText, headers: res.headers })
}

function countedStream(body: ReadableStream<Uint8Array>, provider: string, direction: string): ReadableStream<Uint8Array> {
  let n = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        n += chunk.byteLength
        controller.enqueue(chunk)
      },
      flush() {
        if (n > 0) transferBytes.inc({ provider, direction }, n)
      },
    }),
  )
}
