// Validates an uploaded OpenAI batch JSONL line by line and writes it, converted for the target
// provider, to a spool file (kept formats: the caller's own bytes, usually not copied at all).
// One pass, bounded memory: lines stream through convert/lines.ts,
// custom_ids go through a Bloom filter (custom-id-set.ts) and a second pass runs only when the
// filter suspects a duplicate. Any bad line stops the upload with its line number.

import { rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { InstanceLimits, Limits } from '../config'
import { requestLineWriter, type RequestTarget } from '../convert/pairs'
import { iterateLines, LinePacker, LineSplitter, parseJsonLine } from '../convert/lines'
import { type OpenAIBatchLine, parseOpenAIBatchLine } from '../convert/requests/openai-line'
import { GatewayError, invalid } from '../errors'
import { convertInSlices, DEFAULT_POOL, type PoolOptions, sliceCount } from './convert-pool'
import { CustomIdSet, findFirstDuplicate } from './custom-id-set'
import type { FileFacts } from './file'
import type { ProviderKind, ProviderName } from './provider-name'

/**
 * Which provider-native format each kind keeps batch input in. `oneModel`: the kind runs one
 * model per batch, taken from its requests, so a line naming another is refused with its number.
 * `keepIds`: a kept format whose upstream may end a batch without a line per request keeps the
 * custom_ids beside it anyway (converted formats always do).
 */
const TARGET: Record<ProviderKind, { target: RequestTarget; format: FileFacts['format']; oneModel?: true; keepIds?: true }> = {
  openai: { target: 'openai-line', format: 'openai-batch' },
  // Anthropic has no input files: the gateway keeps OpenAI lines in its blob store and converts
  // them at batch create; converting here too rejects unconvertible lines at upload time.
  anthropic: { target: 'anthropic-item', format: 'openai-batch' },
  gemini: { target: 'gemini-line', format: 'gemini-requests' },
  vertex: { target: 'gemini-line', format: 'gemini-requests' },
  bedrock: { target: 'bedrock-record', format: 'bedrock-records' },
  groq: { target: 'openai-line', format: 'openai-batch' },
  // Azure takes OpenAI's lines as they are (`/v1/…` urls included); `model` is a deployment name.
  'azure-openai': { target: 'openai-line', format: 'openai-batch' },
  // Emulated batches keep validated OpenAI lines in the gateway's blob store and run them as they are.
  emulated: { target: 'openai-line', format: 'openai-batch' },
  // Mistral, like Anthropic: the caller's lines stay in the blob store; `{custom_id, body}` lines
  // are written at create, when the one model of the job is known (docs/decisions.md).
  mistral: { target: 'mistral-line', format: 'openai-batch', oneModel: true, keepIds: true },
}

const WRITE_BUFFER_BYTES = 1024 * 1024
const READ_BYTES = 256 * 1024

/** The request-count cap's error, the same whether met while spooling or while converting. */
/** The request format a kind's batch input is converted to. */
export const inputTarget = (kind: ProviderKind): RequestTarget => TARGET[kind].target
/** Whether a kind keeps the caller's OpenAI lines as they are (no converted output is written). */
export const keepsCallerLines = (kind: ProviderKind): boolean => TARGET[kind].format === 'openai-batch'

export function tooManyRequests(provider: ProviderName, max: number, line: number): GatewayError {
  return new GatewayError('too_large', `line ${line}: ${provider} takes at most ${max} requests per batch`, {
    line,
    code: 'limit_exceeded',
  })
}

/** Caps an upload's file part can be held to while it streams in, from what is known so far. */
export function streamingCaps(
  provider: { name: ProviderName; limits: InstanceLimits } | undefined,
  purpose: string | undefined,
  fallbackBytes: number,
): { maxBytes: number; requests?: { max: number; tooMany: (line: number) => GatewayError } } {
  if (!provider) return { maxBytes: fallbackBytes }
  const maxBytes = provider.limits.maxUploadBytes
  if (purpose !== 'batch') return { maxBytes }
  const max = provider.limits.maxBatchRequests
  return { maxBytes, requests: { max, tooMany: (line) => tooManyRequests(provider.name, max, line) } }
}

export interface ConvertedBatchFile {
  path: string
  bytes: number
  facts: FileFacts
  /** Whether the custom_ids were written to `idsPath` (see result-completion.ts). */
  idsWritten: boolean
}

/**
 * Converts a spooled upload. A kept format (OpenAI lines) whose bytes need no change is only
 * validated: the result names the source file itself, so passthrough writes nothing again.
 */
export async function convertBatchFile(
  source: { path: string; bytes: number },
  provider: { name: ProviderName; kind: ProviderKind },
  outPath: string,
  /** The gateway's limits and the target instance's request cap. */
  limits: ConverterLimits,
  idsPath?: string,
  pool: PoolOptions = DEFAULT_POOL,
  /** Told the output's size on disk after each flush: the output is uploaded while it grows. */
  onWritten?: (bytes: number) => void,
): Promise<ConvertedBatchFile> {
  const { format } = TARGET[provider.kind]
  // Kept formats are only validated (no output to write): one thread reads as fast as the disk.
  // An output uploaded while it grows is written in order, by one thread.
  const slices = format === 'openai-batch' || onWritten ? 1 : sliceCount(source.bytes, pool)
  if (slices > 1) {
    const pooled = await convertInSlices(source, provider, format, outPath, limits, idsPath, slices)
    if (pooled) return pooled
  }
  const converter = await BatchFileConverter.open(provider, {
    outPath,
    limits,
    idsPath,
    keptSource: source.path,
    ...(onWritten ? { onWritten } : {}),
  })
  try {
    for await (const chunk of localChunks(source.path)) await converter.push(chunk)
  } catch (err) {
    await converter.abort()
    if (idsPath === undefined) rmSync(`${outPath}.ids`, { force: true })
    throw err
  }
  return converter.end()
}

export type ConverterLimits = Limits & Pick<InstanceLimits, 'maxBatchRequests'>

export interface ConverterOptions {
  outPath: string
  limits: ConverterLimits
  /** Where to keep the custom_ids of converted formats (see result-completion.ts). */
  idsPath?: string
  /** The file the pushed bytes already are: a kept format then writes nothing unless it must. */
  keptSource?: string
  /** For a slice of a file converted on its own (convert-pool.ts): see SliceOptions. */
  slice?: SliceOptions
  /** Told the output's size on disk after each flush (a GrowingSource's writer). */
  onWritten?: (bytes: number) => void
}

export interface SliceOptions {
  /** The slice's first line number (known when a failed slice is re-run to name its error). */
  firstLine?: number
  /** The endpoint earlier slices set. */
  endpoint?: string
  /** Requests this slice may still hold under the file's cap (default: uncapped; the pool counts). */
  maxRequests?: number
}

/** What a slice's conversion tells the pool, which checks the whole file's rules itself. */
export interface SliceSummary {
  /** Lines seen, blank ones included. */
  lines: number
  count: number
  endpoint: string | undefined
  model: string | undefined
  modelsAgree: boolean
  /** The line of each request, relative to the slice. */
  lineOf: Uint32Array
}

/**
 * The converter, push by push: each chunk is split into lines, each line checked once and its
 * converted form packed into 64 KiB output chunks (one write per chunk, not three per line).
 * Used on a spool file (convertBatchFile) or straight on an upload's file part as it arrives.
 */
export class BatchFileConverter {
  private readonly target: RequestTarget
  private readonly format: FileFacts['format']
  private readonly keepOriginal: boolean
  private readonly oneModel: boolean
  private readonly keepIds: boolean
  private readonly writeLine: (parsed: OpenAIBatchLine, line: number) => string
  private readonly splitter: LineSplitter
  private readonly ids = new CustomIdSet()
  private readonly packer = new LinePacker()
  private readonly idsPacker = new LinePacker()
  private maxRequests: number
  private out: Bun.FileSink | null = null
  /** Bytes handed to `out`; all on disk after each push's flush. */
  private outBytes = 0
  private idsOut: Bun.FileSink | null = null
  /** The ids file: the caller's, or a temporary one kept only for the duplicate check. */
  private readonly idsFile: string
  /** The file line of each request, for naming a duplicate found in the ids file. */
  private lineOf = new Uint32Array(1024)
  private count = 0
  private endpoint: string | undefined
  private model: string | undefined
  private modelsAgree = true
  private bom = false
  private first = true

  private constructor(
    private readonly provider: { name: ProviderName; kind: ProviderKind },
    private readonly opts: ConverterOptions,
  ) {
    const { target, format, oneModel, keepIds } = TARGET[provider.kind]
    this.target = target
    this.format = format
    this.keepOriginal = format === 'openai-batch'
    this.oneModel = oneModel === true
    this.keepIds = !this.keepOriginal || keepIds === true
    this.writeLine = requestLineWriter(target)
    this.maxRequests = opts.limits.maxBatchRequests
    this.splitter = new LineSplitter((text, line) => this.onLine(text, line), {
      maxLineBytes: opts.limits.maxLineBytes,
      ...(opts.slice?.firstLine === undefined ? {} : { firstLine: opts.slice.firstLine }),
    })
    this.endpoint = opts.slice?.endpoint
    // A slice's requests are counted by the pool, over the whole file.
    if (opts.slice) this.maxRequests = opts.slice.maxRequests ?? Number.POSITIVE_INFINITY
    this.idsFile = opts.idsPath ?? `${opts.outPath}.ids`
  }

  static async open(provider: { name: ProviderName; kind: ProviderKind }, opts: ConverterOptions): Promise<BatchFileConverter> {
    const converter = new BatchFileConverter(provider, opts)
    if (!converter.keepOriginal || !opts.keptSource) converter.out = await emptyWriter(opts.outPath)
    // Converted formats go to providers that may end a batch without a line per request; their
    // custom_ids are kept so results can still account for every one.
    if (converter.keepIds) converter.idsOut = await emptyWriter(converter.idsFile)
    return converter
  }

  /** Takes a chunk; it may be reused by the caller once this resolves. */
  async push(chunk: Uint8Array): Promise<void> {
    this.splitter.push(chunk)
    if (this.keepOriginal) {
      // Kept formats are the caller's bytes, unchanged (blank lines, CRLF, no final newline — what
      // the client uploaded is what it reads back), except a leading BOM that JSON parsers
      // upstream refuse; facts.bom puts it back on download.
      if (this.first && startsWithBom(chunk)) {
        this.bom = true
        this.out ??= await emptyWriter(this.opts.outPath)
        this.emit(chunk.subarray(3))
      } else {
        this.emit(chunk)
      }
    }
    this.first = false
    await this.out?.flush()
    await this.idsOut?.flush()
    this.opts.onWritten?.(this.outBytes)
  }

  private emit(bytes: Uint8Array): void {
    if (!this.out) return
    this.out.write(bytes)
    this.outBytes += bytes.length
  }

  /** Ends a slice: no whole-file checks (empty file, duplicates), which are the pool's. */
  async endSlice(): Promise<SliceSummary> {
    await this.finish()
    const { count, endpoint, model, modelsAgree } = this
    return { lines: this.splitter.lines, count, endpoint, model, modelsAgree, lineOf: this.lineOf.slice(0, count) }
  }

  async end(): Promise<ConvertedBatchFile> {
    await this.finish()
    if (this.count === 0) throw invalid('The batch file has no requests.', { param: 'file', code: 'empty_file' })
    const path = this.out ? this.opts.outPath : (this.opts.keptSource as string)
    let duplicate: Awaited<ReturnType<typeof findFirstDuplicate>>
    try {
      duplicate = await findFirstDuplicate(this.ids.suspects, this.keepOriginal ? customIdsOf(path, this.opts.limits) : this.idsWithLines())
    } finally {
      if (this.opts.idsPath === undefined && this.idsOut) rmSync(this.idsFile, { force: true })
    }
    if (duplicate) {
      throw invalid(
        `line ${duplicate.line}: custom_id '${duplicate.id.slice(0, 80)}' repeats line ${duplicate.firstLine}; custom_ids must be unique`,
        { line: duplicate.line, param: 'custom_id', code: 'duplicate_custom_id' },
      )
    }
    const { format, count, endpoint, model, modelsAgree, bom } = this
    return {
      path,
      bytes: Bun.file(path).size,
      facts: { format, lines: count, endpoint, model: modelsAgree ? model : undefined, ...(bom ? { bom } : {}) },
      idsWritten: this.idsOut !== null && this.opts.idsPath !== undefined,
    }
  }

  /** The last line and the last packed chunks out, then the files closed. */
  private async finish(): Promise<void> {
    try {
      this.splitter.end()
      const last = this.packer.end()
      if (last) this.emit(last)
      const lastIds = this.idsPacker.end()
      if (lastIds) this.idsOut?.write(lastIds)
    } finally {
      await this.abort()
    }
  }

  /** Closes the output files (the caller removes them; a temporary ids file goes here). */
  async abort(): Promise<void> {
    await this.out?.end()
    await this.idsOut?.end()
  }

  /** Checks one line and packs its converted form (kept formats are copied chunk by chunk). */
  private onLine(text: string, line: number): void {
    const parsed = parseOpenAIBatchLine(parseJsonLine(text, line), line)
    if (++this.count > this.maxRequests) throw tooManyRequests(this.provider.name, this.opts.limits.maxBatchRequests, line)
    this.endpoint ??= parsed.url
    if (parsed.url !== this.endpoint) {
      throw invalid(`line ${line}: url '${parsed.url}' differs from '${this.endpoint}' on earlier lines; a batch has one endpoint`, {
        line,
        param: 'url',
      })
    }
    const lineModel = typeof parsed.body.model === 'string' ? parsed.body.model : undefined
    this.model ??= lineModel
    if (lineModel !== this.model) {
      if (this.oneModel) {
        throw invalid(
          `line ${line}: model '${String(lineModel).slice(0, 200)}' differs from '${String(this.model).slice(0, 200)}' on earlier lines; ${this.provider.name} runs one model per batch`,
          { line, param: 'model' },
        )
      }
      this.modelsAgree = false
    }
    this.ids.add(parsed.customId, line)
    if (this.keepOriginal) {
      // Anthropic and Mistral lines are converted only to reject what cannot be converted, now (see TARGET).
      if (this.target !== 'openai-line') this.writeLine(parsed, line)
    }
    if (!this.idsOut) return
    this.noteLine(line)
    for (const c of this.idsPacker.push(JSON.stringify(parsed.customId))) this.idsOut.write(c)
    if (!this.keepOriginal) for (const c of this.packer.push(this.writeLine(parsed, line))) this.emit(c)
  }

  private noteLine(line: number): void {
    if (this.count > this.lineOf.length) {
      const grown = new Uint32Array(this.lineOf.length * 2)
      grown.set(this.lineOf)
      this.lineOf = grown
    }
    this.lineOf[this.count - 1] = line
  }

  /** The kept custom_ids again, each with its file line: the second pass for suspected duplicates. */
  private async *idsWithLines(): AsyncGenerator<{ id: string; line: number }> {
    let index = 0
    const lines = iterateLines(Bun.file(this.idsFile).stream(), (text) => JSON.parse(text) as string, {
      maxLineBytes: this.opts.limits.maxLineBytes,
    })
    for await (const id of lines) yield { id, line: this.lineOf[index++] as number }
  }
}

const startsWithBom = (b: Uint8Array): boolean => b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf

/** Bun's FileSink opens without O_TRUNC: empty the file first, or a longer old one keeps its tail. */
async function emptyWriter(path: string): Promise<Bun.FileSink> {
  await Bun.write(path, '')
  return Bun.file(path).writer({ highWaterMark: WRITE_BUFFER_BYTES })
}

async function* customIdsOf(path: string, limits: Limits): AsyncGenerator<{ id: string; line: number }> {
  let ids: { id: string; line: number }[] = []
  const splitter = new LineSplitter(
    (text, line) => ids.push({ id: parseOpenAIBatchLine(parseJsonLine(text, line), line).customId, line }),
    { maxLineBytes: limits.maxLineBytes },
  )
  for await (const chunk of localChunks(path)) {
    splitter.push(chunk)
    yield* ids
    ids = []
  }
  splitter.end()
  yield* ids
}

/**
 * A spool file's bytes, READ_BYTES at a time, through one reused buffer: each chunk is valid only
 * until the next is asked for. Two measured reasons for not looping over Bun.file().stream():
 * reading a local file through it never waited, so a whole conversion ran as one task (a 256 MiB
 * one let no timer fire for 1.7 s; a 2 GB one would stall every other request, /health included,
 * for ~15 s), and it allocated a fresh 512 KiB buffer per chunk — garbage the allocator kept
 * resident. A read from a file handle goes through the I/O pool, so the event loop turns between
 * chunks.
 */
export async function* localChunks(path: string, start = 0, end = Number.POSITIVE_INFINITY): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES)
    for (let at = start; at < end; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(READ_BYTES, end - at), at)
      if (bytesRead === 0) return
      at += bytesRead
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await file.close()
  }
}
