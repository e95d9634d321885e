// Streams a multipart/form-data upload to a spool file with busboy (a kept, streaming parser;
// request.formData() would buffer the whole file). Form fields may come before or after the file
// part — the OpenAI SDK sends `purpose` after `file` — so the file is spooled raw first and every
// decision that needs the fields is taken afterwards by core/. busboy parses the part heads and
// the fields; the file part's data itself is read past it (part-data.ts) whenever that is safe,
// which took the parser's cost per 112 MiB from ~0.12 to ~0.05 CPU-s.
//
// Caps are checked while the part streams (issue 12, "refuse early"): the byte cap, and the
// request-count cap when the fields before the file already say it is a batch file. Crossing one
// stops the spooling at once; the rest of the body is drained for at most DRAIN_MS or DRAIN_BYTES
// (a client that only reads the answer after sending everything — Node's fetch, so the official
// SDKs — then still gets the 413) and otherwise the connection is closed, so a 1 GB over-cap
// upload is answered right after the cap, not after the whole body has been spooled.

import Busboy from 'busboy'
import { RequestLineCounter } from '../convert/lines'
import { GatewayError, invalid } from '../errors'
import type { BlobStore } from '../store/blobs'
import { boundaryOf, DelimiterScan, delimiterOf, delimitersIn, HEAD_BYTES, heldBytes } from './part-data'
import { feedConsumer, type PartFeed, partFeed, rawSpool } from './part-feed'

/**
 * How much of the rest of an over-cap body is drained (discarded) before the connection is
 * closed: enough for a client that sends a little over the cap to read its 413, not so much that
 * a huge body keeps the answer (and the chunks read) waiting.
 */
export const DRAIN_MS = 150
export const DRAIN_BYTES = 16 * 1024 * 1024

export interface SpooledPart {
  path: string
  bytes: number
  filename: string
  mimeType: string
}

export interface ParsedUpload {
  fields: Map<string, string>
  file: SpooledPart | null
  /**
   * What a consumer made of the file part as it arrived (see UploadLimits.consume), or
   * `{failed}` with the error it stopped on; the part is then not spooled raw, and `file.path`
   * names nothing.
   */
  consumed: unknown
}

/** Takes the file part chunk by chunk while it arrives; a chunk may be reused once push resolves. */
export interface PartConsumer {
  push(chunk: Uint8Array): Promise<void>
  end(): Promise<unknown>
  /** Drops whatever it wrote; called when the upload fails. */
  abort(): Promise<void>
}

export interface FileCaps {
  maxBytes: number
  /** Set when the fields before the file part say it is a batch file for a known provider. */
  requests?: { max: number; tooMany: (line: number) => GatewayError }
}

export interface UploadLimits {
  maxFieldBytes: number
  maxFields: number
  /** The name of the file part; `file` unless said otherwise (Uploads API parts use `data`). */
  fileField?: string
  /** The file part's caps, decided when it starts from the fields sent before it. */
  fileCaps: (fieldsBefore: ReadonlyMap<string, string>) => FileCaps
  /**
   * A consumer for the file part when the fields before it already say what to do with it (the
   * one-pass upload: validated and converted as it arrives, no raw spool); null to spool it raw.
   */
  consume?: (fieldsBefore: ReadonlyMap<string, string>, part: { filename: string; mimeType: string }) => Promise<PartConsumer> | null
}

const tooLarge = (maxBytes: number): GatewayError =>
  new GatewayError('too_large', `The file is larger than the limit of ${maxBytes} bytes.`, { param: 'file', code: 'limit_exceeded' })

export async function parseMultipartUpload(
  request: Request,
  blobs: BlobStore,
  limits: UploadLimits,
): Promise<ParsedUpload> {
  const contentType = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data\s*;.*boundary=/i.test(contentType)) {
    throw invalid('Expected a multipart/form-data body with a boundary (file uploads are multipart).', {
      code: 'invalid_content_type',
    })
  }
  if (!request.body) throw invalid('The upload body is empty.', { param: 'file' })

  let busboy: Busboy.Busboy
  try {
    busboy = Busboy({
      headers: { 'content-type': contentType },
      limits: { fieldSize: limits.maxFieldBytes, fields: limits.maxFields, files: 1 },
    })
  } catch {
    throw invalid('The multipart boundary is malformed.', { code: 'invalid_content_type' })
  }

  const fields = new Map<string, string>()
  let file: SpooledPart | null = null
  let failure: GatewayError | null = null
  /** A cap was crossed: stop feeding busboy, nothing more is spooled. */
  let refused: GatewayError | null = null
  let consumed: unknown = null
  const writes: Promise<void>[] = []
  /** Parts busboy reported so far (for checking the boundary the bypass scans for). */
  let partsSeen = 0
  /** The file part busboy has just started; the feeding loop decides how its data is read. */
  let started: StartedFile | null = null

  busboy.on('field', (name, value, info) => {
    partsSeen++
    if (info.valueTruncated) failure ??= invalid(`Form field '${name}' is too long.`, { param: name })
    fields.set(name, value)
  })
  busboy.on('fieldsLimit', () => {
    failure ??= invalid(`Too many form fields (at most ${limits.maxFields}).`)
  })
  busboy.on('filesLimit', () => {
    failure ??= invalid('Only one file part is accepted per upload.', { param: 'file' })
  })
  busboy.on('file', (name, stream, info) => {
    partsSeen++
    const wanted = limits.fileField ?? 'file'
    if (name !== wanted || file !== null) {
      failure ??= invalid(`Unexpected file part '${name}'; send the file in a part named '${wanted}'.`, { param: name })
      stream.resume()
      return
    }
    const part: SpooledPart = {
      path: blobs.spoolPath('raw'),
      bytes: 0,
      filename: cleanFilename(info.filename),
      mimeType: info.mimeType || 'application/octet-stream',
    }
    file = part
    const caps = limits.fileCaps(fields)
    const counter = caps.requests ? new RequestLineCounter() : null
    const checkCaps = (chunk: Uint8Array): void => {
      part.bytes += chunk.length
      if (refused) return
      if (part.bytes > caps.maxBytes) refused = tooLarge(caps.maxBytes)
      else if (counter && caps.requests && counter.push(chunk, caps.requests.max) > caps.requests.max) {
        refused = caps.requests.tooMany(counter.lastLine)
      }
    }
    const consumer = limits.consume?.(fields, { filename: part.filename, mimeType: part.mimeType })
    const sink = consumer ?? Promise.resolve(rawSpool(part.path))
    // Read by the consuming step below; a consumer that failed to start is its error.
    sink.catch(() => undefined)
    const feed = partFeed(sink, checkCaps, () => refused)
    // Whether busboy already ended the part (it was small enough to end in the same chunk).
    let ended = false
    const push = stream.push.bind(stream)
    stream.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (chunk === null) ended = true
      return push(chunk, encoding)
    }
    started = {
      stream,
      feed,
      ended: () => ended,
      consume: (data) => {
        const consuming = (async () => {
          const made = await sink
          try {
            await data
            if (feed.failed()) throw feed.failed()
            if (refused) throw refused
            const result = await made.end()
            if (consumer) consumed = result
          } catch (err) {
            await made.abort()
            // A bad line is the consumer's answer, not the parser's: the rest of the part is
            // drained (not kept) and the caller decides when to report it, after its own checks
            // of the fields — the same order as when the part is spooled and converted afterwards.
            if (consumer && err instanceof GatewayError && !refused) {
              consumed = { failed: err }
              return
            }
            throw err
          }
        })()
        // Awaited with the others once busboy is done; a failure before then is not "unhandled".
        consuming.catch(() => undefined)
        writes.push(consuming)
      },
    }
  })

  const reader = request.body.getReader()
  const errored = new Promise<never>((_, reject) => busboy.on('error', reject))
  errored.catch(() => undefined)
  const finished = new Promise<void>((resolve) => busboy.on('finish', resolve))
  const boundary = boundaryOf(contentType)
  const needle = boundary === null ? null : delimiterOf(boundary)
  /** The body's first bytes, to check the boundary against the parts busboy found in them. */
  let head: Buffer | null = Buffer.alloc(0)
  /** The last bytes given to busboy: its search may be holding some of them back. */
  let fedTail = Buffer.alloc(0)
  /** The file part's data being read past busboy (part-data.ts), until its delimiter. */
  const past: { bypass: Bypass | null } = { bypass: null }
  const write = async (bytes: Buffer): Promise<void> => {
    const written = new Promise<void>((resolve) => busboy.write(bytes, () => resolve()))
    if (head && head.length < HEAD_BYTES) head = Buffer.concat([head, bytes.subarray(0, HEAD_BYTES - head.length)])
    // Only needed until the file part starts (readPast decides once, and drops `head`).
    if (needle && head) fedTail = Buffer.concat([fedTail, bytes.subarray(Math.max(0, bytes.length - needle.length))]).subarray(-needle.length)
    // busboy parses a write at once: a file part it started in these bytes is known here.
    const first = started ? readPast(started) : []
    for (const data of first) await past.bypass?.feed.push(data)
    await Promise.race([written, errored])
  }
  /** Reads a just-started file part past busboy when that is safe, else through its stream. */
  const readPast = (part: StartedFile): Buffer[] => {
    started = null
    const safe =
      needle !== null &&
      head !== null &&
      !part.ended() &&
      heldBytes(fedTail, needle) === 0 &&
      delimitersIn(head, needle) === partsSeen
    head = null
    if (!safe || !needle) {
      part.consume(feedConsumer(part.stream, part.feed))
      return []
    }
    // What busboy already passed on of the part's data comes first.
    const first: Buffer[] = []
    for (let data = part.stream.read() as Buffer | null; data !== null; data = part.stream.read() as Buffer | null) first.push(data)
    // Its end lets busboy finish; its error (a body cut short) is busboy's too, reported once.
    part.stream.on('error', () => undefined)
    part.stream.resume()
    let settle: (ok: boolean) => void = () => undefined
    part.consume(
      new Promise<void>((resolve, reject) => {
        settle = (ok) => (ok ? resolve() : reject(new Error('the body ended inside the file part')))
      }),
    )
    past.bypass = { scan: new DelimiterScan(boundary as string), feed: part.feed, settle }
    return first
  }
  let sinceGc = 0
  try {
    // Read by hand rather than piped, so feeding stops the moment a cap is crossed.
    for (;;) {
      if (refused) break
      const { done, value } = await reader.read()
      if (done) break
      let chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      if ((sinceGc += chunk.length) >= GC_EVERY_BYTES) {
        sinceGc = 0
        Bun.gc(true)
      }
      const bypass = past.bypass
      if (bypass) {
        const { data, rest } = bypass.scan.take(chunk)
        for (const piece of data) await bypass.feed.push(piece)
        if (rest === null) continue
        bypass.settle(true)
        past.bypass = null
        chunk = rest
      }
      await write(chunk)
    }
    const cut = past.bypass
    if (cut) {
      // No delimiter came: busboy gets what was held and reports the body cut short.
      past.bypass = null
      cut.settle(false)
      const held = cut.scan.end()
      if (held.length > 0) await write(held)
    }
    busboy.end()
    await Promise.race([finished, errored])
    await Promise.all(writes)
    if (refused) throw refused
  } catch (err) {
    past.bypass?.settle(false)
    busboy.destroy()
    // A body cut short fails the file part's write too: wait for it to settle, so its rejection
    // is not left unhandled (it would take the process down) and the spool file is closed
    // before it is removed (an open still in flight would otherwise recreate it).
    await Promise.allSettled(writes)
    const spooled = file as SpooledPart | null
    if (spooled) blobs.remove(spooled.path)
    const cap = refused as GatewayError | null
    if (cap) {
      await drainBriefly(reader, DRAIN_MS)
      throw cap
    }
    if (err instanceof GatewayError) throw err
    throw invalid('The multipart body is malformed or was cut short.', { code: 'invalid_multipart' })
  }
  const spooled = file as SpooledPart | null
  if (failure) {
    if (spooled) blobs.remove(spooled.path)
    throw failure as unknown as GatewayError
  }
  return { fields, file: spooled, consumed }
}

/**
 * A full collection after every this many bytes of an upload body. Validating a large upload makes
 * garbage at its own speed (every line decoded and parsed) and the collector lets it pile up: the
 * bench's over-cap row (512 MiB of 60 KB lines before the 413) peaked at 140–145 MiB of RSS, and
 * 114–124 MiB with a collection every 64 MiB, at no measurable cost in throughput (each takes a
 * few milliseconds: docs/benchmark.md, "Peak RSS"). `Bun.gc(false)` (only a hint) did nothing.
 */
const GC_EVERY_BYTES = 64 * 1024 * 1024

/** A file part busboy has started: its stream, where its data goes, and how it is finished. */
interface StartedFile {
  stream: NodeJS.ReadableStream & { read(): unknown }
  feed: PartFeed
  ended: () => boolean
  /** Starts the consuming step; `data` settles once every data byte was fed (or rejects). */
  consume: (data: Promise<void>) => void
}

/** The file part's data being read past busboy (part-data.ts), until its delimiter. */
interface Bypass {
  scan: DelimiterScan
  feed: PartFeed
  /** Ends the data: every byte was fed (true), or the body ended without the delimiter. */
  settle: (ok: boolean) => void
}

/**
 * Discards what is left of a refused body for up to `ms`, then cancels the read (Bun closes the
 * connection when an answer goes out before its body was read). Nothing is kept.
 */
async function drainBriefly(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> },
  ms: number,
  maxBytes = DRAIN_BYTES,
): Promise<void> {
  let drained = 0
  let timer: Timer | undefined
  const timeUp = new Promise<'time'>((resolve) => {
    timer = setTimeout(() => resolve('time'), ms)
  })
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeUp])
      if (next === 'time' || next.done) break
      drained += next.value?.length ?? 0
      if (drained > maxBytes) break
    }
  } catch {
    // A connection that broke while draining needs no more draining.
  } finally {
    clearTimeout(timer)
    await reader.cancel().catch(() => undefined)
  }
}

/**
 * Keeps only the last path component and drops control characters, so a filename like
 * `../../etc/passwd` or one with a NUL byte is stored as a harmless display name.
 */
export function cleanFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? ''
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return clean.slice(0, 255) || 'upload'
}
