// Provider over Mistral's REST API (files + /v1/batch/jobs) without an SDK. Mistral binds one model
// to a whole job and takes `{custom_id, body}` lines, so the gateway keeps the caller's batch
// files itself (core treats the kind as inline) and hands the converted lines to createBatch,
// which uploads them as a `purpose=batch` file and creates the job on it (docs/decisions.md).
// Every call goes through upstreamFetch for timeouts, retries and error mapping.

import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { FileLocation } from '../../core/file'
import type { MistralConfig } from '../../config'
import type { ProviderName } from '../../core/provider-name'
import { iterateLines } from '../../convert/lines'
import { GatewayError, invalid } from '../../errors'
import { createWindow, MAX_LISTED } from '../create-window'
import { iterableToStream, streamedMultipart } from '../multipart-body'
import { GATEWAY_ID_KEY, taggedMetadata } from '../openai/adapter'
import type { AdapterOptions, BatchMatch, CreateBatchInput, CreateCheck, CreateProbe, Provider, UploadMeta, UploadSource, UpstreamFile } from '../provider'
import { upstreamFilename } from '../upload-name'
import { readJsonErrorMessage, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'
import { REQUESTS_KEY, toUpstreamBatch, UNRUN_PREFIX, type UnrunRef } from './status'
import type { MistralFile, MistralJob, MistralJobIn, MistralJobList } from './wire'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

interface Call {
  what: string
  method: 'GET' | 'POST' | 'DELETE'
  idempotent: boolean
  /** Built per attempt (a stream can be sent once). */
  body?: () => { body: NonNullable<RequestInit['body']>; headers?: Record<string, string> }
  okStatuses?: readonly number[]
}

/** Jobs per list page when looking for a create whose answer was lost. */
const PAGE_SIZE = 100
/** Input lines are only scanned for their custom_id; a bound so a broken file cannot buffer without end. */
const INPUT_LINE_BYTES = 256 * 1024 * 1024

export class MistralAdapter implements Provider {
  readonly kind = 'mistral' as const
  readonly name: ProviderName
  /** The gateway keeps the caller's lines; createBatch gets them converted, ready to upload. */
  readonly batchInput = 'inline' as const
  private readonly baseUrl: string

  constructor(
    private readonly config: MistralConfig,
    private readonly policy: UpstreamPolicy,
    options: AdapterOptions = {},
  ) {
    this.name = options.name ?? this.kind
    // The API's paths start at /v1; a base URL written with it is taken as the same origin.
    this.baseUrl = config.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')
  }

  /**
   * Mistral keeps files for fine-tuning, batch and OCR only, and batch input stays with the gateway
   * until create (batchInput): any other gateway file has no home there.
   */
  async uploadFile(_source: UploadSource, _meta: UploadMeta): Promise<UpstreamFile> {
    throw invalid(`Provider '${this.name}' (mistral) stores only batch input files; upload a JSONL file with purpose 'batch'.`, {
      param: 'purpose',
    })
  }

  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request(`/v1/files/${enc(location.upstreamId)}/content`, { what: 'download file', method: 'GET', idempotent: true })
    if (!res.body) throw new GatewayError('upstream', `${this.name} returned an empty file body`, { upstreamStatus: 502 })
    return res.body
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    // Already gone (a retry after a lost answer) is the state we wanted.
    await this.request(`/v1/files/${enc(location.upstreamId)}`, { what: 'delete file', method: 'DELETE', idempotent: true, okStatuses: [404] })
  }

  checkCreate(input: CreateCheck): string {
    if (!input.model) {
      throw invalid(`${this.name} batches run one model: every request must name the same model.`, { param: 'model' })
    }
    return input.model
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'inline') throw new GatewayError('internal', 'mistral batches are made from the gateway-kept requests')
    const model = this.checkCreate(input)
    const file = await this.upload(input.input.source, upstreamFilename(input.gatewayId, 'batch_input.jsonl', 'batch'))
    const metadata = taggedMetadata(input.metadata, input.gatewayId)
    // Mistral counts a job's requests only once it runs; the tag keeps the count for the wait.
    if (metadata?.[GATEWAY_ID_KEY]) metadata[REQUESTS_KEY] = String(input.input.count)
    const job: MistralJobIn = {
      input_files: [file.id],
      endpoint: input.endpoint,
      model,
      metadata,
      timeout_hours: input.completionWindowHours,
    }
    try {
      const res = await this.request('/v1/batch/jobs', {
        what: 'create batch',
        method: 'POST',
        // Not idempotent upstream: a retry after a lost answer would create a second job.
        idempotent: false,
        body: () => ({ body: JSON.stringify(job), headers: { 'content-type': 'application/json' } }),
      })
      return toUpstreamBatch((await res.json()) as MistralJob)
    } catch (err) {
      // A refused job leaves nothing behind; after a lost answer the job may exist and need its file.
      const lost = err instanceof GatewayError && (err.kind === 'upstream_timeout' || err.kind === 'upstream_unreachable')
      if (!lost) await this.deleteFile({ kind: 'upstream', upstreamId: file.id }).catch(() => undefined)
      throw err
    }
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    return toUpstreamBatch(await this.job(upstreamId))
  }

  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    const res = await this.request(`/v1/batch/jobs/${enc(upstreamId)}/cancel`, {
      what: 'cancel batch',
      method: 'POST',
      // Cancelling a job that is already being cancelled answers the job again.
      idempotent: true,
    })
    return toUpstreamBatch((await res.json()) as MistralJob)
  }

  /** Jobs cannot be deleted; the files the gateway uploaded for one, and its results, can. */
  async deleteBatch(upstreamId: string): Promise<void> {
    const job = await this.job(upstreamId)
    const files = [...job.input_files, job.output_file, job.error_file].filter((id): id is string => typeof id === 'string')
    for (const id of files) await this.deleteFile({ kind: 'upstream', upstreamId: id })
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    if (ref.format !== 'mistral-output') throw new GatewayError('internal', `mistral cannot open ${ref.format} results`)
    if (ref.ref.startsWith(UNRUN_PREFIX)) return iterableToStream(this.unrunLines(JSON.parse(ref.ref.slice(UNRUN_PREFIX.length)) as UnrunRef))
    return this.fileContent({ kind: 'upstream', upstreamId: ref.ref })
  }

  /**
   * One `{custom_id, response: null, error: {code}}` line for each input request with no line in
   * the job's output or error file: what a cancel or the timeout cut off, as OpenAI reports it.
   * Memory is bounded by the job's own size, and only cut-short jobs pay for it.
   */
  private async *unrunLines(unrun: UnrunRef): AsyncGenerator<Uint8Array> {
    const customIds = async (fileId: string) =>
      iterateLines(await this.fileContent({ kind: 'upstream', upstreamId: fileId }), (text) => (JSON.parse(text) as { custom_id?: unknown }).custom_id, {
        maxLineBytes: INPUT_LINE_BYTES,
      })
    const ran = new Set<unknown>()
    for (const fileId of unrun.ran) for await (const id of await customIds(fileId)) ran.add(id)
    const encoder = new TextEncoder()
    for (const fileId of unrun.inputs) {
      for await (const id of await customIds(fileId)) {
        if (typeof id === 'string' && !ran.has(id)) yield encoder.encode(`${JSON.stringify({ custom_id: id, response: null, error: { code: unrun.code, message: `${unrun.code === 'batch_cancelled' ? 'The batch was cancelled' : 'The batch timed out'} before this request ran.` } })}\n`)
      }
    }
  }

  /**
   * The job whose metadata carries the gateway id, among those created in the create's window
   * (newest first, page by page). A job whose caller filled the metadata went untagged: one of
   * the create's size that no other gateway batch maps is a look-alike (core/adoption.ts).
   */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    const window = createWindow(probe, this.policy)
    const lookalikes: UpstreamBatch[] = []
    for (let page = 0, seen = 0; seen < MAX_LISTED; page++) {
      const res = await this.request(`/v1/batch/jobs?page=${page}&page_size=${PAGE_SIZE}`, { what: 'list batches', method: 'GET', idempotent: true })
      const jobs = ((await res.json()) as MistralJobList).data ?? []
      for (const job of jobs) {
        // Newest first: everything past the window's start is older than the create.
        if (job.created_at < window.from) return lookalikes.length > 0 ? { kind: 'lookalikes', batches: lookalikes } : null
        const tag = job.metadata?.[GATEWAY_ID_KEY]
        if (tag === probe.gatewayId) return { kind: 'tagged', batch: toUpstreamBatch(job) }
        const fits = tag === undefined && job.created_at <= window.to && job.total_requests === probe.requests
        if (fits && !(await probe.isMapped(job.id))) lookalikes.push(toUpstreamBatch(job))
      }
      seen += jobs.length
      if (jobs.length < PAGE_SIZE) break
    }
    return lookalikes.length > 0 ? { kind: 'lookalikes', batches: lookalikes } : null
  }

  private async job(upstreamId: string): Promise<MistralJob> {
    const res = await this.request(`/v1/batch/jobs/${enc(upstreamId)}`, { what: 'get batch', method: 'GET', idempotent: true })
    return (await res.json()) as MistralJob
  }

  /** One JSONL file up as `purpose=batch`, streamed from disk. */
  private async upload(source: UploadSource, filename: string): Promise<MistralFile> {
    const res = await this.request('/v1/files', {
      what: 'upload file',
      method: 'POST',
      // Safe to repeat: the body is re-read from the spool file and a failed upload creates nothing.
      idempotent: true,
      body: () =>
        streamedMultipart([{ name: 'purpose', value: 'batch' }], {
          name: 'file',
          filename,
          contentType: 'application/jsonl',
          path: source.path,
          bytes: source.bytes,
        }),
    })
    return (await res.json()) as MistralFile
  }

  /** One REST call with the bearer key every Mistral call carries. */
  private request(path: string, call: Call): Promise<Response> {
    return upstreamFetch(
      `${this.baseUrl}${path}`,
      {
        provider: this.name,
        what: call.what,
        idempotent: call.idempotent,
        readError: readJsonErrorMessage,
        okStatuses: call.okStatuses,
        init: () => {
          const built = call.body?.()
          return {
            method: call.method,
            headers: { ...built?.headers, authorization: `Bearer ${this.config.apiKey}` },
            body: built?.body,
          }
        },
      },
      this.policy,
    )
  }
}

/** Ids come from upstream answers and stored mappings; encoding keeps them inside one path segment. */
const enc = (id: string): string => encodeURIComponent(id)
