// The emulated row's ceilings (bench/emulated-phase.ts), each in its own process like the
// gateway, against the same server: the gateway's runner (providers/emulated/runner.ts) with no
// HTTP API, no polls and no create, over the same input file, after one untimed run (the gateway
// is timed warm too) —
// - `send`: every line read, sent, and its answer stored, but nothing recorded (the group
//   commit's write is a no-op);
// - `record`: the same plus the durable record of every answer (SQLite store: the run's result
//   log; the runner as it runs).
// What separates `send` from the bare loop is what the runner does besides the request; what
// separates `record` from `send` is the durability the issue asks for. bench/durable-loop.ts is
// the third ceiling: the bare loop itself with that durability added.
//
// bun bench/emulated-ceiling.ts <base url> <api key> <input.jsonl> <lines> send|record <data dir>
// prints one JSON line: { seconds, cpuUs } (CPU per request, all threads of this process).

import type { RecordedResult } from '../src/store/emulated-runs'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { EmulatedRunner } from '../src/providers/emulated/runner'
import { openStore } from '../src/store/store'

const [baseUrl, apiKey, input, linesArg, mode, dataDir] = process.argv.slice(2)
if (!baseUrl || !apiKey || !input || !linesArg || (mode !== 'send' && mode !== 'record') || !dataDir) {
  console.error('usage: bun bench/emulated-ceiling.ts <base url> <api key> <input.jsonl> <lines> send|record <data dir>')
  process.exit(2)
}
const lines = Number(linesArg)
const store = openStore(dataDir)
const settings = { baseUrl, apiKey, concurrency: 64, requestsPerMinute: null, tokensPerMinute: null, completionWindowSeconds: null, models: null, requestTimeoutMs: 600_000 }
const runner = new EmulatedRunner('ceiling', settings, store, 3_600_000)

// The answers counted as they reach the group commit: the end of a run in both modes.
let answered = 0
let allAnswered = () => {}
const write = store.emulated.recordMany.bind(store.emulated)
store.emulated.recordMany = async (run: string, rows: readonly RecordedResult[]) => {
  if (mode === 'record') await write(run, rows)
  answered += rows.length
  if (answered >= lines) allAnswered()
}

/** One run over a copy of the input, from kick to its last answer. */
async function runOnce(id: string): Promise<number> {
  const copy = join(dataDir as string, `${id}.jsonl`)
  copyFileSync(input as string, copy)
  await store.blobs.put(copy, id, 'content')
  const now = Math.floor(Date.now() / 1000)
  await store.emulated.create({ id, provider: 'ceiling', endpoint: '/v1/chat/completions', total: lines, model: null, createdAt: now, expiresAt: now + 86_400 })
  answered = 0
  const done = new Promise<void>((resolve) => (allAnswered = resolve))
  const started = performance.now()
  runner.kick(id)
  await done
  return (performance.now() - started) / 1000
}

// Warmed up like the gateway (bench/emulated-phase.ts): one run first, not timed.
await runOnce('batch_warm')
const cpu = process.cpuUsage()
const seconds = await runOnce('batch_ceiling')
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({ seconds, cpuUs: (used.user + used.system) / lines }))
runner.stop()
await store.close()
process.exit(0)
