// Streaming multipart/form-data reader: the binary part goes straight to a temp file on disk
// (via busboy), text fields are collected. Used by POST /files and POST /uploads/{id}/parts.

import Busboy from 'busboy'
import { createWriteStream, rmSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'

export interface MultipartFile {
  path: string
  filename: string
  bytes: number
  /** True when the part went over `maxBytes`; the bytes on disk are then truncated. */
  tooLarge: boolean
}

export interface MultipartResult {
  fields: Map<string, string>
  file: MultipartFile | null
}

export class MultipartError extends Error {}

/**
 * Reads `req` as multipart. Only the first part named `fileField` is kept (written to
 * `pathFor()`); any other binary parts are drained and dropped. Throws MultipartError when the
 * body is not multipart or is malformed.
 */
export async function readMultipart(
  req: Request,
  opts: { fileField: string; maxBytes: number; pathFor: () => string },
): Promise<MultipartResult> {
  const contentType = req.headers.get('content-type') ?? ''
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new MultipartError(`Invalid Content-Type header (${contentType || 'none'}), expected multipart/form-data.`)
  }
  if (!req.body) throw new MultipartError('The request body is empty.')

  let bb: Busboy.Busboy
  try {
    // fileSize + 1 lets us tell "exactly at the limit" from "over it".
    bb = Busboy({ headers: { 'content-type': contentType }, limits: { fileSize: opts.maxBytes + 1 } })
  } catch (err) {
    throw new MultipartError(`Malformed multipart request: ${(err as Error).message}`)
  }

  const fields = new Map<string, string>()
  let file: MultipartFile | null = null
  const writes: Promise<void>[] = []

  const done = new Promise<void>((resolve, reject) => {
    bb.on('field', (name, value) => {
      if (!fields.has(name)) fields.set(name, value)
    })
    bb.on('file', (name, stream, info) => {
      if (name !== opts.fileField || file) {
        stream.resume()
        return
      }
      const current: MultipartFile = { path: opts.pathFor(), filename: info.filename ?? '', bytes: 0, tooLarge: false }
      file = current
      const out = createWriteStream(current.path)
      stream.on('data', (chunk: Buffer) => {
        current.bytes += chunk.length
      })
      stream.on('limit', () => {
        current.tooLarge = true
      })
      writes.push(
        new Promise<void>((res, rej) => {
          out.on('finish', () => res())
          out.on('error', rej)
          stream.on('error', rej)
        }),
      )
      stream.pipe(out)
    })
    bb.on('close', () => resolve())
    bb.on('error', (err) => reject(new MultipartError(`Malformed multipart request: ${(err as Error).message}`)))
  })

  const source = Readable.fromWeb(req.body as unknown as NodeWebReadableStream<Uint8Array>)
  source.on('error', (err) => bb.destroy(err))
  source.pipe(bb)
  try {
    await done
    await Promise.all(writes)
  } catch (err) {
    const partial = file as MultipartFile | null
    if (partial) rmSync(partial.path, { force: true })
    throw err instanceof MultipartError ? err : new MultipartError(`Malformed multipart request: ${String(err)}`)
  }
  return { fields, file }
}
