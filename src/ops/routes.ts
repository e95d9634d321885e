// GET /metrics (Prometheus text, optionally behind BATCHGATE_METRICS_TOKEN) and GET /ready
// (503 until the store is open and migrated, and again once shutdown has begun). /health stays
// plain liveness in app.ts.

import { timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import type { Store } from '../store/store'
import { watchBatches } from './batch-gauge'
import { registry } from './metrics'

export class Readiness {
  private storeOpen = false
  private stopping = false

  storeReady(): void {
    this.storeOpen = true
  }
  shuttingDown(): void {
    this.stopping = true
  }
  /** null when ready, else why not. */
  notReady(): 'starting' | 'shutting_down' | null {
    if (this.stopping) return 'shutting_down'
    return this.storeOpen ? null : 'starting'
  }
}

export function readyAnswer(readiness: Readiness): Response {
  const why = readiness.notReady()
  return Response.json(why === null ? { status: 'ready' } : { status: why }, { status: why === null ? 200 : 503 })
}

/** The server's handler until the app is built: alive, not ready, every other route a 503. */
export function whileStarting(readiness: Readiness, version: string): (req: Request) => Promise<Response> {
  return async (req) => {
    const path = new URL(req.url).pathname
    if (path === '/health') return Response.json({ status: 'ok', version })
    if (path === '/ready') return readyAnswer(readiness)
    const message = 'batchgate is starting; retry shortly'
    const body = path.startsWith('/anthropic') ? { type: 'error', error: { type: 'overloaded_error', message } } : { error: { message, type: 'server_error', param: null, code: 'starting' } }
    return Response.json(body, { status: 503, headers: { 'retry-after': '1' } })
  }
}

export function opsRoutes(store: Store, readiness: Readiness, metricsToken: string | null) {
  watchBatches(store)
  const expected = metricsToken === null ? null : Buffer.from(`Bearer ${metricsToken}`)
  return new Elysia({ name: 'ops' })
    .get('/ready', () => readyAnswer(readiness), { detail: { hide: true } })
    .get(
      '/metrics',
      async ({ request }) => {
        if (expected !== null) {
          const got = Buffer.from(request.headers.get('authorization') ?? '')
          if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
            return new Response('metrics need Authorization: Bearer <BATCHGATE_METRICS_TOKEN>\n', {
              status: 401,
              headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' },
            })
          }
        }
        return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } })
      },
      { detail: { hide: true } },
    )
}
