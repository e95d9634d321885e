// Entry of the Anthropic fake: auth and version checks, routing, request IDs and the error
// envelope around the Files (files.ts) and Message Batches (batches.ts) stores.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FakeServer, serveFake } from '../harness'
import { type BatchObject, BatchesStore, type StoredBatch } from './batches'
import { ApiError, errorEnvelope, newId } from './common'
import { type StoredFile, FilesStore } from './files'

export interface AnthropicFakeOptions {
  /** The only API key accepted (default `sk-ant-test`). */
  apiKey?: string
  /** When true (default) every batch retrieve advances the batch one lifecycle step. */
  autoAdvance?: boolean
}

export interface AnthropicFake extends FakeServer {
  /** Live state, keyed by ID. Deleted objects are removed. */
  files: Map<string, StoredFile>
  batches: Map<string, StoredBatch>
  /** Mutable: set to false to freeze batches mid-test. */
  autoAdvance: boolean
  /** Ends a batch now (succeeded/errored per prompt; a canceling batch ends with the rest canceled). */
  finish(batchId: string): BatchObject
  /** Ends a batch as if its 24 h window ran out: unfinished requests become `expired`. */
  expire(batchId: string): BatchObject
  /** Advances a batch one lifecycle step, as an auto-advancing retrieve would. */
  advance(batchId: string): BatchObject
  /** The wire JSON of a batch as the API would return it now (no side effects). */
  batchObject(batchId: string): BatchObject
  /** Adds a tool-generated file (`downloadable: true`) whose content can be downloaded. */
  addDownloadableFile(filename: string, content: string | Uint8Array, mimeType?: string): StoredFile
}

export function startAnthropicFake(opts: AnthropicFakeOptions = {}): AnthropicFake {
  const apiKey = opts.apiKey ?? 'sk-ant-test'
  const dir = mkdtempSync(join(tmpdir(), 'anthropic-fake-'))
  const files = new FilesStore(dir)
  let fake: AnthropicFake | undefined
  const batches = new BatchesStore(
    () => fake?.url ?? '',
    () => fake?.autoAdvance ?? true,
  )

  async function route(req: Request, url: URL): Promise<Response> {
    // SDK 0.x sends `x-api-key`; SDK 1.x sends `Authorization: Bearer <key>` (spec §1).
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1]
    if (req.headers.get('x-api-key') !== apiKey && bearer !== apiKey) {
      throw new ApiError('authentication_error', 'invalid x-api-key')
    }
    // Any version value is accepted (2023-06-01 for SDK 0.x, 2026-10-21 for 1.x), but one is required.
    if (!req.headers.get('anthropic-version')) {
      throw new ApiError('invalid_request_error', 'anthropic-version: header is required')
    }
    // `anthropic-beta` and `?beta=true` are accepted and ignored: both shapes are always served.
    const segments = url.pathname.split('/').filter(Boolean)
    if (segments[0] === 'v1') {
      const res =
        segments[1] === 'files'
          ? await files.handle(req, url, segments.slice(2))
          : segments[1] === 'messages' && segments[2] === 'batches'
            ? await batches.handle(req, url, segments.slice(3))
            : undefined
      if (res) return res
    }
    throw new ApiError('not_found_error', `Not found: ${req.method} ${url.pathname}`)
  }

  const server = serveFake(async (req, url) => {
    const requestId = newId('req')
    let res: Response
    try {
      res = await route(req, url)
    } catch (thrown) {
      // Unexpected crashes still answer in the Anthropic envelope (500 api_error), like the real API.
      if (!(thrown instanceof ApiError)) console.error('anthropic fake crashed', thrown)
      const err = thrown instanceof ApiError ? thrown : new ApiError('api_error', 'Internal server error')
      res = new Response(JSON.stringify(errorEnvelope(err.type, err.message, requestId, err.errorCode)), {
        status: err.status,
        headers: { 'content-type': 'application/json' },
      })
    }
    // The SDK reads the request id from this header (spec §1).
    res.headers.set('request-id', requestId)
    return res
  })

  const known = (id: string): StoredBatch => {
    const b = batches.batches.get(id)
    if (!b) throw new Error(`anthropic fake: unknown batch ${id}`)
    return b
  }

  fake = {
    ...server,
    files: files.files,
    batches: batches.batches,
    autoAdvance: opts.autoAdvance ?? true,
    finish: (id) => (known(id), batches.finish(id)),
    expire: (id) => (known(id), batches.expire(id)),
    advance: (id) => {
      const b = known(id)
      batches.advance(b)
      return batches.batchObject(b)
    },
    batchObject: (id) => batches.batchObject(known(id)),
    addDownloadableFile: (filename, content, mimeType) => files.addDownloadable(filename, content, mimeType),
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return fake
}
