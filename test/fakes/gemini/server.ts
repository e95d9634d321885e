// HTTP front of the Gemini fake: auth, routing and the test-control API.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FakeServer } from '../harness'
import { GoogleError, normaliseKeys, readJsonBody, serveGoogleFake } from './common'
import type { JsonObject } from './common'
import { BatchStore } from './batches'
import type { BatchRecord } from './batches'
import { FileStore, stripFilesPrefix } from './files'
import type { StoredFile } from './files'

export interface GeminiFakeOptions {
  /** The only accepted API key (default 'gemini-test-key'). */
  apiKey?: string
  /** When true (default) each GET of a batch advances it one lifecycle step. */
  autoAdvance?: boolean
}

export interface GeminiFake extends FakeServer {
  readonly apiKey: string
  /** Can be flipped at run time. */
  autoAdvance: boolean
  /** Stored files keyed by id (no `files/` prefix): uploads and generated result files. */
  readonly files: Map<string, StoredFile>
  /** Batches keyed by id (no `batches/` prefix); deleted batches disappear. */
  readonly batches: Map<string, BatchRecord>
  /** Moves a batch one lifecycle step, as a GET would. */
  advance(batchName: string): Promise<void>
  /** Jumps a batch to its final state (SUCCEEDED, or FAILED if its input is bad). */
  finish(batchName: string): Promise<void>
  /** Marks a pending/running batch BATCH_STATE_EXPIRED (done, no results). */
  expire(batchName: string): Promise<void>
  /** Marks a pending/running batch BATCH_STATE_FAILED with Operation error {code: 13, message}. */
  fail(batchName: string, message: string): Promise<void>
  /** The batch's Operation JSON as GET would return it, without advancing. */
  operation(batchName: string): JsonObject
  /** Bytes of a stored file (`files/x` or `x`), uploaded or generated. */
  readFile(name: string): Promise<Uint8Array>
  readFileText(name: string): Promise<string>
}

/**
 * Google API-key errors (spec §1: `x-goog-api-key` header or `?key=`). The real service answers a
 * missing key with 403 PERMISSION_DENIED and a wrong key with 400 INVALID_ARGUMENT
 * "API key not valid" + ErrorInfo API_KEY_INVALID; the fake does the same.
 */
function checkAuth(req: Request, url: URL, apiKey: string): void {
  const key = req.headers.get('x-goog-api-key') ?? url.searchParams.get('key')
  if (key === null || key === '') {
    if (req.headers.get('authorization')) {
      throw new GoogleError(
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      )
    }
    throw new GoogleError(
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    )
  }
  if (key !== apiKey) {
    throw new GoogleError('INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ])
  }
}

const notFoundRoute = (method: string, path: string): GoogleError =>
  new GoogleError('NOT_FOUND', `Method ${method} ${path} is not found for API version v1beta.`)

export function startGeminiFake(opts: GeminiFakeOptions = {}): GeminiFake {
  const apiKey = opts.apiKey ?? 'gemini-test-key'
  const dir = mkdtempSync(join(tmpdir(), 'gemini-fake-'))
  let baseUrl = ''
  const state = { autoAdvance: opts.autoAdvance ?? true }
  const files = new FileStore(dir, () => baseUrl)
  const batches = new BatchStore(files, () => state.autoAdvance)

  async function route(req: Request, url: URL): Promise<Response> {
    let path: string
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      throw notFoundRoute(req.method, url.pathname)
    }
    const method = req.method

    // Upload endpoint (§2.1). Chunks on a session URL are authorised by the upload_id itself.
    if (path === '/upload/v1beta/files') {
      if (method !== 'POST') throw notFoundRoute(method, path)
      if (!url.searchParams.has('upload_id')) checkAuth(req, url, apiKey)
      return files.handleUpload(req, url)
    }

    checkAuth(req, url, apiKey)

    // §2.5 download, REST-guide path and SDK path.
    let m = /^(?:\/download)?\/v1beta\/files\/([^/:]+):download$/.exec(path)
    if (m?.[1]) {
      if (method !== 'GET') throw notFoundRoute(method, path)
      return files.download(m[1], url)
    }
    if (path === '/v1beta/files') {
      if (method !== 'GET') throw notFoundRoute(method, path)
      return files.list(url)
    }
    m = /^\/v1beta\/files\/([^/:]+)$/.exec(path)
    if (m?.[1]) {
      if (method === 'GET') return files.getResponse(m[1])
      if (method === 'DELETE') return files.delete(m[1])
      throw notFoundRoute(method, path)
    }

    m = /^\/v1beta\/models\/([^/:]+):batchGenerateContent$/.exec(path)
    if (m?.[1]) {
      if (method !== 'POST') throw notFoundRoute(method, path)
      return batches.create(req, m[1])
    }
    if (path === '/v1beta/batches') {
      if (method !== 'GET') throw notFoundRoute(method, path)
      return batches.list(url)
    }
    m = /^\/v1beta\/batches\/([^/:]+)(?::(cancel|delete))?$/.exec(path)
    if (m?.[1]) {
      const id = m[1]
      const verb = m[2]
      if (verb === 'cancel' && method === 'POST') {
        // CancelBatchRequest has no body fields besides the name (the SDK sends `{}`).
        normaliseKeys(await readJsonBody(req, true), ['name'], '')
        return batches.cancel(id)
      }
      // The guide shows POST …:delete; the SDK uses HTTP DELETE (§3.5).
      if ((verb === 'delete' && method === 'POST') || (verb === undefined && method === 'DELETE')) return batches.delete(id)
      if (verb === undefined && method === 'GET') return batches.getResponse(id)
    }
    throw notFoundRoute(method, path)
  }

  const server = serveGoogleFake(route)
  baseUrl = server.url

  const mustBatch = (name: string): BatchRecord => {
    const b = batches.get(name)
    if (!b) throw new Error(`no such batch: ${name}`)
    return b
  }

  return {
    ...server,
    apiKey,
    get autoAdvance() {
      return state.autoAdvance
    },
    set autoAdvance(v: boolean) {
      state.autoAdvance = v
    },
    files: files.files,
    batches: batches.batches,
    advance: (name) => batches.advance(mustBatch(name)),
    finish: (name) => batches.finish(mustBatch(name)),
    expire: (name) => batches.expire(mustBatch(name)),
    fail: (name, message) => batches.fail(mustBatch(name), message),
    operation: (name) => batches.operation(mustBatch(name)),
    readFile: (name) => files.readBytes(stripFilesPrefix(name)),
    readFileText: async (name) => new TextDecoder().decode(await files.readBytes(stripFilesPrefix(name))),
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
