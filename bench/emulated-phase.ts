// The `emulated` phase of bench/run.ts (issue 17): a gateway with a `kind = "emulated"` instance
// at concurrency 64 in front of the local chat-completions fake (test/fakes/chat-completions.ts).
// - throughput: requests/s of one emulated batch against a bare client loop sending the same
//   requests to the same server with the same concurrency, measured in this run (goal ≥ 0.9×),
//   both sides warmed up first, and beside it two ceilings measured in the same run: the runner
//   alone in its own process, with and without recording the answers (bench/emulated-ceiling.ts);
// - memory: the gateway's peak RSS while it runs a 100 000-request batch (goal < 200 MiB, flat).

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChatFake } from '../test/fakes/chat-completions'
import { createBatch, uploadBatchFile, waitForBatch } from './client'
import { spawnGateway } from './gateway-process'
import { cpuSeconds, mib, watchPeak } from './rss'
import { readdirSync, readFileSync } from 'node:fs'
function threadsOf(pid: number) { const out: Record<string, number> = {}; for (const t of readdirSync(`/proc/${pid}/task`)) { try { const comm = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(); const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); out[`${comm}#${t}`] = (Number(f[11]) + Number(f[12])) * 10 } catch {} } return out }

const CONCURRENCY = 64
const MODEL = 'bench-model'
const GOAL_RATIO = 0.9
const RSS_GOAL_MIB = 200
/**
 * Both sides run this many requests before they are timed: the bare loop, and one batch through
 * the gateway (upload, create, run, polls). Throughput is what is compared, not the first
 * request's compilation: the cold create alone took 40–60 ms of a ~0.5 s batch (route handlers,
 * the runner and the store's statements compiled on first use), the bare loop's first requests
 * are slower too.
 */
const WARM_UP_REQUESTS = 10000

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
  record: 'ceiling: the runner alone, every answer recorded in SQLite',
} as const

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

    note(`emulated: bare loop, ${args.requests} requests at concurrency ${CONCURRENCY}`)
    // CPU per request beside the rates: on a loaded machine the wall-clock ratio follows the CPU
    // each side spends (bare: this process as client and server; emulated: gateway + server).
    const bareCpu = process.cpuUsage()
    const bareSeconds = await bareLoop(fake.url, fake.apiKey, 0, args.requests)
    const bareRate = args.requests / bareSeconds
    const bareUs = cpuMicros(process.cpuUsage(bareCpu)) / args.requests

    note(`emulated: one batch of ${args.requests} requests`)
    const input = join(runDir, 'emulated-input.jsonl')
    writeInput(input, 0, args.requests)
    const file = await uploadBatchFile(gw.url, 'local', input)
    const started = performance.now()
    const benchCpu = process.cpuUsage()
    const gatewayCpu = cpuSeconds(gw.pid)
    const th0 = threadsOf(gw.pid)
    const batch = await createBatch(gw.url, 'local', file.id, MODEL)
    note(`emulated: create answered after ${((performance.now() - started) / 1000).toFixed(2)} s`)
    // Polled every 20 ms: the batch takes about a second, so 200 ms steps would swamp the ratio.
    const done = await waitForBatch(gw.url, batch.id, 30 * 60_000, 20)
    const batchSeconds = (performance.now() - started) / 1000
    const gatewayUs = ((cpuSeconds(gw.pid) - gatewayCpu) * 1e6) / args.requests
    { const th1 = threadsOf(gw.pid); note('THREADS ' + Object.entries(th1).map(([k, v]) => [k, ((v - (th0[k] ?? 0)) * 1000 / args.requests)] as const).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v.toFixed(1)}`).join(' ')) }
    const serverUs = cpuMicros(process.cpuUsage(benchCpu)) / args.requests
    if (done.status !== 'completed') throw new Error(`emulated batch ended ${done.status}`)
    const batchRate = args.requests / batchSeconds
    const ratio = batchRate / bareRate
    out.push(`| emulated batch, ${args.requests} requests, concurrency ${CONCURRENCY} | ${batchRate.toFixed(0)} req/s | bare loop ${bareRate.toFixed(0)} req/s | ${ratio.toFixed(2)}× | goal ≥ ${GOAL_RATIO}× | ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'} |`)
    out.push(
      `| CPU per request (all threads) | gateway ${gatewayUs.toFixed(1)} µs + server and polls ${serverUs.toFixed(1)} µs | bare loop, client and server ${bareUs.toFixed(1)} µs | ${(bareUs / (gatewayUs + serverUs)).toFixed(2)}× | | |`,
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
