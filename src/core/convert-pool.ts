// Both cores for a large converting upload (issue 12): the spooled file is cut at newlines into
// part-sized slices, each converted by a Bun Worker (convert-worker.ts) to its own files, and the
// results joined in slice order — output order is the input's. The file's rules that span slices
// are checked here, in file order, so errors are exactly the single-threaded ones: a slice that
// failed (or broke a cross-slice rule: one endpoint, the request cap) is converted again in this
// thread, now knowing its first line number, endpoint and remaining request allowance, which
// throws the same error, naming the same line, as a one-thread conversion would. A worker that
// fails for its own reasons (it could not start) yields null: the caller converts in one thread.

import { open } from 'node:fs/promises'
import { iterateLines } from '../convert/lines'
import { invalid } from '../errors'
import { log } from '../log'
import { addConverted } from '../ops/metrics'
import { BatchFileConverter, type ConvertedBatchFile, type ConverterLimits, inputTarget, localChunks, type SliceSummary } from './batch-file'
import type { SliceJob, SliceReply } from './convert-worker'
import { CustomIdSet, findFirstDuplicate } from './custom-id-set'
import type { FileFacts } from './file'
import type { ProviderKind, ProviderName } from './provider-name'

export interface PoolOptions {
  /** Slices (and workers) at most. */
  workers: number
  /** A slice is at least this big: below it a worker costs more than it saves. */
  minSliceBytes: number
}

/**
 * One thread unless BATCHGATE_CONVERT_WORKERS says otherwise. Measured in the gateway on 2 cores
 * (docs/benchmark.md, "Converting uploads, third round"): four or two worker slices cost 1.8–2.2×
 * the CPU of one thread for a 256 MiB Gemini upload (worker start-up and cold JIT per upload, the
 * join's extra copy of the output, the ids read back) and finished later; with the client and the
 * provider on the same cores there is no idle one to win.
 */
export const DEFAULT_POOL: PoolOptions = { workers: 1, minSliceBytes: 32 * 1024 * 1024 }

export const sliceCount = (bytes: number, pool: PoolOptions): number => Math.max(1, Math.min(pool.workers, Math.floor(bytes / pool.minSliceBytes)))

/**
 * The worker's entry. In the compiled binary it is a second entrypoint of the build (package.json
 * "build"), found by its path under the entrypoints' common root (src/); measured: an absolute
 * `$bunfs` URL is not resolved there. From source, it is the file next to this one.
 */
const WORKER_URL = import.meta.url.startsWith('file:///$bunfs/')
  ? './core/convert-worker.ts'
  : new URL('./convert-worker.ts', import.meta.url).href
const LF = 0x0a
const SCAN_BYTES = 64 * 1024

export async function convertInSlices(
  source: { path: string; bytes: number },
  provider: { name: ProviderName; kind: ProviderKind },
  format: FileFacts['format'],
  outPath: string,
  limits: ConverterLimits,
  idsPath: string | undefined,
  slices: number,
): Promise<ConvertedBatchFile | null> {
  const bounds = await sliceBounds(source, slices)
  const files = bounds.map((_, k) => ({ out: `${outPath}.slice${k}`, ids: `${outPath}.slice${k}.ids` }))
  try {
    const replies = await Promise.all(
      bounds.map(([start, end], k) =>
        // Plain data only: the caller's provider may be an adapter holding credentials.
        runSlice({
          path: source.path,
          start,
          end,
          provider: { name: provider.name, kind: provider.kind },
          limits: { ...limits },
          outPath: files[k]?.out as string,
          idsPath: files[k]?.ids as string,
        }),
      ),
    )
    // File order: the first slice that broke a rule names the error.
    const summaries: SliceSummary[] = []
    const lineBase: number[] = []
    let linesBefore = 0
    let count = 0
    let endpoint: string | undefined
    for (const [k, reply] of replies.entries()) {
      const remaining = limits.maxBatchRequests - count
      const s = reply.ok ? reply.summary : null
      if (!s || (endpoint !== undefined && s.endpoint !== undefined && s.endpoint !== endpoint) || s.count > remaining) {
        await rerunToThrow(source, bounds[k] as [number, number], provider, limits, files[k]?.out as string, k === 0 ? undefined : linesBefore + 1, endpoint, remaining)
        // The slice is fine here: the worker itself failed (it could not start, or died).
        log('warn', 'conversion worker failed; converting in one thread', { slice: k, error: reply.ok ? 'summary mismatch' : reply.message.slice(0, 300) })
        return null
      }
      summaries.push(s)
      lineBase.push(k === 0 ? 0 : linesBefore)
      endpoint ??= s.endpoint
      linesBefore += s.lines
      count += s.count
    }
    if (count === 0) throw invalid('The batch file has no requests.', { param: 'file', code: 'empty_file' })
    const model = summaries.find((s) => s.count > 0)?.model
    const modelsAgree = summaries.every((s) => s.count === 0 || (s.modelsAgree && s.model === model))

    const idsWithLines = () => keptIds(files.map((f) => f.ids), summaries, lineBase, limits.maxLineBytes)
    const seen = new CustomIdSet()
    for await (const { id, line } of idsWithLines()) seen.add(id, line)
    const duplicate = await findFirstDuplicate(seen.suspects, idsWithLines())
    if (duplicate) {
      throw invalid(
        `line ${duplicate.line}: custom_id '${duplicate.id.slice(0, 80)}' repeats line ${duplicate.firstLine}; custom_ids must be unique`,
        { line: duplicate.line, param: 'custom_id', code: 'duplicate_custom_id' },
      )
    }
    const bytes = await join(files.map((f) => f.out), outPath)
    if (idsPath) await join(files.map((f) => f.ids), idsPath)
    // The workers counted their lines in their own copies of the metrics: counted here instead.
    addConverted('openai-line', inputTarget(provider.kind), count)
    return {
      path: outPath,
      bytes,
      facts: { format, lines: count, endpoint, model: modelsAgree ? model : undefined },
      idsWritten: idsPath !== undefined,
    }
  } finally {
    for (const f of files) {
      await Bun.file(f.out).delete().catch(() => undefined)
      await Bun.file(f.ids).delete().catch(() => undefined)
    }
  }
}

function runSlice(job: SliceJob): Promise<SliceReply> {
  return new Promise<SliceReply>((resolve) => {
    const worker = new Worker(WORKER_URL)
    worker.onmessage = (event: MessageEvent<SliceReply>) => {
      resolve(event.data)
      worker.terminate()
    }
    worker.onerror = (event) => {
      resolve({ ok: false, message: event.message })
      worker.terminate()
    }
    worker.postMessage(job)
  })
}

/** Converts a slice again in this thread with what earlier slices established: it throws their error. */
async function rerunToThrow(
  source: { path: string },
  [start, end]: [number, number],
  provider: { name: ProviderName; kind: ProviderKind },
  limits: ConverterLimits,
  outPath: string,
  firstLine: number | undefined,
  endpoint: string | undefined,
  maxRequests: number,
): Promise<void> {
  const converter = await BatchFileConverter.open(provider, {
    outPath,
    idsPath: `${outPath}.ids`,
    limits,
    slice: { ...(firstLine === undefined ? {} : { firstLine }), ...(endpoint === undefined ? {} : { endpoint }), maxRequests },
  })
  try {
    for await (const chunk of localChunks(source.path, start, end)) await converter.push(chunk)
    await converter.endSlice()
  } finally {
    await converter.abort()
    await Bun.file(`${outPath}.ids`).delete().catch(() => undefined)
  }
}

/** Byte ranges of `slices` pieces, each cut just after a newline. */
async function sliceBounds(source: { path: string; bytes: number }, slices: number): Promise<[number, number][]> {
  const cuts = [0]
  const file = await open(source.path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(SCAN_BYTES)
    for (let k = 1; k < slices; k++) {
      let at = Math.max(Math.floor((source.bytes * k) / slices), cuts.at(-1) as number)
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, SCAN_BYTES, at)
        if (bytesRead === 0) {
          at = source.bytes
          break
        }
        const nl = buffer.subarray(0, bytesRead).indexOf(LF)
        if (nl !== -1) {
          at += nl + 1
          break
        }
        at += bytesRead
      }
      if (at > (cuts.at(-1) as number) && at < source.bytes) cuts.push(at)
    }
  } finally {
    await file.close()
  }
  return cuts.map((start, i) => [start, cuts[i + 1] ?? source.bytes])
}

/** Every slice's kept custom_ids, in file order, each with its absolute line. */
async function* keptIds(
  paths: string[],
  summaries: SliceSummary[],
  lineBase: number[],
  maxLineBytes: number,
): AsyncGenerator<{ id: string; line: number }> {
  for (const [k, path] of paths.entries()) {
    const lineOf = summaries[k]?.lineOf as Uint32Array
    const base = lineBase[k] as number
    let index = 0
    for await (const id of iterateLines(Bun.file(path).stream(), (text) => JSON.parse(text) as string, { maxLineBytes })) {
      yield { id, line: base + (lineOf[index++] as number) }
    }
  }
}

/** Joins `parts` into `out`, in order; returns the bytes written. */
async function join(parts: string[], out: string): Promise<number> {
  await Bun.write(out, '')
  const sink = Bun.file(out).writer({ highWaterMark: 1024 * 1024 })
  let bytes = 0
  try {
    for (const part of parts) {
      for await (const chunk of localChunks(part)) {
        sink.write(chunk)
        bytes += chunk.length
        await sink.flush()
      }
    }
  } finally {
    await sink.end()
  }
  return bytes
}
