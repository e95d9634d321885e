// The `emulated` phase of bench/run.ts (issue 17): a gateway with a `kind = "emulated"` instance
// at concurrency 64 in front of the local chat-completions fake (test/fakes/chat-completions.ts).
// - throughput: requests/s of an emulated batch against a bare client loop sending the same
//   requests to the same server with the same concurrency (goal ≥ 0.9×), both sides warmed up
//   first, as the median of paired rounds in this run; beside it the gateway's CPU per request by
//   thread, and two ceilings measured in the same run: the runner alone in its own process, with
//   and without recording the answers (bench/emulated-ceiling.ts);
// - memory: the gateway's peak RSS while it runs a 100 000-request batch (goal < 200 MiB, flat).

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChatFake } from '../test/fakes/chat-completions'
import { createBatch, uploadBatchFile, waitForBatch, waitForSettlement } from './client'
import { spawnGateway } from './gateway-process'
import { cpuSeconds, mib, threadCpuSeconds, waitIdle, watchPeak } from './rss'
import { median } from './stats'

const CONCURRENCY = 64
const MODEL = 'bench-model'
const GOAL_RATIO = 0.9
const RSS_GOAL_MIB = 200
/**
 * Both sides run this many requests before they are timed: the bare loop, and one batch through
 * the gateway (upload, create, run, polls). Throughput is what is compared, not the first
 * request's compilation: the cold create alone took 40–60 ms of a ~0.5 s batch (route handlers,
 * the runner and the store's statements compiled on first use), the bare loop's first requests
 * are slower too. After 2 000 requests the JIT threads still spent 3–4 µs per request of the timed
 * batch (optimizing tiers compiled); after 10 000, 1–2 µs — a gateway that has run for a while.
 */
const WARM_UP_REQUESTS = 10_000

const line = (i: number) =>
  JSON.stringify({ custom_id: `b-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: `bench prompt ${i}` }] } })

function writeInput(path: string, from: number, count: number): void {
  const lines: string[] = []
  for (let i = from; i < from + count; i++) lines.push(line(i))
  writeFileSync(path, `${lines.join('\n')}\n`)
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system

/** The bare loop: CONCURRENCY workers sending the requests one after another. */
async function bareLoop(url: string, apiKey: string, from: number, count: number): Promise<number> {
  let next = from
  const started = performance.now()
  const worker = async () => {
    while (next < from + count) {
      const i = next++
      const body = JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: `bench prompt ${i}` }] })
      const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body })
      await res.text()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (performance.now() - started) / 1000
}

const CEILINGS = {
  send: 'ceiling: the runner alone (no HTTP API, polls or create), answers not recorded',
  record: 'ceiling: the runner alone, every answer recorded (SQLite store: the run’s result log)',
} as const

/** bench/durable-loop.ts in its own process against the same server. */
async function runDurableLoop(runDir: string, fake: { url: string; apiKey: string }, requests: number): Promise<{ seconds: number; cpuUs: number }> {
  collectBench()
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'durable-loop.ts'), fake.url, fake.apiKey, String(requests), join(runDir, 'durable-loop.log')], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const out = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`the durable loop exited with ${child.exitCode}`)
  return JSON.parse(out.trim().split('\n').at(-1) as string) as { seconds: number; cpuUs: number }
}

/** One ceiling run in its own process, over its own copy of the same requests. */
async function runCeiling(runDir: string, fake: { url: string; apiKey: string }, requests: number, mode: 'send' | 'record'): Promise<{ seconds: number; cpuUs: number }> {
  const input = join(runDir, `emulated-ceiling-${mode}.jsonl`)
  writeInput(input, 0, requests)
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'emulated-ceiling.ts'), fake.url, fake.apiKey, input, String(requests), mode, join(runDir, `emulated-ceiling-${mode}`)], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const out = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`the ${mode} ceiling exited with ${child.exitCode}`)
  return JSON.parse(out.trim().split('\n').at(-1) as string) as { seconds: number; cpuUs: number }
}

/** Paired rounds (bare loop and batch); seven of 50 000 requests take ~30 s with the ceilings. */
const ROUNDS = 7

interface Round {
  bareRate: number
  bareUs: number
  batchRate: number
  gatewayUs: number
  serverUs: number
  /** Gateway CPU µs per request by thread name. */
  threads: Map<string, number>
  /** Gateway CPU seconds after the batch was seen completed, until the gateway was idle again. */
  settleSeconds: number
}

/**
 * This process (the server, and the bare loop's client) collects its garbage before each timed
 * run: a bare loop left more of it than a batch's server side did, and the run after paid for it
 * (rounds ran 0.1× apart by their order alone).
 */
const collectBench = () => Bun.gc(true)

/** The bare loop once, with this process's CPU per request (client and server). */
async function timeBare(fake: { url: string; apiKey: string }, requests: number): Promise<Pick<Round, 'bareRate' | 'bareUs'>> {
  collectBench()
  const cpu = process.cpuUsage()
  const seconds = await bareLoop(fake.url, fake.apiKey, 0, requests)
  return { bareRate: requests / seconds, bareUs: cpuMicros(process.cpuUsage(cpu)) / requests }
}

/** One batch over the uploaded file, from create to the poll that sees it completed. */
async function timeBatch(gw: { url: string; pid: number }, fileId: string, requests: number): Promise<Omit<Round, 'bareRate' | 'bareUs'>> {
  collectBench()
  const started = performance.now()
  const benchCpu = process.cpuUsage()
  const gatewayCpu = cpuSeconds(gw.pid)
  const threads = threadCpuSeconds(gw.pid)
  const batch = await createBatch(gw.url, 'local', fileId, MODEL)
  // Polled every 20 ms: a batch takes about a second, so 200 ms steps would swamp the ratio.
  const done = await waitForBatch(gw.url, batch.id, 30 * 60_000, 20)
  const seconds = (performance.now() - started) / 1000
  if (done.status !== 'completed') throw new Error(`emulated batch ended ${done.status}`)
  const gatewayUs = ((cpuSeconds(gw.pid) - gatewayCpu) * 1e6) / requests
  const perRequest = new Map<string, number>()
  for (const [name, total] of threadCpuSeconds(gw.pid)) perRequest.set(name, ((total - (threads.get(name) ?? 0)) * 1e6) / requests)
  // What the gateway does after the batch ended (usage settled from the results at the watcher's
  // next tick, up to a second later; result files adopted), measured apart: a batch's throughput
  // ends when the client sees it completed. The next timed run starts only once that is done.
  const settleFrom = cpuSeconds(gw.pid)
  await waitForSettlement(gw.url, batch.id, 60_000, 20)
  await waitIdle(gw.pid)
  const settleSeconds = cpuSeconds(gw.pid) - settleFrom
  return {
    batchRate: requests / seconds,
    gatewayUs,
    settleSeconds,
    serverUs: cpuMicros(process.cpuUsage(benchCpu)) / requests,
    threads: perRequest,
  }
}

/** The event loop, Bun's HTTP client thread, and the rest (JIT, GC, checkpoints), as medians. */
function threadRow(rounds: readonly Round[]): string {
  const of = (r: Round, pick: (name: string) => boolean) => [...r.threads].filter(([name]) => pick(name)).reduce((sum, [, us]) => sum + us, 0)
  const loop = median(rounds.map((r) => of(r, (n) => n === 'bun' || n === 'bun.exe' || n === 'batchgate')))
  const http = median(rounds.map((r) => of(r, (n) => n === 'HTTP Client')))
  const rest = median(rounds.map((r) => of(r, (n) => !['bun', 'bun.exe', 'batchgate', 'HTTP Client'].includes(n))))
  return `event loop ${loop.toFixed(1)} µs, HTTP client thread ${http.toFixed(1)} µs, JIT/GC/other threads ${rest.toFixed(1)} µs (ticks of 10 ms: ±0.5 µs)`
}

export async function runEmulatedPhase(args: { runDir: string; requests: number; rssRequests: number; note: (t: string) => void; cpuProfDir?: string | null }): Promise<string> {
  const { runDir, note } = args
  const fake = startChatFake({ apiKey: 'bench-key' })
  const config = join(runDir, 'emulated.toml')
  writeFileSync(config, `[providers.local]\nkind = "emulated"\nbase_url = "${fake.url}"\napi_key_env = "BENCH_LOCAL_KEY"\nconcurrency = ${CONCURRENCY}\n`)
  const gw = await spawnGateway(
    { BATCHGATE_DATA_DIR: join(runDir, 'emulated-data'), BATCHGATE_CONFIG: config, BENCH_LOCAL_KEY: 'bench-key' },
    join(runDir, 'emulated-gateway.log'),
    args.cpuProfDir,
  )
  const out: string[] = []
  try {
    note(`emulated: warm-up, ${WARM_UP_REQUESTS} requests on each side`)
    await bareLoop(fake.url, fake.apiKey, 0, WARM_UP_REQUESTS)
    const warmInput = join(runDir, 'emulated-warm.jsonl')
    writeInput(warmInput, 0, WARM_UP_REQUESTS)
    const warm = await createBatch(gw.url, 'local', (await uploadBatchFile(gw.url, 'local', warmInput)).id, MODEL)
    if ((await waitForBatch(gw.url, warm.id, 5 * 60_000, 20)).status !== 'completed') throw new Error('the warm-up batch did not complete')
    await waitForSettlement(gw.url, warm.id, 60_000, 20)
    await waitIdle(gw.pid)

    // Paired rounds, the order alternating (bare first, then the batch first, …): on a shared
    // machine one run of each swung ±20 % with the neighbours' load; the verdict is the median of
    // the rounds' ratios, each taken from two runs a few seconds apart. Rounds of 50 000 requests
    // (about a second a side): with 20 000 the medians of three runs spread 0.77–0.97. Every timed
    // run starts with the gateway idle (timeBatch waits out each batch's settlement).
    const input = join(runDir, 'emulated-input.jsonl')
    writeInput(input, 0, args.requests)
    const file = await uploadBatchFile(gw.url, 'local', input)
    const rounds: Round[] = []
    for (let r = 0; r < ROUNDS; r++) {
      note(`emulated: round ${r + 1} of ${ROUNDS}, bare loop and one batch of ${args.requests} requests`)
      let bare: Awaited<ReturnType<typeof timeBare>> | null = null
      if (r % 2 === 0) bare = await timeBare(fake, args.requests)
      const batch = await timeBatch(gw, file.id, args.requests)
      if (r % 2 === 1) bare = await timeBare(fake, args.requests)
      rounds.push({ ...(bare as Awaited<ReturnType<typeof timeBare>>), ...batch })
    }
    const m = (f: (r: Round) => number) => median(rounds.map(f))
    const ratios = rounds.map((r) => r.batchRate / r.bareRate)
    const ratio = median(ratios)
    const bareRate = m((r) => r.bareRate)
    out.push(
      `| emulated batch, ${args.requests} requests, concurrency ${CONCURRENCY}: median of ${ROUNDS} paired rounds (each round's ratio: ${ratios.map((x) => x.toFixed(2)).join(', ')}) | ${m((r) => r.batchRate).toFixed(0)} req/s | bare loop ${bareRate.toFixed(0)} req/s | ${ratio.toFixed(2)}× | goal ≥ ${GOAL_RATIO}× | ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'} |`,
    )
    out.push(
      `| CPU per request (all threads), medians | gateway ${m((r) => r.gatewayUs).toFixed(1)} µs + server and polls ${m((r) => r.serverUs).toFixed(1)} µs | bare loop, client and server ${m((r) => r.bareUs).toFixed(1)} µs | | | |`,
    )
    out.push(`| gateway CPU per request by thread, medians | ${threadRow(rounds)} | | | | |`)
    out.push(`| after each batch, outside the timed window: usage settled from the results, result files adopted | ${(m((r) => r.settleSeconds) * 1000).toFixed(0)} ms of gateway CPU (median) | | | | |`)

    // The least a durable runner does (bench/durable-loop.ts), in its own process like the gateway.
    note('emulated: ceiling (durable), the bare loop plus a durable record of each answer')
    const durable = await runDurableLoop(runDir, fake, args.requests)
    out.push(
      `| ceiling: the bare loop + each answer written to a file before the next request (bench/durable-loop.ts, own process) | ${(args.requests / durable.seconds).toFixed(0)} req/s | bare loop ${bareRate.toFixed(0)} req/s | ${(args.requests / durable.seconds / bareRate).toFixed(2)}× | CPU ${durable.cpuUs.toFixed(1)} µs per request | ceiling |`,
    )
    // The ceilings, in the same run against the same bare loop (bench/emulated-ceiling.ts).
    for (const mode of ['send', 'record'] as const) {
      note(`emulated: ceiling (${mode}), the runner alone in its own process`)
      const ceiling = await runCeiling(runDir, fake, args.requests, mode)
      const rate = args.requests / ceiling.seconds
      out.push(`| ${CEILINGS[mode]} | ${rate.toFixed(0)} req/s | bare loop ${bareRate.toFixed(0)} req/s | ${(rate / bareRate).toFixed(2)}× | CPU ${ceiling.cpuUs.toFixed(1)} µs per request | ceiling |`)
    }

    note(`emulated: RSS during a ${args.rssRequests}-request batch`)
    const big = join(runDir, 'emulated-big.jsonl')
    writeInput(big, args.requests, args.rssRequests)
    const bigFile = await uploadBatchFile(gw.url, 'local', big)
    const peak = watchPeak(gw.pid, 50)
    const bigStarted = performance.now()
    const bigBatch = await createBatch(gw.url, 'local', bigFile.id, MODEL)
    const bigDone = await waitForBatch(gw.url, bigBatch.id, 60 * 60_000)
    const peakMib = mib(peak.stop())
    const bigSeconds = (performance.now() - bigStarted) / 1000
    if (bigDone.status !== 'completed') throw new Error(`emulated ${args.rssRequests}-request batch ended ${bigDone.status}`)
    out.push(`| emulated batch, ${args.rssRequests} requests: gateway peak RSS | ${peakMib.toFixed(0)} MiB | ${(args.rssRequests / bigSeconds).toFixed(0)} req/s | | goal < ${RSS_GOAL_MIB} MiB | ${peakMib < RSS_GOAL_MIB ? 'met' : 'NOT met'} |`)
  } finally {
    await gw.stop()
    await fake.close()
  }
  return ['| emulated phase | measured | baseline | ratio | goal | verdict |', '|---|---:|---:|---:|---|---|', ...out].join('\n')
}
