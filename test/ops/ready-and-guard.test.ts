// /ready is readiness (503 until the store is open and migrated, and once shutdown begins);
// /health stays liveness. /metrics behind BATCHGATE_METRICS_TOKEN answers 401 without it.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { Readiness, whileStarting } from '../../src/ops/routes'
import { buildRegistry } from '../../src/providers/registry'
import { openStore } from '../../src/store/store'
import { VERSION } from '../../src/version'

const TOKEN = 'metrics-token-0b7d2f19a4'
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batchgate-ready-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const get = (handle: (r: Request) => Promise<Response>, path: string, headers: Record<string, string> = {}) =>
  handle(new Request(`http://localhost${path}`, { headers }))

describe('/ready and /health', () => {
  test('while starting: alive, not ready, every other route a 503 in the caller dialect', async () => {
    const handle = whileStarting(new Readiness(), VERSION)
    expect((await get(handle, '/health')).status).toBe(200)
    const ready = await get(handle, '/ready')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'starting' })
    const openai = await get(handle, '/openai/v1/files')
    expect(openai.status).toBe(503)
    expect(openai.headers.get('retry-after')).toBe('1')
    expect(((await openai.json()) as { error: { type: string } }).error.type).toBe('server_error')
    const anthropic = await get(handle, '/anthropic/v1/files')
    expect(((await anthropic.json()) as { type: string }).type).toBe('error')
  })

  test('ready once the app is built on an open store; 503 again when shutdown begins', async () => {
    const readiness = new Readiness()
    const config = loadConfig({ BATCHGATE_DATA_DIR: dir })
    const store = openStore(dir)
    const { handle } = buildApp(config, store, buildRegistry(config), readiness)
    const ready = await get(handle, '/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready' })
    readiness.shuttingDown()
    const stopping = await get(handle, '/ready')
    expect(stopping.status).toBe(503)
    expect(await stopping.json()).toEqual({ status: 'shutting_down' })
    expect((await get(handle, '/health')).status).toBe(200)
    await store.close()
  })
})

describe('BATCHGATE_METRICS_TOKEN', () => {
  test('/metrics needs the bearer token when one is set, and the token is never logged or echoed', async () => {
    const config = loadConfig({ BATCHGATE_DATA_DIR: dir, BATCHGATE_METRICS_TOKEN: TOKEN })
    const store = openStore(dir)
    const { handle } = buildApp(config, store, buildRegistry(config))
    const none = await get(handle, '/metrics')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
    expect(await none.text()).not.toContain(TOKEN)
    expect((await get(handle, '/metrics', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401)
    const ok = await get(handle, '/metrics', { authorization: `Bearer ${TOKEN}` })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toContain('text/plain')
    expect(await ok.text()).toContain('# TYPE batchgate_http_requests_total counter')
    await store.close()
  })

  test('BATCHGATE_INSTRUMENTATION accepts on and off only', () => {
    expect(loadConfig({ BATCHGATE_INSTRUMENTATION: 'off' }).instrumentation).toBe(false)
    expect(loadConfig({}).instrumentation).toBe(true)
    expect(() => loadConfig({ BATCHGATE_INSTRUMENTATION: 'maybe' })).toThrow(/BATCHGATE_INSTRUMENTATION must be on or off/)
  })
})
