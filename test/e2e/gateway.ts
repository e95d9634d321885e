// Starts a real batchgate (config → store → adapters → app → Bun.serve on port 0) in-process,
// pointed at whatever fakes the test started. `restart()` reopens the same data dir, the way a
// process restart would.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { reconcileOnStart } from '../../src/core/reconcile'
import type { Services } from '../../src/core/services'
import { setLogLevel } from '../../src/log'
import { buildRegistry } from '../../src/providers/registry'
import { openStore, type SqliteStore } from '../../src/store/store'

export interface Gateway {
  url: string
  dataDir: string
  store: SqliteStore
  services: Services
  restart(): Promise<void>
  close(): Promise<void>
}

export async function startGateway(env: Record<string, string | undefined>): Promise<Gateway> {
  // Expected failures are part of these tests; only warnings and errors are worth printing.
  setLogLevel('warn')
  const dataDir = env.BATCHGATE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'batchgate-e2e-'))
  const ownsDir = env.BATCHGATE_DATA_DIR === undefined
  const config = loadConfig({ BATCHGATE_UPSTREAM_RETRIES: '0', ...env, BATCHGATE_DATA_DIR: dataDir, BATCHGATE_PORT: '0' })
  let server: ReturnType<typeof Bun.serve> | null = null
  const gw = {} as Gateway

  const boot = async () => {
    const store = openStore(dataDir)
    const registry = buildRegistry(config)
    await reconcileOnStart(store, registry)
    const { handle, services } = buildApp(config, store, registry)
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: server?.port ?? 0,
      maxRequestBodySize: 8 * 1024 ** 3,
      fetch: handle,
    })
    gw.url = `http://127.0.0.1:${server.port}`
    gw.store = store
    gw.services = services
  }
  await boot()
  gw.dataDir = dataDir
  gw.restart = async () => {
    server?.stop(true)
    await gw.store.close()
    await boot()
  }
  gw.close = async () => {
    server?.stop(true)
    await gw.store.close()
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true })
  }
  return gw
}
