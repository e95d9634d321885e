// Entry: argv (--help, --version, healthcheck, migrate-store), config, store, adapters, app, listen, and a
// graceful shutdown that stops accepting, lets in-flight requests finish, then closes the DB.

import { buildApp } from './app'
import { ConfigError, configuredProviders, loadConfig, SETTINGS } from './config'
import { log, registerConfigSecrets } from './log'
import { buildRegistry } from './providers/registry'
import { ownerProblems } from './core/owned-instances'
import { reconcileOnStart, startReconciler } from './core/reconcile'
import { DataDirError } from './store/data-dir'
import { migrateStore } from './store/migrate-store'
import { openConfiguredStore, type Store } from './store/store'
import { Readiness, whileStarting } from './ops/routes'
import { startTracing, stopTracing } from './ops/tracing'
import { VERSION } from './version'

const SHUTDOWN_GRACE_MS = 10_000

async function main(argv: string[]): Promise<number> {
  const [command] = argv
  if (command === '--version' || command === '-v') {
    console.log(`batchgate ${VERSION}`)
    return 0
  }
  if (command === '--help' || command === '-h') {
    console.log(help())
    return 0
  }
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line per problem, so a long list stays readable and greppable.
      for (const problem of err.problems) console.error(`batchgate: invalid configuration: ${problem}`)
      return 1
    }
    throw err
  }
  if (command === 'healthcheck') return healthcheck(config.host, config.port)
  if (command === 'migrate-store') {
    registerConfigSecrets(config)
    try {
      await migrateStore(config, (line) => console.log(`batchgate: ${line}`))
      return 0
    } catch (err) {
      console.error(`batchgate: migrate-store: ${(err as Error).message}`)
      return 1
    }
  }
  if (command !== undefined) {
    console.error(`batchgate: unknown command '${command}' (try --help)`)
    return 2
  }

  registerConfigSecrets(config)
  // The port opens first so orchestrators can probe: /health answers at once, /ready and every
  // other route say 503 until the store is open, migrated and reconciled.
  const readiness = new Readiness()
  // Off unless an OTLP endpoint is configured; BATCHGATE_INSTRUMENTATION=off wins.
  if (config.instrumentation && (await startTracing())) log('info', 'exporting traces over OTLP/HTTP')
  let handle = whileStarting(readiness, VERSION)
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // No cap at the socket: uploads stream to disk and the multipart parser enforces each
    // provider's limit with a proper 413 envelope (Bun's own 413 would be a bare body).
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 255,
    fetch: (req) => handle(req),
  })
  let store: Store
  try {
    store = await openConfiguredStore(config)
  } catch (err) {
    const where = config.store.databaseUrl ? 'BATCHGATE_DATABASE_URL' : `'${config.dataDir}'`
    const message = err instanceof DataDirError ? err.message : `cannot open the database in ${where}: ${(err as Error).message}`
    console.error(`batchgate: ${message}`)
    return 1
  }
  const registry = buildRegistry(config)
  const stranded = await ownerProblems(
    store,
    registry.names().map((name) => ({ name, kind: registry.instance(name).kind })),
  )
  if (stranded.length > 0) {
    for (const problem of stranded) console.error(`batchgate: ${problem}`)
    await store.close()
    return 1
  }
  // On a shared database a dead instance's upstream call may still be running: see reconcile.ts.
  const inFlightMs = store.shared ? config.upstreamTimeoutMs : 0
  await reconcileOnStart(store, registry, inFlightMs)
  const stopReconciler = startReconciler(store, registry, inFlightMs)
  const { handle: appHandle, services } = buildApp(config, store, registry, readiness)
  // One instance per SQLite database: leases a previous run held died with it. A shared
  // database's leases belong to live instances too; they run out by themselves.
  if (!store.shared) await store.watch.releaseAll()
  services.watcher.start()
  handle = appHandle
  const providers = configuredProviders(config)
  console.log(
    `batchgate ${VERSION} listening on http://${config.host}:${server.port} ` +
      `(providers: ${providers.join(', ') || 'none'}; data: ${config.store.databaseUrl ? `PostgreSQL + ${config.store.blobUrl}` : config.dataDir}; ` +
      `${config.keys ? `${config.keys.size} virtual keys` : 'OPEN: no BATCHGATE_KEYS set, anyone can call'})`,
  )
  if (!config.keys) log('warn', 'BATCHGATE_KEYS is not set: the gateway is open to anyone who can reach it')

  let stopping = false
  const stop = async (signal: string) => {
    // A second signal (Ctrl-C twice, an orchestrator repeating SIGTERM) must not restart the grace period.
    if (stopping) return
    stopping = true
    readiness.shuttingDown()
    log('info', 'shutting down', { signal })
    const timer = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS)
    await server.stop(false)
    clearTimeout(timer)
    await services.watcher.stop()
    await stopReconciler()
    await store.close()
    await stopTracing()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  return -1
}

/** `batchgate healthcheck`: a scratch image has no curl, so the binary probes its own server. */
async function healthcheck(host: string, port: number): Promise<number> {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const url = `http://${target}:${port}/health`
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) })
    if (res.ok) return 0
    // Docker keeps a health check's output in `docker inspect`: say what went wrong.
    console.error(`batchgate: ${url} answered ${res.status}`)
  } catch (err) {
    console.error(`batchgate: ${url} did not answer: ${(err as Error).message}`)
  }
  return 1
}

function help(): string {
  const width = Math.max(...SETTINGS.map(([n]) => n.length))
  return [
    `batchgate ${VERSION} — OpenAI and Anthropic Files & Batch APIs over OpenAI, Anthropic, Gemini and Bedrock`,
    '',
    'Usage: batchgate [--help | --version | healthcheck | migrate-store]',
    '  migrate-store: copy BATCHGATE_DATA_DIR (SQLite, blobs/) into BATCHGATE_DATABASE_URL + BATCHGATE_BLOB_URL (gateway stopped)',
    '',
    'Environment (default in parentheses):',
    ...SETTINGS.map(([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${meaning} (${fallback})`),
    '',
    // Read by the Bun runtime, not by config.ts; docs/deploy.md says which file the image ships.
    'TLS trust: the root certificates built into the binary, plus the PEM bundles named by',
    '  SSL_CERT_FILE (/etc/ssl/cert.pem) and NODE_EXTRA_CA_CERTS (none).',
  ].join('\n')
}

const code = await main(process.argv.slice(2))
if (code >= 0) process.exit(code)
