// OpenTelemetry traces over OTLP/HTTP, off unless OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_SDK_DISABLED is not true). One SERVER span
// per request (child of the caller's `traceparent` when it sent one), a CLIENT span per upstream
// attempt whose context goes upstream as `traceparent`, and an INTERNAL span per conversion.
//
// Spans are parented explicitly through the RequestContext rather than a global context manager:
// nothing is registered globally, so tests can start and stop tracing with their own exporters.
// Attributes are names, statuses, sizes and ids the gateway made: never a key, URL query or prompt.

import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { Sampler, SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace'
import { VERSION } from '../version'
import { currentRequest } from './context'

type Env = Record<string, string | undefined>

let tracer: Tracer | null = null
let provider: TracerProvider | null = null
let propagator: W3CTraceContextPropagator | null = null

export const tracingOn = (): boolean => tracer !== null

/** Whether the environment asks for traces at all. */
export function tracingWanted(env: Env = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false
  if ((env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase() === 'none') return false
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim())
}

/**
 * Starts tracing when the environment asks for it. The exporter reads the OTLP variables itself
 * (endpoints, OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION); sampler, batch processor and
 * resource variables are read here. `exporter` replaces OTLP (tests). The SDK is loaded only
 * then: with tracing off it costs no start-up time.
 */
export async function startTracing(env: Env = process.env, exporter?: SpanExporter): Promise<boolean> {
  if (!exporter && !tracingWanted(env)) return false
  const [{ W3CTraceContextPropagator }, sdk, { OTLPTraceExporter }, { defaultResource, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  const num = (name: string): number | undefined => {
    const n = Number(env[name])
    return env[name] !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined
  }
  provider = new sdk.TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'batchgate', 'service.version': VERSION, ...resourceFromEnv(env) })),
    sampler: samplerFromEnv(sdk, env),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: exporter ?? new OTLPTraceExporter(),
        scheduledDelayMillis: num('OTEL_BSP_SCHEDULE_DELAY'),
        maxQueueSize: num('OTEL_BSP_MAX_QUEUE_SIZE'),
        maxExportBatchSize: num('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
        exportTimeoutMillis: num('OTEL_BSP_EXPORT_TIMEOUT'),
      }),
    ],
  })
  propagator = new W3CTraceContextPropagator()
  tracer = provider.getTracer('batchgate', VERSION)
  return true
}

/** Exports what is buffered and stops; called at shutdown. */
export async function stopTracing(): Promise<void> {
  const p = provider
  tracer = null
  provider = null
  propagator = null
  await p?.shutdown().catch(() => undefined)
}

export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => undefined)
}

/** OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`, values percent-encoded). */
function resourceFromEnv(env: Env): Attributes {
  const out: Attributes = {}
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    try {
      out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim())
    } catch {
      // A malformed value is skipped, as the specification asks.
    }
  }
  const name = env.OTEL_SERVICE_NAME?.trim()
  if (name) out['service.name'] = name
  return out
}

function samplerFromEnv(sdk: typeof import('@opentelemetry/sdk-trace'), env: Env): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG)
  const ratio = env.OTEL_TRACES_SAMPLER_ARG !== undefined && arg >= 0 && arg <= 1 ? arg : 1
  switch ((env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio)
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
}
const headerSetter: TextMapSetter<Headers> = { set: (h, key, value) => h.set(key, value) }

/** The request's SERVER span, child of the caller's `traceparent` when it sent a valid one. */
export function startRequestSpan(req: Request, method: string, requestId: string): Span | undefined {
  if (!tracer || !propagator) return undefined
  const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter)
  return tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'batchgate.request_id': requestId } }, parent)
}

export function endRequestSpan(span: Span | undefined, route: string, status: number, attributes: Attributes): void {
  if (!span) return
  span.updateName(`${attributes['http.request.method'] ?? ''} ${route}`.trim())
  span.setAttributes({ 'http.route': route, 'http.response.status_code': status, ...attributes })
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end()
}

function parentContext(): Context {
  const span = currentRequest()?.span
  return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT
}

/**
 * A CLIENT span for one upstream attempt; its context is written into `headers` as
 * `traceparent` (the headers go only to the upstream this call was meant for).
 */
export function startUpstreamSpan(name: string, attributes: Attributes, headers: Headers): Span | undefined {
  if (!tracer || !propagator) return undefined
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parentContext())
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, headerSetter)
  return span
}

export function endSpan(span: Span | undefined, attributes: Attributes, failed: boolean): void {
  if (!span) return
  span.setAttributes(attributes)
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end()
}

/** An INTERNAL span around a conversion that ends when `work` settles. */
export async function traced<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!tracer) return work()
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parentContext())
  try {
    return await work()
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name })
    throw err
  } finally {
    span.end()
  }
}

/** An INTERNAL span around a streamed conversion: it ends when the stream is done or cancelled. */
export function tracedStream(name: string, attributes: Attributes, stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  if (!tracer) return stream
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parentContext())
  let bytes = 0
  let ended = false
  const end = (failed: boolean) => {
    if (ended) return
    ended = true
    span.setAttribute('batchgate.bytes', bytes)
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  }
  const reader = stream.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read()
        if (done) {
          end(false)
          controller.close()
          return
        }
        bytes += value.byteLength
        controller.enqueue(value)
      } catch (err) {
        end(true)
        controller.error(err)
      }
    },
    async cancel(reason) {
      end(false)
      await reader.cancel(reason)
    },
  })
}
