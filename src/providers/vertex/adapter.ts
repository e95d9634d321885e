// Provider over Vertex AI batch prediction for Gemini models. Files are Cloud Storage objects in
// the instance's buckets (uploaded resumably from the spool file); a batch is a
// BatchPredictionJob reading one JSONL object and writing predictions under
// gs://BUCKET/batchgate-output/GATEWAY_ID/. Input lines are the Gemini `{key, request}` lines
// (convert/requests/to-gemini-line.ts): Vertex copies fields beside `request` into each output
// row, so the key maps rows, which arrive in no particular order, back to their custom_id.

import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { FileLocation } from '../../core/file'
import type { ProviderName } from '../../core/provider-name'
import type { VertexConfig } from '../../config'
import { GatewayError, invalid } from '../../errors'
import type { AdapterOptions, BatchMatch, CreateBatchInput, CreateCheck, CreateProbe, Provider, S3Target, UploadMeta, UploadProbe, UploadSource, UpstreamFile } from '../provider'
import type { GrowingSource } from '../growing-source'
import { upstreamFilename } from '../upload-name'
import type { UpstreamPolicy } from '../upstream-fetch'
import { accessTokens } from './auth'
import { GcsClient, type GcsPlace, gsUri, parseGsUri } from './gcs'
import { publisherModel, toUpstreamBatch } from './job'
import { BearerRest } from './rest'
import type { VertexBatchJob, VertexCreateJobBody, VertexJobList } from './wire'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

export interface VertexAdapterOptions extends AdapterOptions {
  /** Upload chunk size (rounded up to 256 KiB); tests shrink it to exercise multi-chunk uploads. */
  chunkBytes?: number
}

/** Where uploads go when the caller names no place (the instance's default bucket). */
export const VERTEX_INPUT_PREFIX = 'batchgate-input'
const OUTPUT_PREFIX = 'batchgate-output'
/** Job names this gateway reads: `projects/P/locations/L/batchPredictionJobs/ID`. */
const JOB_NAME = /^projects\/[a-z0-9-]+\/locations\/[a-z0-9-]+\/batchPredictionJobs\/[A-Za-z0-9_-]+$/
const MAX_LISTED_JOBS = 1000

export class VertexAdapter implements Provider {
  readonly kind = 'vertex' as const
  readonly name: ProviderName
  readonly batchInput = 'file' as const
  private readonly api: BearerRest
  private readonly gcs: GcsClient

  constructor(
    private readonly config: VertexConfig,
    policy: UpstreamPolicy,
    options: VertexAdapterOptions = {},
  ) {
    this.name = options.name ?? this.kind
    const tokens = accessTokens(config, policy, this.name)
    this.api = new BearerRest(this.name, config.baseUrl, policy, tokens)
    this.gcs = new GcsClient(new BearerRest(this.name, config.storageUrl, policy, tokens), options.chunkBytes)
  }

  uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile> {
    return this.upload(source, meta, () => source.bytes)
  }

  /** A resumable session takes chunks before the size is known: they go up as the file grows. */
  uploadGrowingFile(source: GrowingSource, meta: UploadMeta): Promise<UpstreamFile> {
    return this.upload(source, meta, () => source.total ?? -1)
  }

  private async upload(source: UploadSource | GrowingSource, meta: UploadMeta, sent: () => number): Promise<UpstreamFile> {
    const place = this.placeFor(meta.storage, meta.gatewayId, meta.filename, meta.purpose)
    // Batch input is converted Gemini JSONL whatever type the caller declared.
    const contentType = meta.purpose === 'batch' ? 'application/jsonl' : meta.mimeType || 'application/octet-stream'
    const object = await this.gcs.upload(place, source, contentType)
    const bytes = Number(object.size ?? '-1')
    if (bytes !== sent()) {
      throw new GatewayError('upstream', `cloud storage kept ${bytes} of ${sent()} uploaded bytes`, { upstreamStatus: 502 })
    }
    return {
      location: { kind: 'upstream', upstreamId: gsUri(place), bucket: place.bucket, key: place.object },
      bytes,
      createdAt: Math.floor(Date.now() / 1000),
      // Objects stay in the operator's bucket until deleted (its lifecycle rules aside).
      expiresAt: null,
    }
  }

  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    return this.gcs.download(placeOf(location))
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    await this.gcs.delete(placeOf(location))
  }

  checkCreate(input: CreateCheck): string {
    if (!input.model) {
      throw invalid('vertex batches run one model: every request must name the same model, or send model with the create.', { param: 'model' })
    }
    // Partner models (Llama, Claude, Mistral on Vertex) take other input lines than Gemini's.
    const publisher = /^publishers\/([^/]+)\//.exec(input.model)?.[1]
    if (publisher !== undefined && publisher !== 'google') {
      throw invalid(`vertex instances run Gemini models (publishers/google/… or a tuned model); '${input.model.slice(0, 200)}' is a ${publisher.slice(0, 40)} model.`, { param: 'model' })
    }
    return input.model
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'file') throw new GatewayError('internal', 'vertex batches need an input file in Cloud Storage')
    const model = publisherModel(this.checkCreate(input))
    const source = placeOf(input.input.location)
    // Results go next to the input, in a folder of the batch's own: the bucket is one already allowed.
    const body: VertexCreateJobBody = {
      displayName: input.gatewayId,
      model,
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [gsUri(source)] } },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: `gs://${source.bucket}/${OUTPUT_PREFIX}/${input.gatewayId}` } },
    }
    const job = await this.job(this.jobsPath(), {
      what: 'create batch',
      // Not idempotent upstream: a retry after a lost answer would start a second job
      // (core/adoption.ts finds the first by its display name instead).
      idempotent: false,
      method: 'POST',
      json: body,
    })
    return toUpstreamBatch(job, nowSeconds())
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    return toUpstreamBatch(await this.job(jobPath(upstreamId), { what: 'get batch', idempotent: true, method: 'GET' }), nowSeconds())
  }

  /** Cancel answers `{}`; the job is read again for its new state (CANCELLING, then CANCELLED). */
  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    try {
      const res = await this.api.request(`${jobPath(upstreamId)}:cancel`, { what: 'cancel batch', idempotent: true, method: 'POST', json: {} })
      await res.body?.cancel()
    } catch (err) {
      // A repeated cancel (ours after a lost answer, or the caller's) is refused once the job has
      // ended; a job already cancelling or cancelled is exactly the answer wanted.
      if (!(err instanceof GatewayError) || err.details.upstreamStatus !== 400) throw err
      const batch = await this.getBatch(upstreamId)
      if (batch.status !== 'cancelled' && batch.status !== 'cancelling') throw err
      return batch
    }
    return this.getBatch(upstreamId)
  }

  /** Deleting answers with a long-running operation; a job already gone counts as deleted. */
  async deleteBatch(upstreamId: string): Promise<void> {
    const res = await this.api.request(jobPath(upstreamId), { what: 'delete batch', idempotent: true, method: 'DELETE', okStatuses: [404] })
    await res.body?.cancel()
  }

  /** Every `predictions*.jsonl` object under the output directory, one after another. */
  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    if (ref.format !== 'vertex-predictions') throw new GatewayError('internal', `vertex cannot open ${ref.format} results`)
    const dir = parseGsUri(ref.ref.endsWith('/') ? ref.ref : `${ref.ref}/`)
    if (!dir) throw new GatewayError('upstream', 'vertex named an output directory that is not a gs:// URI', { upstreamStatus: 502 })
    const names: string[] = []
    for await (const o of this.gcs.list(dir.bucket, dir.object)) {
      const leaf = o.name.slice(dir.object.length)
      if (!leaf.includes('/') && /^predictions.*\.jsonl$/.test(leaf)) names.push(o.name)
    }
    return concatObjects(this.gcs, dir.bucket, names.sort())
  }

  /** Jobs are created with displayName = gateway id, so an interrupted create is found by name. */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    let token: string | undefined
    let seen = 0
    do {
      const query = new URLSearchParams({ filter: `display_name="${probe.gatewayId}"`, pageSize: '100', ...(token ? { pageToken: token } : {}) })
      const page = (await this.api.json(`${this.jobsPath()}?${query}`, { what: 'list batches', idempotent: true, method: 'GET' })) as VertexJobList
      const job = page.batchPredictionJobs?.find((j) => j.displayName === probe.gatewayId)
      if (job) return { kind: 'tagged', batch: toUpstreamBatch(job, nowSeconds()) }
      seen += page.batchPredictionJobs?.length ?? 0
      token = page.nextPageToken
    } while (token && seen < MAX_LISTED_JOBS)
    return null
  }

  /** The object name derives from the gateway id, so a lost upload is looked up directly. */
  async findUpload(probe: UploadProbe): Promise<UpstreamLocation | null> {
    const place = this.placeFor(probe.storage, probe.gatewayId, probe.filename, probe.purpose)
    const found = await this.gcs.stat(place)
    return found ? { kind: 'upstream', upstreamId: gsUri(place), bucket: place.bucket, key: place.object } : null
  }

  private placeFor(storage: S3Target | null, gatewayId: string, filename: string, purpose: UploadMeta['purpose']): GcsPlace {
    const bucket = storage?.bucket ?? this.config.defaultBucket
    const folder = (storage?.prefix ?? VERTEX_INPUT_PREFIX).replace(/^\/+|\/+$/g, '')
    return { bucket, object: `${folder ? `${folder}/` : ''}${upstreamFilename(gatewayId, filename, purpose)}` }
  }

  private jobsPath(): string {
    return `/v1/projects/${encodeURIComponent(this.config.project)}/locations/${encodeURIComponent(this.config.location)}/batchPredictionJobs`
  }

  private async job(path: string, call: Parameters<BearerRest['json']>[1]): Promise<VertexBatchJob> {
    const body = (await this.api.json(path, call)) as VertexBatchJob | null
    if (!body || typeof body.name !== 'string' || !JOB_NAME.test(body.name)) {
      throw new GatewayError('upstream', `${this.name} sent an unexpected answer to "${call.what}"`, { upstreamStatus: 502 })
    }
    return body
  }
}

/** A stored job name becomes the path; anything else is refused so it cannot alter the URL. */
function jobPath(upstreamId: string): string {
  if (!JOB_NAME.test(upstreamId)) throw new GatewayError('internal', `not a vertex job name: ${upstreamId.slice(0, 120)}`)
  return `/v1/${upstreamId}`
}

function placeOf(location: UpstreamLocation): GcsPlace {
  if (location.bucket && location.key !== undefined) return { bucket: location.bucket, object: location.key }
  const place = parseGsUri(location.upstreamId)
  if (!place) throw new GatewayError('internal', `not a gs:// location: ${location.upstreamId.slice(0, 120)}`)
  return place
}

/** The objects' bytes back to back, each opened only when the one before is read to its end. */
function concatObjects(gcs: GcsClient, bucket: string, names: string[]): ReadableStream<Uint8Array> {
  let index = 0
  let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(reason?: unknown): Promise<void> } | null = null
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!reader) {
        const name = names[index++]
        if (name === undefined) {
          controller.close()
          return
        }
        reader = (await gcs.download({ bucket, object: name })).getReader()
      }
      const next = await reader.read()
      if (!next.done && next.value) {
        controller.enqueue(next.value)
        return
      }
      reader = null
      // A file that does not end in a newline must not run into the next one's first line.
      controller.enqueue(new Uint8Array([10]))
    },
    cancel: async (reason) => {
      await reader?.cancel(reason)
    },
  })
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
