// Files API of the OpenAI fake (openai.md §2): upload, list, retrieve, delete, download.

import { rmSync } from 'node:fs'
import { MultipartError, readMultipart } from './multipart'
import { type FileStore, type StoredFile, toWireFile } from './store'
import { badRequest, json, notFound, paginate, parseIntParam } from './wire'

/** Purposes accepted on upload (openai.md §2 POST /files). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const

/** `expires_after[seconds]` / `output_expires_after.seconds` range: 1 hour – 30 days. */
export const MIN_EXPIRES_SECONDS = 3600
export const MAX_EXPIRES_SECONDS = 2_592_000

/** 512 MB per file (openai.md §2 "Limits"). */
export const MAX_FILE_BYTES = 512 * 1024 * 1024

export interface FilesContext {
  store: FileStore
  maxFileBytes: number
  /** Purposes POST /files accepts (default: OpenAI's). */
  purposes?: readonly string[]
  /** False: GET /files is one unpaged list (default: paged like OpenAI's). */
  pagedLists?: boolean
}

export function fileNotFound(id: string): Response {
  return notFound(`No such File object: ${id}`)
}

/**
 * Validates an `expires_after` pair. Anchor may only be `created_at`; seconds must be an integer
 * within 3600–2592000. Returns the seconds (undefined when absent) or an error Response.
 */
export function checkExpiresAfter(anchor: unknown, seconds: unknown, param: string): number | undefined | Response {
  if (anchor === undefined && seconds === undefined) return undefined
  if (anchor !== undefined && anchor !== 'created_at') {
    return badRequest(`Invalid '${param}.anchor': expected 'created_at', but got '${String(anchor)}' instead.`, `${param}.anchor`)
  }
  if (seconds === undefined) {
    return badRequest(`Missing required parameter: '${param}.seconds'.`, `${param}.seconds`)
  }
  const n = typeof seconds === 'string' ? parseIntParam(seconds) : seconds
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    return badRequest(`Invalid '${param}.seconds': expected an integer, but got '${String(seconds)}' instead.`, `${param}.seconds`)
  }
  if (n < MIN_EXPIRES_SECONDS || n > MAX_EXPIRES_SECONDS) {
    return badRequest(
      `Invalid '${param}.seconds': expected a value between ${MIN_EXPIRES_SECONDS} and ${MAX_EXPIRES_SECONDS}, but got ${n} instead.`,
      `${param}.seconds`,
    )
  }
  return n
}

export function checkPurpose(purpose: string | undefined, allowed: readonly string[]): Response | undefined {
  if (purpose === undefined || purpose === '') return badRequest(`Missing required parameter: 'purpose'.`, 'purpose')
  if (!allowed.includes(purpose)) {
    return badRequest(`'${purpose}' is not one of [${allowed.map((p) => `'${p}'`).join(', ')}] - 'purpose'`, 'purpose')
  }
  return undefined
}

/** POST /files — the `file` part is streamed to disk; `purpose` and `expires_after[...]` are bracketed form fields. */
export async function uploadFile(ctx: FilesContext, req: Request): Promise<Response> {
  let form
  try {
    form = await readMultipart(req, { fileField: 'file', maxBytes: ctx.maxFileBytes, pathFor: () => ctx.store.tempPath('upload') })
  } catch (err) {
    if (err instanceof MultipartError) return badRequest(err.message)
    throw err
  }
  const { fields, file } = form
  const reject = (res: Response): Response => {
    if (file) rmSync(file.path, { force: true })
    return res
  }
  if (!file) return badRequest(`Missing required parameter: 'file'.`, 'file')
  if (file.tooLarge) {
    return reject(badRequest(`File is too large: the maximum size for a single file is ${ctx.maxFileBytes} bytes.`, 'file'))
  }
  const purposeError = checkPurpose(fields.get('purpose'), ctx.purposes ?? UPLOAD_PURPOSES)
  if (purposeError) return reject(purposeError)
  const expires = checkExpiresAfter(fields.get('expires_after[anchor]'), fields.get('expires_after[seconds]'), 'expires_after')
  if (expires instanceof Response) return reject(expires)
  const stored = ctx.store.register(file.path, {
    filename: file.filename || 'upload',
    purpose: fields.get('purpose') ?? '',
    bytes: file.bytes,
    expiresAfterSeconds: expires,
  })
  return json(toWireFile(stored))
}

/** GET /files — purpose filter, limit 1–10000 (default 10000), order asc|desc by created_at (default desc), after cursor. */
export function listFiles(ctx: FilesContext, url: URL): Response {
  if (ctx.pagedLists === false) return json({ object: 'list', data: [...ctx.store.files.values()].reverse().map(toWireFile) })
  const limit = parseIntParam(url.searchParams.get('limit')) ?? 10_000
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    return badRequest(`Invalid 'limit': expected an integer between 1 and 10000, but got '${url.searchParams.get('limit')}' instead.`, 'limit')
  }
  const order = url.searchParams.get('order') ?? 'desc'
  if (order !== 'asc' && order !== 'desc') {
    return badRequest(`Invalid 'order': expected one of 'asc' or 'desc', but got '${order}' instead.`, 'order')
  }
  const purpose = url.searchParams.get('purpose')
  const sorted = [...ctx.store.files.values()]
    .filter((f) => !purpose || f.purpose === purpose)
    .sort((a, b) => a.created_at - b.created_at || a.seq - b.seq)
  if (order === 'desc') sorted.reverse()
  const page = paginate(sorted, limit, url.searchParams.get('after'))
  return json({ ...page, data: page.data.map(toWireFile) })
}

function lookup(ctx: FilesContext, id: string): StoredFile | Response {
  return ctx.store.files.get(id) ?? fileNotFound(id)
}

export function retrieveFile(ctx: FilesContext, id: string): Response {
  const file = lookup(ctx, id)
  return file instanceof Response ? file : json(toWireFile(file))
}

export function deleteFile(ctx: FilesContext, id: string): Response {
  if (!ctx.store.delete(id)) return fileNotFound(id)
  return json({ id, object: 'file', deleted: true })
}

/** GET /files/{id}/content — raw bytes streamed from disk (the SDK asks with `Accept: application/binary`). */
export function fileContent(ctx: FilesContext, id: string): Response {
  const file = lookup(ctx, id)
  if (file instanceof Response) return file
  return new Response(Bun.file(file.path), {
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(file.bytes),
      'content-disposition': `attachment; filename="${file.filename.replace(/"/g, '')}"`,
    },
  })
}
