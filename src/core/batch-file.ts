// Validates an uploaded OpenAI batch JSONL line by line and writes it, converted for the target
// provider, to a spool file. One pass, bounded memory: lines stream through convert/lines.ts,
// custom_ids go through a Bloom filter (custom-id-set.ts) and a second pass runs only when the
// filter suspects a duplicate. Any bad line stops the upload with its line number.

import { open } from 'node:fs/promises'
import type { InstanceLimits, Limits } from '../config'
import { requestLineWriter, type RequestTarget } from '../convert/pairs'
import { LineSplitter, parseJsonLine } from '../convert/lines'
import { parseOpenAIBatchLine } from '../convert/requests/openai-line'
import { GatewayError, invalid } from '../errors'
import { CustomIdSet, findFirstDuplicate } from './custom-id-set'
import type { FileFacts } from './file'
import type { ProviderKind, ProviderName } from './provider-name'

/** Which provider-native format each kind keeps batch input in. */
const TARGET: Record<ProviderKind, { target: RequestTarget; format: FileFacts['format'] }> = {
  openai: { target: 'openai-line', format: 'openai-batch' },
  // Anthropic has no input files: the gateway keeps OpenAI lines in its blob store and converts
  // them at batch create; converting here too rejects unconvertible lines at upload time.
  anthropic: { target: 'anthropic-item', format: 'openai-batch' },
  gemini: { target: 'gemini-line', format: 'gemini-requests' },
  bedrock: { target: 'bedrock-record', format: 'bedrock-records' },
}

const NEWLINE = new Uint8Array([0x0a])
const WRITE_BUFFER_BYTES = 1024 * 1024
const READ_BYTES = 256 * 1024

/** The request-count cap's error, the same whether met while spooling or while converting. */
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

export async function convertBatchFile(
  source: { path: string; bytes: number },
  provider: { name: ProviderName; kind: ProviderKind },
  outPath: string,
  /** The gateway's limits and the target instance's request cap. */
  limits: Limits & Pick<InstanceLimits, 'maxBatchRequests'>,
  idsPath?: string,
): Promise<ConvertedBatchFile> {
  const { target, format } = TARGET[provider.kind]
  const writeLine = requestLineWriter(target)
  const keepOriginal = format === 'openai-batch'
  // Converted formats go to providers that may end a batch without a line per request; their
  // custom_ids are kept so results can still account for every one.
  const idsOut = !keepOriginal && idsPath ? await emptyWriter(idsPath) : null
  const maxRequests = limits.maxBatchRequests
  const ids = new CustomIdSet()
  let count = 0
  let endpoint: string | undefined
  let model: string | undefined
  let modelsAgree = true
  let bom = false

  /** Checks one line and writes its converted form (or, for OpenAI, its own bytes) to `out`. */
  const onLine = (out: Bun.FileSink, text: string, line: number): void => {
    const parsed = parseOpenAIBatchLine(parseJsonLine(text, line), line)
    if (++count > maxRequests) throw tooManyRequests(provider.name, maxRequests, line)
    endpoint ??= parsed.url
    if (parsed.url !== endpoint) {
      throw invalid(`line ${line}: url '${parsed.url}' differs from '${endpoint}' on earlier lines; a batch has one endpoint`, {
        line,
        param: 'url',
      })
    }
    const lineModel = typeof parsed.body.model === 'string' ? parsed.body.model : undefined
    model ??= lineModel
    if (lineModel !== model) modelsAgree = false
    ids.add(parsed.customId, line)
    idsOut?.write(`${JSON.stringify(parsed.customId)}\n`)
    if (keepOriginal) {
      // Anthropic lines are converted only to reject what cannot be converted, now (see TARGET);
      // the bytes themselves are copied chunk by chunk below, exactly as the caller sent them.
      if (target !== 'openai-line') writeLine(parsed, line)
    } else {
      out.write(writeLine(parsed, line))
      out.write(NEWLINE)
    }
  }

  // A FileSink written line by line, not a TransformStream into Bun.write(new Response(…)): the
  // stream plumbing and joining each chunk's lines to encode them again took ~25 % of the
  // conversion's CPU profile (256 MiB upload, docs/benchmark.md). Awaiting flush() once per
  // source chunk keeps at most one chunk's output in memory, and writes out the lines that are
  // views into the read buffer before localChunks() reuses it.
  const out = await emptyWriter(outPath)
  try {
    const splitter = new LineSplitter((text, line) => onLine(out, text, line), {
      maxLineBytes: limits.maxLineBytes,
    })
    let first = true
    for await (const chunk of localChunks(source.path)) {
      splitter.push(chunk)
      // Kept formats are the caller's bytes, unchanged (blank lines, CRLF, no final newline — what
      // the client uploaded is what it reads back), except a leading BOM that JSON parsers
      // upstream refuse; facts.bom puts it back on download.
      if (keepOriginal) out.write(first && startsWithBom(chunk) ? ((bom = true), chunk.subarray(3)) : chunk)
      first = false
      await out.flush()
      await idsOut?.flush()
    }
    splitter.end()
  } finally {
    await out.end()
    await idsOut?.end()
  }
  if (count === 0) throw invalid('The batch file has no requests.', { param: 'file', code: 'empty_file' })

  const duplicate = await findFirstDuplicate(ids.suspects, customIdsOf(source.path, limits))
  if (duplicate) {
    throw invalid(
      `line ${duplicate.line}: custom_id '${duplicate.id.slice(0, 80)}' repeats line ${duplicate.firstLine}; custom_ids must be unique`,
      { line: duplicate.line, param: 'custom_id', code: 'duplicate_custom_id' },
    )
  }
  return {
    path: outPath,
    bytes: Bun.file(outPath).size,
    facts: { format, lines: count, endpoint, model: modelsAgree ? model : undefined, ...(bom ? { bom } : {}) },
    idsWritten: idsOut !== null,
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
async function* localChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES)
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_BYTES, null)
      if (bytesRead === 0) return
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    await file.close()
  }
}
