// A small OTLP/HTTP JSON receiver for tests: collects every span POSTed to /v1/traces.

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Record<string, unknown>
  service: string
}

export interface OtlpReceiver {
  url: string
  spans: ReceivedSpan[]
  /** Headers of every export request (OTEL_EXPORTER_OTLP_HEADERS reach it). */
  headers: Headers[]
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<void>
  close(): Promise<void>
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
type KeyValue = { key: string; value: AnyValue }

const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue))
const attrs = (list: KeyValue[] = []) => Object.fromEntries(list.map((kv) => [kv.key, valueOf(kv.value)]))

export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = []
  const headers: Headers[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      if (req.method !== 'POST' || new URL(req.url).pathname !== '/v1/traces') return new Response('not found', { status: 404 })
      headers.push(req.headers)
      const body = (await req.json()) as {
        resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>
      }
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '')
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: String(s.traceId),
              spanId: String(s.spanId),
              parentSpanId: s.parentSpanId ? String(s.parentSpanId) : undefined,
              name: String(s.name),
              kind: Number(s.kind),
              attributes: attrs(s.attributes as KeyValue[]),
              service,
            })
          }
        }
      }
      return Response.json({})
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans,
    headers,
    async waitFor(pred, ms = 5000) {
      const until = Date.now() + ms
      while (!pred(spans)) {
        if (Date.now() > until) throw new Error(`spans not received in time; have: ${spans.map((s) => s.name).join(', ')}`)
        await Bun.sleep(20)
      }
    },
    close: async () => {
      await server.stop(true)
    },
  }
}
