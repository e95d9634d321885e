// The ceiling of a results download in one thread (issue 12): the gateway's own line conversion
// — the reader, writer and JSON.stringify a download runs, with the depth check and the shape
// checks — over the upstream file in the bench process: no HTTP, no streams, no packing into
// bytes. Timed in the same run as the map loop, it is the best a one-thread download doing this
// conversion could reach; HTTP in and out come on top of it.

import { LineSplitter } from '../src/convert/lines'
import { resultLineReader, resultLineWriter } from '../src/convert/pairs'
import type { ResultFormat } from '../src/core/batch'

export interface CeilingRun {
  seconds: number
  cpuSeconds: number
}

/** One pass over `paths`: every line read and converted, the succeeded ones written as OpenAI output lines. */
export async function conversionLoop(paths: string[], format: ResultFormat, model: string): Promise<CeilingRun> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  const read = resultLineReader(format, { model })
  const write = resultLineWriter('openai', { created: 1 })
  let outChars = 0
  for (const path of paths) {
    const splitter = new LineSplitter(
      (text, line) => {
        const result = read(text, line)
        if (result.type === 'succeeded') outChars += JSON.stringify(write(result)).length
      },
      { maxLineBytes: 1 << 30 },
    )
    for await (const chunk of Bun.file(path).stream()) splitter.push(chunk)
    splitter.end()
  }
  if (outChars === 0) throw new Error('the conversion ceiling wrote nothing')
  const used = process.cpuUsage(cpu)
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 }
}
