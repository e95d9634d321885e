// OpenTelemetry: an in-test OTLP/HTTP receiver gets the spans of an upload and a batch create —
// the request span as child of the caller's `traceparent`, upstream CLIENT spans and conversion
// spans as its children — and the provider fake sees our `traceparent` on its requests.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { flushTracing, startTracing, stopTracing, tracingWanted } from '../../src/ops/tracing'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver'

const KEY = 'bg-trace-alice-90c1d2e3f4'
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN = '00f067aa0ba902b7'
const SERVER = 2
const CLIENT = 3
const INTERNAL = 1

let fakes: AllFakes
let gw: Gateway
let receiver: OtlpReceiver
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  receiver = startOtlpReceiver()
  fakes = startAllFakes()
  gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: `alice=${KEY}` })
  // The exporter reads the standard variables itself, from the process environment.
  for (const [k, v] of Object.entries({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=abc123', OTEL_SERVICE_NAME: 'batchgate-test' })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  expect(await startTracing({ ...process.env, OTEL_BSP_SCHEDULE_DELAY: '20' })).toBe(true)
})
afterAll(async () => {
  await stopTracing()
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await gw.close()
  await fakes.close()
  await receiver.close()
})

const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((s) => s.parentSpanId === parent.spanId)

describe('traces', () => {
  test('off unless an OTLP endpoint is set; OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none win', () => {
    expect(tracingWanted({})).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false)
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false)
  })

  test('upload and batch create: request spans under the caller trace, upstream and conversion spans under them, traceparent upstream', async () => {
    const traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`
    const client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: { traceparent } })
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] } })
    const seenBefore = fakes.gemini.requests.length
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line}\n`), 'in.jsonl'), purpose: 'batch', provider: 'gemini' } as never)
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'gemini-2.0-flash' } as never)
    expect(batch.id).toMatch(/^batch_/)
    await flushTracing()
    const isRequest = (route: string) => (s: ReceivedSpan) => s.kind === SERVER && s.attributes['http.route'] === route
    await receiver.waitFor((spans) => spans.some(isRequest('/openai/v1/files')) && spans.some(isRequest('/openai/v1/batches')) && spans.some((s) => s.name === 'gemini create_batch'))

    const upload = receiver.spans.find(isRequest('/openai/v1/files'))!
    const create = receiver.spans.find(isRequest('/openai/v1/batches'))!
    for (const span of [upload, create]) {
      expect(span.traceId).toBe(TRACE_ID)
      expect(span.parentSpanId).toBe(CLIENT_SPAN)
      expect(span.service).toBe('batchgate-test')
      expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'batchgate.provider': 'gemini', 'batchgate.tenant': 'alice' })
    }
    expect(upload.name).toBe('POST /openai/v1/files')

    const uploadChildren = childrenOf(upload)
    expect(uploadChildren.filter((s) => s.kind === CLIENT).map((s) => s.name)).toEqual(['gemini start_upload', 'gemini upload_file_chunk'])
    expect(uploadChildren.filter((s) => s.kind === INTERNAL).map((s) => s.name)).toEqual(['convert batch input'])
    for (const s of uploadChildren) expect(s.traceId).toBe(TRACE_ID)
    const createChildren = childrenOf(create)
    const createCall = createChildren.find((s) => s.name === 'gemini create_batch')!
    expect(createCall).toMatchObject({ kind: CLIENT, attributes: { 'batchgate.provider': 'gemini', 'batchgate.operation': 'create_batch', 'http.request.method': 'POST', 'http.response.status_code': 200 } })

    // Gemini saw our child spans' contexts, never the caller's own span id.
    const upstream = fakes.gemini.requests.slice(seenBefore)
    const sent = upstream.map((r) => r.headers.traceparent)
    expect(sent.every((t) => t?.startsWith(`00-${TRACE_ID}-`))).toBe(true)
    const createRequest = upstream.find((r) => r.method === 'POST' && r.path.includes(':batchGenerateContent'))!
    expect(createRequest.headers.traceparent).toBe(`00-${TRACE_ID}-${createCall.spanId}-01`)
    expect(sent).not.toContain(traceparent)

    // The collector got the configured headers; no key or secret is in any span.
    expect(receiver.headers[0]?.get('x-collector-token')).toBe('abc123')
    const all = JSON.stringify(receiver.spans)
    for (const secret of [KEY, fakes.env.GEMINI_API_KEY!, fakes.env.OPENAI_API_KEY!]) expect(all).not.toContain(secret)
  })

  test('results: the download is a request span with the upstream read and the conversion under it', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: KEY, maxRetries: 0 })
    const line = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/chat/completions', body: { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'hi' }] } })
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line}\n`), 'in.jsonl'), purpose: 'batch', provider: 'gemini' } as never)
    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'gemini-2.0-flash' } as never)
    while (batch.status !== 'completed') batch = await client.batches.retrieve(batch.id)
    const text = await (await client.files.content(batch.output_file_id!)).text()
    expect(text).toContain('"custom_id":"r"')
    await flushTracing()
    const isContent = (s: ReceivedSpan) => s.kind === SERVER && s.attributes['http.route'] === '/openai/v1/files/:id/content'
    await receiver.waitFor((spans) => spans.some(isContent) && spans.some((s) => s.name === 'convert results'))
    const download = receiver.spans.find(isContent)!
    const names = childrenOf(download).map((s) => s.name).sort()
    expect(names).toContain('convert results')
    expect(names).toContain('gemini download_file')
    // A request without a traceparent starts its own trace.
    expect(download.parentSpanId).toBeUndefined()
    expect(download.traceId).not.toBe(TRACE_ID)
  })
})
