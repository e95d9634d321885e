// The `instrumentation` phase of bench/run.ts (issue 13): what metrics, the access log and
// traces cost. Two gateways in one run — one with everything on and traces exported over OTLP/HTTP
// to a sink in this process, one with BATCHGATE_INSTRUMENTATION=off — measured interleaved so
// both see the same machine:
// - metadata latency: sequential GETs of one ended batch (answered from the store), p50 each
//   and the difference (goal < 0.1 ms);
// - upload throughput: one passthrough upload (→ openai) per gateway per round, best of the
//   rounds, as the on/off ratio (goal: on loses < 3 %).

import { join } from 'node:path'
import { createBatch, uploadBatchFile, waitForBatch } from './client'
import { type GatewayProcess, spawnGateway } from './gateway-process'
import { generateBatchFile } from './generate'
import { pct } from './stats'
import { mib } from './rss'

const GETS = 2000
const WARMUP = 200
const UPLOAD_BYTES = 64 * 1024 ** 2
const ROUNDS = 3

export async function runInstrumentationPhase(args: {
  runDir: string
  gatewayEnv: Record<string, string>
  lineBytes: number
  repeat: number
  note: (text: string) => void
}): Promise<string> {
  const { runDir, note } = args
  let spans = 0
  // An OTLP/HTTP collector that counts what it is sent, so exporting is part of what is measured.
  const sink = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> }
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0
      return Response.json({})
    },
  })
  const on = await spawnGateway(
    { ...args.gatewayEnv, BATCHGATE_DATA_DIR: join(runDir, 'data-instr-on'), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` },
    join(runDir, 'gateway-instr-on.log'),
  )
  const off = await spawnGateway(
    { ...args.gatewayEnv, BATCHGATE_DATA_DIR: join(runDir, 'data-instr-off'), BATCHGATE_INSTRUMENTATION: 'off' },
    join(runDir, 'gateway-instr-off.log'),
  )
  try {
    const file = await generateBatchFile(join(runDir, 'instr-input.jsonl'), { bytes: UPLOAD_BYTES, lineBytes: args.lineBytes, model: 'gpt-4o-mini' })
    note(`instrumentation: ${ROUNDS * Math.max(1, args.repeat)} rounds of a ${mib(file.bytes).toFixed(0)} MiB upload on each gateway, then ${GETS} GETs each`)
    const best = { on: Number.POSITIVE_INFINITY, off: Number.POSITIVE_INFINITY }
    const ids: Record<'on' | 'off', string> = { on: '', off: '' }
    for (let round = 0; round < ROUNDS * Math.max(1, args.repeat); round++) {
      // Alternating which goes first keeps a warming or busier machine from favouring one side.
      const order: Array<['on' | 'off', GatewayProcess]> = round % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]]
      for (const [side, gw] of order) {
        const started = performance.now()
        ids[side] = (await uploadBatchFile(gw.url, 'openai', file.path)).id
        best[side] = Math.min(best[side], (performance.now() - started) / 1000)
      }
    }
    const batches = { on: await ended(on, ids.on), off: await ended(off, ids.off) }
    const ms = await interleavedLatencies(`${on.url}/openai/v1/batches/${batches.on}`, `${off.url}/openai/v1/batches/${batches.off}`)
    const rate = { on: mib(file.bytes) / best.on, off: mib(file.bytes) / best.off }
    const p50 = { on: pct(ms.on, 50), off: pct(ms.off, 50) }
    const added = p50.on - p50.off
    const ratio = rate.on / rate.off
    return [
      '| instrumentation | GET batch p50 ms | p95 ms | upload MiB/s |',
      '|---|---:|---:|---:|',
      `| on (metrics, access log, OTLP traces) | ${p50.on.toFixed(3)} | ${pct(ms.on, 95).toFixed(3)} | ${rate.on.toFixed(1)} |`,
      `| off (BATCHGATE_INSTRUMENTATION=off) | ${p50.off.toFixed(3)} | ${pct(ms.off, 95).toFixed(3)} | ${rate.off.toFixed(1)} |`,
      '',
      `Instrumentation adds ${added.toFixed(3)} ms to GET batch p50 (goal < 0.1 ms: ${added < 0.1 ? 'met' : 'NOT met'}); ` +
        `upload throughput with it is ${(ratio * 100).toFixed(1)} % of without (goal ≥ 97 %: ${ratio >= 0.97 ? 'met' : 'NOT met'}); ` +
        `${spans} spans exported.`,
    ].join('\n')
  } finally {
    await on.stop()
    await off.stop()
    await sink.stop(true)
  }
}

async function ended(gw: GatewayProcess, fileId: string): Promise<string> {
  const batch = await createBatch(gw.url, 'openai', fileId, 'gpt-4o-mini')
  await waitForBatch(gw.url, batch.id, 10 * 60_000)
  return batch.id
}

/** Sequential GETs, alternating between the two gateways; milliseconds each after a warm-up. */
async function interleavedLatencies(onUrl: string, offUrl: string): Promise<{ on: number[]; off: number[] }> {
  const out = { on: [] as number[], off: [] as number[] }
  for (let i = 0; i < WARMUP + GETS; i++) {
    for (const [side, url] of [['on', onUrl], ['off', offUrl]] as const) {
      const started = performance.now()
      const res = await fetch(url)
      if (!res.ok) throw new Error(`GET ${url} → ${res.status}`)
      await res.arrayBuffer()
      if (i >= WARMUP) out[side].push(performance.now() - started)
    }
  }
  return out
}
