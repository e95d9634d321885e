// The least a durable emulated runner must do, as a third ceiling beside the emulated row
// (bench/emulated-phase.ts): the bench's bare client loop — 64 workers, a JSON.stringify'd body
// per request, fetch, read the answer — plus the durability rule: every answer appended to
// a file (one write per group of answers that arrived in the same event-loop turn) before the
// worker may send its next request. No input file, no result lines, no store, no HTTP API: what
// separates this from the bare loop is the price of the rule alone; what separates the gateway
// from this is everything the gateway does besides.
//
// bun bench/durable-loop.ts <base url> <api key> <requests> <log file>
// prints one JSON line: { seconds, cpuUs } (CPU per request, all threads of this process).

import { openSync, writeSync } from 'node:fs'

const [url, apiKey, requestsArg, logPath] = process.argv.slice(2)
if (!url || !apiKey || !requestsArg || !logPath) {
  console.error('usage: bun bench/durable-loop.ts <base url> <api key> <requests> <log file>')
  process.exit(2)
}
const requests = Number(requestsArg)
const CONCURRENCY = 64
const fd = openSync(logPath, 'a')

let queue: string[] = []
let waiting: Array<() => void> = []
let scheduled = false
/** Resolves once this answer is in the file (group commit at the end of the event-loop turn). */
function record(line: string): Promise<void> {
  queue.push(line)
  const written = new Promise<void>((resolve) => waiting.push(resolve))
  if (!scheduled) {
    scheduled = true
    setImmediate(() => {
      const text = queue.join('')
      const done = waiting
      queue = []
      waiting = []
      scheduled = false
      writeSync(fd, text)
      for (const resolve of done) resolve()
    })
  }
  return written
}

async function loop(from: number, count: number): Promise<number> {
  let next = from
  const started = performance.now()
  const worker = async () => {
    while (next < from + count) {
      const i = next++
      const body = JSON.stringify({ model: 'bench-model', max_tokens: 16, messages: [{ role: 'user', content: `bench prompt ${i}` }] })
      const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body })
      await record(`${i}\t${await res.text()}\n`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (performance.now() - started) / 1000
}

await loop(0, 10_000)
const cpu = process.cpuUsage()
const seconds = await loop(0, requests)
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({ seconds, cpuUs: (used.user + used.system) / requests }))
process.exit(0)
