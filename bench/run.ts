// `bun bench/run.ts` (npm run bench): throughput and memory of the gateway's streaming paths,
// against the provider fakes, reported as ratios to a bare Bun JSONL loop measured in the same
// run (the machine is noisy; ratios travel, absolute MB/s do not). See docs/benchmark.md.
//
// The gateway runs as its own process (`bun src/main.ts`) so its peak RSS is its own; the fakes
// and the client run here. Everything written goes under .bench/run-<time>/ and is deleted at
// the end unless --keep is given.

import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { KIND_LIMITS } from '../src/config/instances'
import { convertBatchFile } from '../src/core/batch-file'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../test/fakes/start'
import { baselineLoop } from './baseline'
import { createBatch, type Provider, readFileContent, uploadBatchFile, waitForBatch } from './client'
import { generateBatchFile, type GeneratedFile } from './generate'
import { type GatewayProcess, spawnGateway } from './gateway-process'
import { parseOptions, USAGE } from './options'
import { formatTable, type Row } from './report'
import { runStorePhase } from './store-phase'
import { mib, rssBytes, watchPeak } from './rss'

const MODELS: Record<Provider, string> = {
  openai: 'gpt-4o-mini',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
  gemini: 'gemini-2.0-flash',
}

/**
 * The Bedrock fake holds a whole job in memory and writes its output as one JS string of ~1.5×
 * the input (records echo modelInput); JavaScriptCore strings stop at 2^31 - 1 characters.
 */
const BEDROCK_FAKE_RESULTS_MAX = 768 * 1024 ** 2

if (process.argv.includes('--help')) {
  console.log(USAGE)
  process.exit(0)
}
let opts: ReturnType<typeof parseOptions>
try {
  opts = parseOptions(process.argv.slice(2))
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

const limits = loadConfig({}).limits
const runDir = join(import.meta.dir, '..', '.bench', `run-${Date.now()}`)
mkdirSync(join(runDir, 'tmp'), { recursive: true })
// The fakes keep their files under os.tmpdir(): pointing it into the run directory means one
// rmSync at the end removes every byte this run wrote, fakes included.
process.env.TMPDIR = join(runDir, 'tmp')

const rows: Row[] = []
const note = (text: string): void => console.log(`  … ${text}`)
let baseline: number | null = null
let storeTable: string | null = null

const fakes = startAllFakes({ autoAdvance: true })
let gateway: GatewayProcess | null = null
try {
  gateway = await spawnGateway(
    {
      ...fakes.env,
      BATCHGATE_DATA_DIR: join(runDir, 'data'),
      BATCHGATE_UPSTREAM_RETRIES: '0',
      // The fakes run a whole batch inside one status call; on 2 GB that takes minutes.
      BATCHGATE_UPSTREAM_TIMEOUT_MS: String(30 * 60_000),
      ...opts.gatewayEnv,
    },
    join(runDir, 'gateway.log'),
  )
  const idle = rssBytes(gateway.pid)
  const extraEnv = Object.entries(opts.gatewayEnv).map(([k, v]) => ` ${k}=${v}`).join('')
  console.log(`batchgate bench: ${mib(opts.bytes).toFixed(0)} MiB inputs, gateway pid ${gateway.pid}${extraEnv}, idle RSS ${mib(idle).toFixed(0)} MiB`)
  rows.push({ name: 'gateway idle', peakRss: idle })

  const targets: Provider[] = []
  if (opts.phases.has('passthrough') || (opts.phases.size === 1 && opts.phases.has('baseline'))) targets.push('openai')
  if (opts.phases.has('convert') || opts.phases.has('results')) targets.push('bedrock', 'gemini')
  for (const provider of targets) {
    try {
      await runTarget(gateway, provider)
    } catch (err) {
      // One provider's failure should not hide the others' figures.
      rows.push({ name: `${provider}: failed`, failed: (err as Error).message.slice(0, 300) })
      process.exitCode = 1
    }
  }
  // Issue 14: the same gateway on SQLite and PostgreSQL (bench/store-phase.ts).
  if (opts.phases.has('store')) {
    const env = { ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0', ...opts.gatewayEnv }
    storeTable = await runStorePhase({ fakes, runDir, sqliteGateway: gateway, gatewayEnv: env, bytes: opts.bytes, lineBytes: opts.lineBytes, repeat: opts.repeat, note })
  }
} finally {
  await gateway?.stop()
  await fakes.close()
  if (opts.keep) console.log(`kept ${runDir}`)
  else rmSync(runDir, { recursive: true, force: true })
}

console.log(`\n${formatTable(rows, baseline)}`)
if (storeTable) console.log(`\n${storeTable}`)
const peaks = rows.flatMap((r) => (r.peakRss === undefined ? [] : [r.peakRss]))
console.log(`\ngateway peak RSS over the run: ${mib(Math.max(...peaks)).toFixed(0)} MiB (VmHWM and VmRSS samples of pid ${gateway?.pid})`)
if (opts.jsonPath) {
  await Bun.write(opts.jsonPath, `${JSON.stringify({ bytes: opts.bytes, lineBytes: opts.lineBytes, baseline, rows }, null, 2)}\n`)
}

async function runTarget(gw: GatewayProcess, provider: Provider): Promise<void> {
  const path = join(runDir, `input-${provider}.jsonl`)
  note(`generating ${provider} input`)
  const file = await generateBatchFile(path, { bytes: opts.bytes, lineBytes: opts.lineBytes, model: MODELS[provider] })
  try {
    if (baseline === null && opts.phases.has('baseline')) recordBaseline(await measureBaseline(file))
    const label = provider === 'openai' ? 'upload passthrough → openai' : `upload convert → ${provider}`
    const skip = uploadSkipReason(provider, file)
    if (skip) {
      rows.push({ name: label, skipped: skip })
      return
    }
    note(label)
    const uploaded = await measure(gw, label, file.bytes, () => uploadBatchFile(gw.url, provider, file.path))
    if (provider === 'openai') return
    await measureConvertStep(provider, file)
    if (!opts.phases.has('results')) return
    const resultsLabel = `results ${provider} → openai (MiB read upstream)`
    if (provider === 'bedrock' && file.bytes > BEDROCK_FAKE_RESULTS_MAX) {
      rows.push({ name: resultsLabel, skipped: `the Bedrock fake cannot hold a job over ${mib(BEDROCK_FAKE_RESULTS_MAX)} MiB` })
      return
    }
    note(`${provider} batch: create and wait for the fake to finish it`)
    const created = await createBatch(gw.url, provider, uploaded.id, MODELS[provider])
    const done = await waitForBatch(gw.url, created.id, 30 * 60_000)
    if (done.status !== 'completed' || !done.output_file_id || done.request_counts.completed !== file.lines) {
      throw new Error(`${provider} batch ended ${done.status} with ${JSON.stringify(done.request_counts)}; expected ${file.lines} completed`)
    }
    const outputId = done.output_file_id
    note(resultsLabel)
    let read = { bytes: 0, lines: 0 }
    await measure(gw, resultsLabel, () => upstreamResultBytes(fakes, provider), async () => {
      read = await readFileContent(gw.url, outputId)
    })
    if (read.lines !== file.lines) throw new Error(`${resultsLabel}: ${read.lines} output lines for ${file.lines} requests`)
  } finally {
    rmSync(path, { force: true })
  }
}

/**
 * The upload's middle step alone, in this process: spooled file → convertBatchFile → converted
 * file, no HTTP on either side. Shows how much of the upload time is conversion.
 */
async function measureConvertStep(provider: Provider, file: GeneratedFile): Promise<void> {
  const out = join(runDir, `converted-${provider}.jsonl`)
  let best = Number.POSITIVE_INFINITY
  try {
    for (let i = 0; i < opts.repeat; i++) {
      const started = performance.now()
      await convertBatchFile({ path: file.path, bytes: file.bytes }, { name: provider, kind: provider }, out, { ...limits, ...KIND_LIMITS[provider] })
      best = Math.min(best, (performance.now() - started) / 1000)
    }
    rows.push({ name: `  convert step alone → ${provider} (in bench process)`, bytes: file.bytes, seconds: best })
  } finally {
    rmSync(out, { force: true })
  }
}

/** Bytes of the result files the fake wrote, i.e. what the gateway reads and converts. */
function upstreamResultBytes(fakes: AllFakes, provider: Provider): number {
  if (provider === 'gemini') {
    return [...fakes.gemini.files.values()].filter((f) => f.source === 'GENERATED').reduce((n, f) => n + f.sizeBytes, 0)
  }
  const keys = fakes.s3.listKeys(TEST_BUCKET).filter((k) => k.endsWith('.jsonl.out'))
  return keys.reduce((n, k) => n + fakes.s3.store.object(TEST_BUCKET, k).size, 0)
}

function uploadSkipReason(provider: Provider, file: GeneratedFile): string | null {
  const own = KIND_LIMITS[provider]
  if (file.bytes > own.maxUploadBytes) {
    return `${provider} takes files up to ${mib(own.maxUploadBytes)} MiB`
  }
  if (file.lines > own.maxBatchRequests) {
    return `${provider} takes up to ${own.maxBatchRequests} requests; this file has ${file.lines}`
  }
  return null
}

/** Best of --repeat + 1 runs: the first also warms the page cache and the JIT, as the gateway's runs are warm. */
async function measureBaseline(file: GeneratedFile): Promise<{ bytes: number; seconds: number; lines: number }> {
  note(`baseline loop (${opts.repeat + 1} runs, best kept)`)
  let best = await baselineLoop(file.path)
  for (let i = 0; i < opts.repeat; i++) {
    const next = await baselineLoop(file.path)
    if (next.seconds < best.seconds) best = next
  }
  return best
}

function recordBaseline(result: { bytes: number; seconds: number; lines: number }): void {
  baseline = mib(result.bytes) / result.seconds
  rows.push({ name: `baseline: read + JSON.parse + JSON.stringify (${result.lines} lines)`, bytes: result.bytes, seconds: result.seconds })
}

/**
 * Runs `work` --repeat times; keeps the fastest time (the least disturbed by the machine's other
 * load) and the highest peak RSS of the gateway over any of the runs. `bytes` may be known only
 * afterwards.
 */
async function measure<T>(gw: GatewayProcess, name: string, bytes: number | (() => number), work: () => Promise<T>): Promise<T> {
  let best = Number.POSITIVE_INFINITY
  let peakRss = 0
  let result: T | undefined
  for (let i = 0; i < opts.repeat; i++) {
    const peak = watchPeak(gw.pid)
    const started = performance.now()
    try {
      result = await work()
    } catch (err) {
      peak.stop()
      throw err
    }
    best = Math.min(best, (performance.now() - started) / 1000)
    peakRss = Math.max(peakRss, peak.stop())
  }
  rows.push({ name, bytes: typeof bytes === 'number' ? bytes : bytes(), seconds: best, peakRss })
  return result as T
}
