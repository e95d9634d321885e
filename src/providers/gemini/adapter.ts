// Provider over the Gemini (AI Studio) v1beta API. @google/genai (sdk.ts) does file delete/list
// and batch cancel/delete. Raw REST stays where the SDK (3.x) cannot do the job: its BatchJob drops
// batchStats and the Operation error and renames BATCH_STATE_* (spec §3.7), so batch create/get/list
// read the Operation directly; its upload wants a Blob or a path and cannot resume a session, and
// its download writes to a path instead of handing back a stream. Every call, SDK or REST, goes
// through upstreamFetch for one timeout/retry/error-mapping behaviour.

import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { FileLocation } from '../../core/file'
import type { GeminiConfig } from '../../config'
import type { GoogleGenAI } from '@google/genai'
import { GatewayError, invalid } from '../../errors'
import { MAX_LISTED } from '../create-window'
import type { ProviderName } from '../../core/provider-name'
import type { AdapterOptions, BatchMatch, CreateBatchInput, CreateCheck, CreateProbe, Provider, UploadMeta, UploadProbe, UploadSource, UpstreamFile } from '../provider'
import type { UpstreamPolicy } from '../upstream-fetch'
import { toUpstreamBatch, unixSeconds } from './batch-mapping'
import { GeminiRest, resourcePath } from './rest'
import { DEFAULT_CHUNK_BYTES, resumableUpload } from './resumable-upload'
import { geminiSdk, viaRest } from './sdk'
import {
  type GeminiBatchList,
  type GeminiCreateBatchBody,
  type GeminiOperation,
  hasName,
} from './wire'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

export interface GeminiAdapterOptions extends AdapterOptions {
  /** Upload chunk size; tests shrink it to exercise multi-chunk uploads on small files. */
  chunkBytes?: number
}

export class GeminiAdapter implements Provider {
  readonly kind = 'gemini' as const
  readonly name: ProviderName
  readonly batchInput = 'file' as const
  private readonly rest: GeminiRest
  private readonly sdk: () => Promise<GoogleGenAI>
  private readonly chunkBytes: number

  constructor(config: GeminiConfig, policy: UpstreamPolicy, options: GeminiAdapterOptions = {}) {
    this.name = options.name ?? this.kind
    this.rest = new GeminiRest(config, policy)
    this.sdk = geminiSdk(this.rest)
    this.chunkBytes = Math.max(1, Math.floor(options.chunkBytes ?? DEFAULT_CHUNK_BYTES))
  }

  async uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile> {
    // Batch input is converted Gemini JSONL whatever type the caller declared.
    const mimeType = meta.purpose === 'batch' ? 'application/jsonl' : meta.mimeType || 'application/octet-stream'
    // Named after the gateway id so an operator can match AI Studio files to gateway files.
    const file = await resumableUpload(this.rest, source, { displayName: meta.gatewayId, mimeType }, this.chunkBytes)
    const bytes = Number(file.sizeBytes ?? '0')
    if (bytes !== source.bytes) {
      throw new GatewayError('upstream', `gemini stored ${bytes} of ${source.bytes} uploaded bytes`, { upstreamStatus: 502 })
    }
    return {
      location: { kind: 'upstream', upstreamId: file.name },
      bytes,
      createdAt: unixSeconds(file.createTime) ?? nowSeconds(),
      expiresAt: unixSeconds(file.expirationTime),
    }
  }

  /** Only service-generated files download; for uploads the upstream's own 400 surfaces (§2.5). */
  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    const res = await this.rest.request(`${resourcePath('files', location.upstreamId)}:download?alt=media`, {
      what: 'download file',
      idempotent: true,
      method: 'GET',
    })
    if (!res.body) throw new GatewayError('upstream', 'gemini returned an empty file body', { upstreamStatus: 502 })
    return res.body
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    const name = `files/${location.upstreamId.replace(/^files\//, '')}`
    await goneIsDone((await this.sdk()).files.delete({ name, config: { httpOptions: viaRest(this.rest, 'delete file', true) } }))
  }

  checkCreate(input: CreateCheck): string {
    if (!input.model) {
      throw invalid('gemini batches run one model: every request must name the same model, or send model with the create.', {
        param: 'model',
      })
    }
    return input.model
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'file') throw new GatewayError('internal', 'gemini batches need an input file')
    // Callers may pass either `gemini-x` or `models/gemini-x`; the path adds the prefix once.
    const model = this.checkCreate(input).replace(/^models\//, '')
    // Gemini batches have no metadata or completion window (fixed 24 h target, 48 h expiry), and
    // the endpoint is implied by :batchGenerateContent — those inputs have nowhere to go.
    const body: GeminiCreateBatchBody = {
      batch: { displayName: input.gatewayId, inputConfig: { fileName: input.input.location.upstreamId } },
    }
    const op = await this.operation(`/v1beta/models/${encodeURIComponent(model)}:batchGenerateContent`, {
      what: 'create batch',
      // Not idempotent upstream (spec §3.1): a retry after a lost answer would create a second batch.
      idempotent: false,
      method: 'POST',
      json: body,
    })
    return toUpstreamBatch(op, nowSeconds())
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    const path = resourcePath('batches', upstreamId)
    const op = await this.operation(path, { what: 'get batch', idempotent: true, method: 'GET' })
    return toUpstreamBatch(op, nowSeconds())
  }

  /** Cancel answers `{}` (spec §3.4), so the batch is read again for its new state. */
  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    try {
      const httpOptions = viaRest(this.rest, 'cancel batch', true)
      await (await this.sdk()).batches.cancel({ name: batchName(upstreamId), config: { httpOptions } })
    } catch (err) {
      // A repeated cancel (ours after a lost answer, or the caller's) is refused once the batch
      // is CANCELLED; that batch is exactly the answer wanted.
      if (!(err instanceof GatewayError) || err.details.upstreamStatus !== 400) throw err
      const batch = await this.getBatch(upstreamId)
      if (batch.status !== 'cancelled') throw err
      return batch
    }
    return this.getBatch(upstreamId)
  }

  async deleteBatch(upstreamId: string): Promise<void> {
    const httpOptions = viaRest(this.rest, 'delete batch', true)
    await goneIsDone((await this.sdk()).batches.delete({ name: batchName(upstreamId), config: { httpOptions } }))
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    if (ref.format !== 'gemini-responses') throw new GatewayError('internal', `gemini cannot open ${ref.format} results`)
    return this.fileContent({ kind: 'upstream', upstreamId: ref.ref })
  }

  /** Batches are created with displayName = gateway id, so an interrupted create is found by name. */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    const pages = this.pages<GeminiBatchList>('/v1beta/batches', 'list batches')
    for await (const page of pages) {
      const op = page.operations?.find((o) => o.metadata?.displayName === probe.gatewayId)
      if (op) return { kind: 'tagged', batch: toUpstreamBatch(op, nowSeconds()) }
    }
    return null
  }

  /** Uploads are named after the gateway id too (see uploadFile). */
  async findUpload(probe: UploadProbe): Promise<UpstreamLocation | null> {
    const httpOptions = viaRest(this.rest, 'list files', true)
    const pager = await (await this.sdk()).files.list({ config: { pageSize: 100, httpOptions } })
    let seen = 0
    for await (const file of pager) {
      if (file.displayName === probe.gatewayId && file.name) return { kind: 'upstream', upstreamId: file.name }
      if (++seen >= MAX_LISTED) break
    }
    return null
  }

  /** Pages of a list call, up to MAX_LISTED items in all; the order is not relied on. */
  private async *pages<T extends { nextPageToken?: string }>(path: string, what: string): AsyncGenerator<T> {
    let token: string | undefined
    for (let page = 0; page < MAX_LISTED / 100; page++) {
      const query = token === undefined ? 'pageSize=100' : `pageSize=100&pageToken=${encodeURIComponent(token)}`
      const body = (await this.rest.json(`${path}?${query}`, { what, idempotent: true, method: 'GET' })) as T
      yield body
      token = body.nextPageToken
      if (!token) return
    }
  }

  private async operation(path: string, call: Parameters<GeminiRest['json']>[1]): Promise<GeminiOperation> {
    const body = await this.rest.json(path, call)
    if (!hasName(body)) {
      throw new GatewayError('upstream', `gemini sent an unexpected answer to "${call.what}"`, { upstreamStatus: 502 })
    }
    return body as GeminiOperation
  }

}

/**
 * DELETE, where 404 counts as done: uploads expire upstream after 48 h, and a retried DELETE
 * whose first answer was lost finds nothing — either way the object is gone, as asked.
 */
async function goneIsDone(call: Promise<unknown>): Promise<void> {
  try {
    await call
  } catch (err) {
    if (!(err instanceof GatewayError) || err.details.upstreamStatus !== 404) throw err
  }
}

/** Stored ids are `batches/abc` or `abc`; the SDK wants the resource name. */
const batchName = (id: string): string => `batches/${id.replace(/^batches\//, '')}`

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
