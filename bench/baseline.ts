// The CPU baseline: the least any JSONL converter written in Bun must do — read the file, split it
// into lines, JSON.parse and JSON.stringify each one — with no validation, no conversion, no HTTP
// and no writes. Gateway throughput is reported as a ratio to this loop, measured in the same run.

export interface BaselineResult {
  bytes: number
  lines: number
  /** Characters produced by JSON.stringify: summed so the work cannot be optimised away. */
  outChars: number
  seconds: number
}

export async function baselineLoop(path: string): Promise<BaselineResult> {
  const started = performance.now()
  const decoder = new TextDecoder()
  let bytes = 0
  let lines = 0
  let outChars = 0
  let pending = ''
  const each = (text: string): void => {
    if (text.length === 0) return
    outChars += JSON.stringify(JSON.parse(text)).length
    lines++
  }
  for await (const chunk of Bun.file(path).stream()) {
    bytes += chunk.length
    const text = pending + decoder.decode(chunk, { stream: true })
    let start = 0
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      each(text.slice(start, nl))
      start = nl + 1
    }
    pending = text.slice(start)
  }
  each(pending + decoder.decode())
  return { bytes, lines, outChars, seconds: (performance.now() - started) / 1000 }
}
