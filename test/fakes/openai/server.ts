// Router, auth and public handle of the OpenAI Files + Batches fake. Clients use
// baseURL = `${fake.url}/v1`, like the real `https://api.openai.com/v1` (openai.md §1).

import { readFileSync } from 'node:fs'
import { type FakeServer, serveFake } from '../harness'
import { BatchesApi } from './batches'
import { deleteFile, fileContent, type FilesContext, listFiles, retrieveFile, uploadFile } from './files'
import { type Flavor, OPENAI_FLAVOR } from './flavor'
import { FileStore, type StoredFile } from './store'
import { type UploadObject, UploadsApi } from './uploads'
import { errorResponse, type OpenAIBatch } from './wire'

export interface OpenAIFakeOptions {
  /** The only key accepted in `Authorization: Bearer <key>` (default 'sk-test-openai'). */
  apiKey?: string
  /** When true (default) every GET /batches/{id} moves that batch one lifecycle step. */
  autoAdvance?: boolean
  /** Per-request upload cap for POST /files (default: the flavor's real limit). */
  maxFileBytes?: number
  /** Which provider's OpenAI-shaped API to serve (default OpenAI's own). */
  flavor?: Flavor
}

export interface OpenAIFake extends FakeServer {
  apiKey: string
  /** Every stored file (uploads and generated batch results) by id; `path` is its bytes on disk. */
  files: Map<string, StoredFile>
  /** Every batch by id, as the wire object the API returns (live: it changes as the batch moves). */
  batches: Map<string, OpenAIBatch>
  /** Every Upload (Uploads API) by id, as the wire object the API returns. */
  uploads(): UploadObject[]
  /** Whether a GET moves a batch one step; tests flip it to freeze batches. */
  autoAdvance: boolean
  countFiles(): number
  /** The stored bytes of a file as UTF-8 (throws for an unknown id). */
  fileText(id: string): string
  /** One lifecycle step, exactly what a GET does with autoAdvance on. */
  advance(batchId: string): OpenAIBatch
  /** Straight to the terminal state: completed (or failed for bad input; cancelled if cancelling). */
  finish(batchId: string): OpenAIBatch
  /** Forces expiry: requests already run are delivered, the others become batch_expired error lines. */
  /** Ends the batch as its window runs out; `ran` requests (default: those already run) finished first. */
  expire(batchId: string, ran?: number): OpenAIBatch
}


export function startOpenAIFake(opts: OpenAIFakeOptions = {}): OpenAIFake {
  const apiKey = opts.apiKey ?? 'sk-test-openai'
  const store = new FileStore()
  const flavor = opts.flavor ?? OPENAI_FLAVOR
  const filesCtx: FilesContext = { store, maxFileBytes: opts.maxFileBytes ?? flavor.maxFileBytes, purposes: flavor.purposes, pagedLists: flavor.pagedLists }
  const batches = new BatchesApi(store, opts.autoAdvance ?? true, flavor)
  const uploads = new UploadsApi(filesCtx)

  async function route(req: Request, url: URL): Promise<Response | undefined> {
    const all = url.pathname.replace(/\/+$/, '').split('/').slice(1)
    if (flavor.prefix.some((segment, i) => all[i] !== segment)) return undefined
    const [resource, id, action, ...rest] = all.slice(flavor.prefix.length)
    if (rest.length > 0) return undefined
    const m = req.method
    if (resource === 'files') {
      if (id === undefined) {
        if (m === 'POST') return uploadFile(filesCtx, req)
        if (m === 'GET') return listFiles(filesCtx, url)
      } else if (action === undefined) {
        if (m === 'GET') return retrieveFile(filesCtx, id)
        if (m === 'DELETE') return deleteFile(filesCtx, id)
      } else if (action === 'content' && m === 'GET') return fileContent(filesCtx, id)
    }
    if (resource === 'uploads' && m === 'POST' && flavor.uploads) {
      if (id === undefined) return uploads.create(req)
      if (action === 'parts') return uploads.addPart(req, id)
      if (action === 'complete') return uploads.complete(req, id)
      if (action === 'cancel') return uploads.cancel(id)
    }
    if (resource === 'batches') {
      if (id === undefined) {
        if (m === 'POST') return batches.create(req)
        if (m === 'GET') return batches.list(url)
      } else if (action === undefined && m === 'GET') return batches.retrieve(id)
      else if (action === 'cancel' && m === 'POST') return batches.cancel(id)
    }
    return undefined
  }

  const server = serveFake(async (req, url) => {
    const denied = flavor.auth(req, url, apiKey)
    if (denied) return denied
    const res = await route(req, url)
    return res ?? errorResponse(404, `Invalid URL (${req.method} ${url.pathname})`)
  }) // size limits are enforced per part, with OpenAI's 400 envelope

  const need = (id: string, batch: OpenAIBatch | undefined): OpenAIBatch => {
    if (!batch) throw new Error(`OpenAI fake: no batch ${id}`)
    return batch
  }

  return {
    ...server,
    apiKey,
    files: store.files,
    batches: batches.batches,
    uploads: () => [...uploads.uploads.values()].map((u) => u.wire),
    get autoAdvance() {
      return batches.autoAdvance
    },
    set autoAdvance(on: boolean) {
      batches.autoAdvance = on
    },
    countFiles: () => store.files.size,
    fileText: (id) => {
      const file = store.files.get(id)
      if (!file) throw new Error(`OpenAI fake: no file ${id}`)
      return readFileSync(file.path, 'utf8')
    },
    advance: (id) => need(id, batches.advance(id)),
    finish: (id) => need(id, batches.finish(id)),
    expire: (id, ran) => need(id, batches.expire(id, ran)),
    close: async () => {
      await server.close()
      store.removeAll()
    },
  }
}
