// `bun bench/run.ts` (npm run bench): throughput and memory of the gateway's streaming paths,
// against the provider fakes, each row reported as a ratio to the bare Bun loop that does the same
// kind of work on the same bytes, measured in the same run (the machine is noisy; ratios travel,
// absolute MB/s do not), next to issue 12's goal for it. See docs/benchmark.md.
//
// The gateway runs as its own process (`bun src/main.ts`) so its peak RSS is its own; the fakes
// and the client run here. Everything written goes under .bench/run-<time>/ and is deleted at
// the end unless --keep is given.

import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { KIND_LIMITS } from '../src/config/instances'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../test/fakes/start'
import { type BaselineMode, baselineLoop } from './baseline'
import { createBatch, overCapUpload, type Provider, readFileContent, uploadBatchFile, waitForBatch, waitForSettlement } from './client'
import { generateBatchFile, type GeneratedFile } from './generate'
import { conversionLoop } from './results-ceiling'
import { type GatewayProcess, spawnGateway } from './gateway-process'
import { parseOptions, USAGE } from './options'
import { formatTable, RSS_GOAL_MIB, ratioOf, type Row } from './report'
import { runInstrumentationPhase } from './instrumentation-phase'
import { cpuSeconds, mib, rssBytes, watchPeak } from './rss'
import { runEmulatedPhase } from './emulated-phase'
import { runStorePhase } from './store-phase'

const MODELS: Record<Provider, string> = {
  openai: 'gpt-4o-mini',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
  gemini: 'gemini-2.0-flash',
}
const MiB = 1024 ** 2
/** Issue 12's goals, as ratios to the row's baseline loop. */
const GOALS = { passthrough: 1.2, convert: 0.9, results: 0.9, refuseSeconds: 0.2 }
/** The Bedrock fake writes a job's output as one JS string (~1.5× the input). */
const BEDROCK_FAKE_RESULTS_MAX = 768 * MiB

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

const runDir = join(import.meta.dir, '..', '.bench', `run-${Date.now()}`)
mkdirSync(join(runDir, 'tmp'), { recursive: true })
// The fakes keep their files under os.tmpdir(): pointing it into the run directory means one
// rmSync at the end removes every byte this run wrote, fakes included.
process.env.TMPDIR = join(runDir, 'tmp')

const rows: Row[] = []
/** Results rows by CPU time (gateway process vs the map loop), printed after the table. */
const cpuNotes: string[] = []
let storeTable: string | null = null
let emulatedTable: string | null = null
const note = (text: string): void => console.log(`  … ${text}`)
let instrumentationTable: string | null = null
const fakes = startAllFakes({ autoAdvance: true })
let gateway: GatewayProcess | null = null
/** The bare relay every upload row is also measured through (bench/ceiling-relay.ts). */
let relay: GatewayProcess | null = null
try {
  gateway = await spawnGateway(
    {
      ...fakes.env,
      BATCHGATE_DATA_DIR: join(runDir, 'data'),
      BATCHGATE_UPSTREAM_RETRIES: '0',
      // The fakes run a whole batch inside one status call; on large inputs that takes minutes.
      BATCHGATE_UPSTREAM_TIMEOUT_MS: String(30 * 60_000),
      ...opts.gatewayEnv,
    },
    join(runDir, 'gateway.log'),
    opts.cpuProfDir,
  )
  if (opts.phases.has('passthrough') || opts.phases.has('convert')) {
    relay = await spawnGateway({ ...fakes.env, ...opts.gatewayEnv }, join(runDir, 'ceiling-relay.log'), null, 'bench/ceiling-relay.ts')
  }
  const idle = rssBytes(gateway.pid)
  const extraEnv = Object.entries(opts.gatewayEnv).map(([k, v]) => ` ${k}=${v}`).join('')
  console.log(`batchgate bench: sizes ${opts.sizes.map((b) => `${mib(b)} MiB`).join(', ')}, gateway pid ${gateway.pid}${extraEnv}, idle RSS ${mib(idle).toFixed(0)} MiB`)
  rows.push({ name: 'gateway idle', peakRss: idle })
  const gw = gateway
  const phases: [string, () => Promise<void>][] = []
  if (opts.phases.has('passthrough')) phases.push(['passthrough', () => passthrough(gw)])
  if (opts.phases.has('convert')) {
    for (const size of opts.sizes) for (const provider of ['bedrock', 'gemini'] as const) phases.push([`convert ${provider}`, () => converting(gw, provider, size)])
    for (const size of opts.bedrockSizes) phases.push(['convert bedrock', () => converting(gw, 'bedrock', size)])
  }
  if (opts.phases.has('results')) for (const provider of ['bedrock', 'gemini'] as const) phases.push([`results ${provider}`, () => results(gw, provider)])
  if (opts.phases.has('refuse')) phases.push(['refuse', () => refuse(gw)])
  for (const [name, run] of phases) {
    try {
      await run()
    } catch (err) {
      // One phase's failure should not hide the others' figures.
      rows.push({ name: `${name}: failed`, failed: (err as Error).message.slice(0, 300) })
      process.exitCode = 1
    }
  }
  // Issue 14: the same gateway on SQLite and PostgreSQL (bench/store-phase.ts).
  if (opts.phases.has('store')) {
    const env = { ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0', ...opts.gatewayEnv }
    const bytes = opts.sizes[0] as number
    storeTable = await runStorePhase({ fakes, runDir, sqliteGateway: gateway, gatewayEnv: env, bytes, lineBytes: opts.lineBytes, repeat: opts.repeat, note })
  }
  // Issue 13: metrics, access log and traces on vs off (bench/instrumentation-phase.ts).
  if (opts.phases.has('instrumentation')) {
    const env = { ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0', ...opts.gatewayEnv }
    instrumentationTable = await runInstrumentationPhase({ runDir, gatewayEnv: env, lineBytes: opts.lineBytes, repeat: opts.repeat, note })
  }
  // Issue 17: emulated batches against a local chat-completions server (bench/emulated-phase.ts).
  if (opts.phases.has('emulated')) {
    try {
      emulatedTable = await runEmulatedPhase({ runDir, requests: 50_000, rssRequests: 100_000, note, cpuProfDir: opts.cpuProfDir })
    } catch (err) {
      emulatedTable = `emulated phase FAILED: ${(err as Error).message.slice(0, 300)}`
      process.exitCode = 1
    }
  }
} finally {
  await relay?.stop()
  await gateway?.stop()
  await fakes.close()
  if (opts.keep) console.log(`kept ${runDir}`)
  else rmSync(runDir, { recursive: true, force: true })
}

console.log(`\n${formatTable(rows)}`)
if (cpuNotes.length > 0) console.log(`\n${cpuNotes.join('\n')}`)
if (storeTable) console.log(`\n${storeTable}`)
if (instrumentationTable) console.log(`\n${instrumentationTable}`)
if (emulatedTable) console.log(`\n${emulatedTable}`)
for (const r of rows.filter((row) => row.isCeiling && row.goal !== undefined)) {
  const ratio = ratioOf(r)
  if (ratio !== null && ratio < (r.goal as number)) {
    console.log(
      `ceiling of "${r.ceilingOf}": a bare relay with no validation runs at ${ratio.toFixed(2)}× the baseline, below the goal of ${r.goal}×: ` +
        'out of reach as specified, for any gateway on this machine with these fakes and this client',
    )
  }
}
const peaks = rows.flatMap((r) => (r.peakRss === undefined || r.isCeiling ? [] : [r.peakRss]))
const peak = mib(Math.max(...peaks))
console.log(`\ngateway peak RSS over the run: ${peak.toFixed(0)} MiB (goal < ${RSS_GOAL_MIB}: ${peak < RSS_GOAL_MIB ? 'met' : 'NOT met'})`)
const verdicts = rows.filter((r) => !r.isCeiling && (r.goal !== undefined || r.met !== undefined))
const missed = verdicts.filter((r) => !(r.met ?? (ratioOf(r) ?? 0) >= (r.goal ?? Number.POSITIVE_INFINITY)))
console.log(`goals met: ${verdicts.length - missed.length} of ${verdicts.length}${missed.length ? `; not met: ${missed.map((r) => r.name.trim()).join('; ')}` : ''}`)
// Issue 12's second converting goal (≥ 1.5× using both cores), judged on the file-first rows: they
// convert from the spool, in worker slices only with BATCHGATE_CONVERT_WORKERS ≥ 2 (default one
// thread: measured cheaper on this machine, docs/benchmark.md "Converting uploads, third round").
const bothCores = rows.filter((r) => !r.isCeiling && r.name.includes('convert') && r.name.includes('file first'))
for (const r of bothCores) {
  const ratio = ratioOf(r)
  if (ratio !== null) console.log(`both cores (≥ 1.5×): ${r.name.trim()}: ${ratio.toFixed(2)}× — ${ratio >= 1.5 ? 'met' : 'NOT met'}`)
}
if (opts.jsonPath) await Bun.write(opts.jsonPath, `${JSON.stringify({ sizes: opts.sizes, rows }, null, 2)}\n`)

/** OpenAI → OpenAI: 50 000 lines, ~112 MiB, validated line by line, against the parse loop. */
async function passthrough(gw: GatewayProcess): Promise<void> {
  const file = await generate('openai', 112 * MiB, { lineBytes: 2300, maxLines: 50_000 })
  try {
    const baseline = await measureBaseline(file.path, 'parse')
    for (const order of ['fields-first', 'file-first'] as const) {
      const name = `upload passthrough → openai, ${file.lines} lines, ${order === 'fields-first' ? 'fields first (one pass)' : 'file first (SDK order)'}`
      await measureUpload(gw, { name, bytes: file.bytes, baseline, goal: GOALS.passthrough }, 'openai', file.path, order)
    }
  } finally {
    rmSync(file.path, { force: true })
  }
}

/** OpenAI → Bedrock/Gemini converting uploads, both field orders, against the parse+transform+write loop. */
async function converting(gw: GatewayProcess, provider: 'bedrock' | 'gemini', size: number): Promise<void> {
  const file = await generate(provider, size, { lineBytes: opts.lineBytes })
  try {
    if (file.bytes > KIND_LIMITS[provider].maxUploadBytes) {
      rows.push({ name: `upload convert → ${provider} ${mib(size)} MiB`, skipped: `${provider} takes files up to ${mib(KIND_LIMITS[provider].maxUploadBytes)} MiB` })
      return
    }
    const baseline = await measureBaseline(file.path, 'convert')
    for (const order of ['fields-first', 'file-first'] as const) {
      const name = `upload convert → ${provider}, ${mib(size)} MiB, ${order === 'fields-first' ? 'fields first (one pass)' : 'file first (SDK order)'}`
      await measureUpload(gw, { name, bytes: file.bytes, baseline, goal: GOALS.convert }, provider, file.path, order)
    }
  } finally {
    rmSync(file.path, { force: true })
  }
}

/** Upstream results of a 200 000-request batch → OpenAI output lines, against the parse+map loop on the same upstream bytes. */
async function results(gw: GatewayProcess, provider: 'bedrock' | 'gemini'): Promise<void> {
  const file = await generate(provider, 1024 * MiB, { lineBytes: 700, maxLines: 200_000 })
  try {
    if (provider === 'bedrock' && file.bytes * 1.5 > BEDROCK_FAKE_RESULTS_MAX) throw new Error('input too large for the Bedrock fake')
    note(`${provider} batch of ${file.lines} requests: upload, create, wait for the fake`)
    const uploaded = await uploadBatchFile(gw.url, provider, file.path)
    const created = await createBatch(gw.url, provider, uploaded.id, MODELS[provider])
    const done = await waitForBatch(gw.url, created.id, 30 * 60_000)
    if (done.status !== 'completed' || !done.output_file_id || done.request_counts.completed !== file.lines) {
      throw new Error(`${provider} batch ended ${done.status} with ${JSON.stringify(done.request_counts)}; expected ${file.lines} completed`)
    }
    // The gateway settles an ended batch in the background (usage tally: one read of every result
    // line); the timed downloads start after it, so they do not share the CPU with it.
    await waitForSettlement(gw.url, created.id, 5 * 60_000)
    const upstream = upstreamResultFiles(fakes, provider)
    const base = await baselineRuns(upstream, 'map')
    const baseline = base.mibPerSecond
    const bytes = upstream.reduce((n, p) => n + Bun.file(p).size, 0)
    const outputId = done.output_file_id
    let read = { bytes: 0, lines: 0 }
    let gatewayCpu = Number.POSITIVE_INFINITY
    await measure(gw, { name: `results ${provider} → openai, ${file.lines} lines (MiB read upstream)`, bytes, baseline, goal: GOALS.results }, async () => {
      const cpu = cpuSeconds(gw.pid)
      read = await readFileContent(gw.url, outputId)
      gatewayCpu = Math.min(gatewayCpu, cpuSeconds(gw.pid) - cpu)
    })
    // CPU time moves far less than wall time when other work loads the machine (docs/benchmark.md).
    cpuNotes.push(
      `results ${provider} → openai: gateway ${gatewayCpu.toFixed(2)} CPU-s (all its threads: HTTP in and out too), ` +
        `map loop ${base.cpuSeconds.toFixed(2)} CPU-s → ${(base.cpuSeconds / gatewayCpu).toFixed(2)}× by CPU time`,
    )
    // The ceiling of one thread: the gateway's own conversion alone, best of --repeat + 1 (bench/results-ceiling.ts).
    let ceiling = { seconds: Number.POSITIVE_INFINITY, cpuSeconds: Number.POSITIVE_INFINITY }
    for (let i = 0; i <= opts.repeat; i++) {
      const run = await conversionLoop(upstream, provider === 'gemini' ? 'gemini-responses' : 'bedrock-out', MODELS[provider])
      ceiling = { seconds: Math.min(ceiling.seconds, run.seconds), cpuSeconds: Math.min(ceiling.cpuSeconds, run.cpuSeconds) }
    }
    cpuNotes.push(
      `results ${provider} ceiling in one thread (the gateway's line conversion alone, no HTTP): ${ceiling.cpuSeconds.toFixed(2)} CPU-s → ` +
        `${(base.cpuSeconds / ceiling.cpuSeconds).toFixed(2)}× the map loop by CPU time, ${(mib(bytes) / ceiling.seconds / baseline).toFixed(2)}× by wall clock`,
    )
    if (read.lines !== file.lines) throw new Error(`${provider} results: ${read.lines} output lines for ${file.lines} requests`)
  } finally {
    rmSync(file.path, { force: true })
  }
}

/** 1 GiB offered to OpenAI (512 MiB cap): how long after the cap the answer comes. */
async function refuse(gw: GatewayProcess): Promise<void> {
  const cap = KIND_LIMITS.openai.maxUploadBytes
  let worst = 0
  let sent = 0
  let status = 0
  const peak = watchPeak(gw.pid)
  for (let i = 0; i < opts.repeat; i++) {
    const r = await overCapUpload(gw.url, 'openai', cap, 1024 * MiB)
    if (r.secondsAfterCap === null) throw new Error('the upload never reached the cap')
    worst = Math.max(worst, r.secondsAfterCap)
    sent = Math.max(sent, r.sent)
    status = r.status
  }
  rows.push({
    name: `over-cap upload, 1 GiB to openai (cap ${mib(cap)} MiB): answered after the cap (${status || 'closed'}, ${mib(sent).toFixed(0)} MiB sent)`,
    note: `${worst.toFixed(3)} s`,
    met: worst <= GOALS.refuseSeconds,
    peakRss: peak.stop(),
  })
}

async function generate(provider: Provider, bytes: number, o: { lineBytes: number; maxLines?: number }): Promise<GeneratedFile> {
  note(`generating ${provider} input (${mib(bytes)} MiB${o.maxLines ? `, ≤ ${o.maxLines} lines` : ''})`)
  const path = join(runDir, `input-${provider}-${bytes}.jsonl`)
  return generateBatchFile(path, { bytes, lineBytes: o.lineBytes, model: MODELS[provider], ...(o.maxLines ? { maxLines: o.maxLines } : {}) })
}

/** Paths of the result files the fake wrote, i.e. what the gateway reads and converts. */
function upstreamResultFiles(all: AllFakes, provider: 'bedrock' | 'gemini'): string[] {
  if (provider === 'gemini') return [...all.gemini.files.values()].filter((f) => f.source === 'GENERATED').map((f) => f.path)
  return all.s3.listKeys(TEST_BUCKET).filter((k) => k.endsWith('.jsonl.out')).map((k) => all.s3.store.object(TEST_BUCKET, k).path)
}

/** Best of --repeat + 1 runs (the first also warms the page cache and the JIT); MiB/s. */
async function measureBaseline(paths: string | string[], mode: BaselineMode): Promise<number> {
  return (await baselineRuns(paths, mode)).mibPerSecond
}

/** measureBaseline, plus the least CPU time (user + system) one run took. */
async function baselineRuns(paths: string | string[], mode: BaselineMode): Promise<{ mibPerSecond: number; cpuSeconds: number }> {
  const list = Array.isArray(paths) ? paths : [paths]
  note(`baseline ${mode} loop (${opts.repeat + 1} runs, best kept)`)
  let best = Number.POSITIVE_INFINITY
  let bestCpu = Number.POSITIVE_INFINITY
  let bytes = 0
  for (let i = 0; i <= opts.repeat; i++) {
    let seconds = 0
    bytes = 0
    const cpu = process.cpuUsage()
    for (const path of list) {
      const r = await baselineLoop(path, mode)
      seconds += r.seconds
      bytes += r.bytes
    }
    const used = process.cpuUsage(cpu)
    best = Math.min(best, seconds)
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1e6)
  }
  return { mibPerSecond: mib(bytes) / best, cpuSeconds: bestCpu }
}

/**
 * One upload row and its ceiling: the same request (same client, same field order) sent to the
 * gateway and to the bare relay, alternating which goes first, --repeat times each; the fastest
 * of each is kept, and each one's peak RSS and least CPU seconds per upload.
 */
async function measureUpload(gw: GatewayProcess, row: Row, provider: Provider, path: string, order: 'fields-first' | 'file-first'): Promise<void> {
  note(`${row.name} (+ ceiling)`)
  const targets = [
    { proc: gw, url: gw.url, best: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY, peak: 0 },
    ...(relay ? [{ proc: relay, url: `${relay.url}/${provider}`, best: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY, peak: 0 }] : []),
  ]
  for (let i = 0; i < opts.repeat; i++) {
    for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
      const peak = watchPeak(t.proc.pid)
      const cpu = cpuSeconds(t.proc.pid)
      const started = performance.now()
      try {
        await uploadBatchFile(t.url, provider, path, order)
      } finally {
        t.peak = Math.max(t.peak, peak.stop())
      }
      t.best = Math.min(t.best, (performance.now() - started) / 1000)
      t.cpu = Math.min(t.cpu, cpuSeconds(t.proc.pid) - cpu)
    }
  }
  const [g, r] = targets as [(typeof targets)[0], (typeof targets)[0] | undefined]
  const bytes = row.bytes as number
  rows.push({ ...row, seconds: g.best, peakRss: g.peak, ...(r ? { ceiling: mib(bytes) / r.best } : {}) })
  if (!r) return
  rows.push({ name: '  ceiling: bare relay, same request, no validation', bytes, seconds: r.best, baseline: row.baseline, goal: row.goal, isCeiling: true, ceilingOf: row.name, peakRss: r.peak })
  cpuNotes.push(`${row.name}: gateway ${g.cpu.toFixed(2)} CPU-s per upload, bare relay ${r.cpu.toFixed(2)} CPU-s`)
}

/**
 * Runs `work` --repeat times; keeps the fastest time (the least disturbed by the machine's other
 * load) and the highest peak RSS of the gateway over any of the runs.
 */
async function measure<T>(gw: GatewayProcess, row: Row, work: () => Promise<T>): Promise<T> {
  note(row.name)
  let best = Number.POSITIVE_INFINITY
  let peakRss = 0
  let result: T | undefined
  for (let i = 0; i < opts.repeat; i++) {
    const peak = watchPeak(gw.pid)
    const started = performance.now()
    try {
      result = await work()
    } finally {
      const p = peak.stop()
      peakRss = Math.max(peakRss, p)
    }
    best = Math.min(best, (performance.now() - started) / 1000)
  }
  rows.push({ ...row, seconds: best, peakRss })
  return result as T
}
