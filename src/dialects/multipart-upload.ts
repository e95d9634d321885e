// Streams a multipart/form-data upload to a spool file with busboy (a kept, streaming parser;
// request.formData() would buffer the whole file). Form fields may come before or after the file
// part — the OpenAI SDK sends `purpose` after `file` — so the file is spooled raw first and every
// decision that needs the fields is taken afterwards by core/.

import Busboy from 'busboy'
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'
import { GatewayError, invalid } from '../errors'
import type { BlobStore } from '../store/blobs'

export interface SpooledPart {
  path: string
  bytes: number
  filename: string
  mimeType: string
  /** True when the part was cut at `maxFileBytes`. */
  truncated: boolean
}

export interface ParsedUpload {
  fields: Map<string, string>
  file: SpooledPart | null
}

export interface UploadLimits {
  maxFileBytes: number
  maxFieldBytes: number
  maxFields: number
}

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
      limits: { fileSize: limits.maxFileBytes, fieldSize: limits.maxFieldBytes, fields: limits.maxFields, files: 1 },
    })
  } catch {
    throw invalid('The multipart boundary is malformed.', { code: 'invalid_content_type' })
  }

  const fields = new Map<string, string>()
  let file: SpooledPart | null = null
  let failure: GatewayError | null = null
  const writes: Promise<void>[] = []

  busboy.on('field', (name, value, info) => {
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
    if (name !== 'file' || file !== null) {
      failure ??= invalid(`Unexpected file part '${name}'; send the file in a part named 'file'.`, { param: name })
      stream.resume()
      return
    }
    const part: SpooledPart = {
      path: blobs.spoolPath('raw'),
      bytes: 0,
      filename: cleanFilename(info.filename),
      mimeType: info.mimeType || 'application/octet-stream',
      truncated: false,
    }
    file = part
    stream.on('data', (chunk: Buffer) => {
      part.bytes += chunk.length
    })
    stream.on('limit', () => {
      part.truncated = true
    })
    writes.push(pipeline(stream, createWriteStream(part.path)))
  })

  const body = Readable.fromWeb(request.body as unknown as NodeWebReadableStream<Uint8Array>)
  try {
    await pipeline(body, busboy)
    await Promise.all(writes)
  } catch (err) {
    // A body cut short fails the file part's write too: wait for it to settle, so its rejection
    // is not left unhandled (it would take the process down) and the spool file is closed
    // before it is removed (an open still in flight would otherwise recreate it).
    await Promise.allSettled(writes)
    const spooled = file as SpooledPart | null
    if (spooled) blobs.remove(spooled.path)
    if (err instanceof GatewayError) throw err
    throw invalid('The multipart body is malformed or was cut short.', { code: 'invalid_multipart' })
  }
  const spooled = file as SpooledPart | null
  if (failure || spooled?.truncated) {
    if (spooled) blobs.remove(spooled.path)
    if (spooled?.truncated) {
      throw new GatewayError('too_large', `The file is larger than the limit of ${limits.maxFileBytes} bytes.`, {
        param: 'file',
        code: 'limit_exceeded',
      })
    }
    throw failure as unknown as GatewayError
  }
  return { fields, file: spooled }
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
