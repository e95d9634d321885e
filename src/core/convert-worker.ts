// A conversion worker (convert-pool.ts): converts one byte range of a spooled batch file — whole
// lines, cut at newlines by the pool — to its own output and ids files, and reports what the
// pool needs to check the file's rules across slices. Errors go back as messages, never thrown
// across the thread boundary, so the pool can name the exact line by re-running that slice.
// Listed as an entrypoint of the compiled binary (package.json "build"), as Bun requires.

import { BatchFileConverter, type ConverterLimits, localChunks, type SliceSummary } from './batch-file'
import type { ProviderKind, ProviderName } from './provider-name'

export interface SliceJob {
  path: string
  start: number
  end: number
  provider: { name: ProviderName; kind: ProviderKind }
  limits: ConverterLimits
  outPath: string
  idsPath: string
}

export type SliceReply = { ok: true; summary: SliceSummary } | { ok: false; message: string }

declare const self: Worker

self.onmessage = async (event: MessageEvent<SliceJob>) => {
  const job = event.data
  let reply: SliceReply
  try {
    const converter = await BatchFileConverter.open(job.provider, {
      outPath: job.outPath,
      idsPath: job.idsPath,
      limits: job.limits,
      // Relative numbering: only the pool knows how many lines come before this slice.
      slice: job.start === 0 ? {} : { firstLine: 1 },
    })
    try {
      for await (const chunk of localChunks(job.path, job.start, job.end)) await converter.push(chunk)
    } catch (err) {
      await converter.abort()
      throw err
    }
    reply = { ok: true, summary: await converter.endSlice() }
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) }
  }
  self.postMessage(reply)
}
