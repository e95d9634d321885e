// Provider over the official `openai` client, for OpenAI and the OpenAI-shaped batch APIs (Groq:
// see ../groq/shape.ts). OpenAI's batch vocabulary is the neutral one, so mapping is direct;
// uploads bypass the client's FormData (it buffers whole files, see multipart-body.ts) and
// stream the spool file instead.

import type OpenAI from 'openai'
import type { Batch as OpenAIBatch } from 'openai/resources/batches'
import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { FileLocation, FilePurpose } from '../../core/file'
import type { OpenAIConfig } from '../../config'
import type { ProviderName } from '../../core/provider-name'
import { splitOpenAIFailed } from '../../convert/batch-status'
import { iterateLines } from '../../convert/lines'
import { GatewayError, invalid } from '../../errors'
import { streamedMultipart } from '../multipart-body'
import { createWindow, MAX_LISTED } from '../create-window'
import type { AdapterOptions, BatchMatch, CreateBatchInput, CreateProbe, Provider, UploadMeta, UploadProbe, UploadSource, UpstreamFile } from '../provider'
import { upstreamFilename } from '../upload-name'
import { OPENAI_RELAY, type RelayDeps, type RelaySizes, relayUpload } from './uploads-relay'
import { depthGuardedFetch, readJsonErrorMessage, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

/** Metadata key carrying the gateway id upstream, so start-up can find an interrupted create. */
export const GATEWAY_ID_KEY = 'batchgate_id'
/** OpenAI accepts at most 16 metadata pairs. */
const MAX_METADATA_PAIRS = 16

/** Where an OpenAI-shaped API differs from OpenAI's own. */
export interface OpenAIShape {
  kind: 'openai' | 'groq' | 'azure-openai'
  /** The purpose a gateway file is stored with upstream; null when the API keeps no such files. */
  purpose(purpose: FilePurpose): string | null
  completionWindow(hours: number): string
  /** GET /batches pages newest first with limit/after (OpenAI), or returns one unpaged list (Groq). */
  pagedList: boolean
  /** The batch `endpoint` as this API names it (Azure drops the `/v1`). */
  endpoint(endpoint: string): string
  /** Files over 512 MB go up through the API's own Uploads API (OpenAI); null: no such API. */
  relay: RelaySizes | null
}

export const OPENAI_SHAPE: OpenAIShape = {
  kind: 'openai',
  // OpenAI has no purpose for converted output of other dialects; anything not an OpenAI
  // purpose is stored as user_data (the Anthropic dialect's generic files).
  purpose: (p) => (p === 'batch_output' || p === 'user' ? 'user_data' : p),
  completionWindow: () => '24h',
  pagedList: true,
  endpoint: (e) => e,
  relay: OPENAI_RELAY,
}

type ClientOptions = { timeout: number; maxRetries: number; fetch: (url: string | URL | Request, init?: RequestInit) => Promise<Response> }

/** How calls reach the API: the client (given how every call must be sent) and the upload target. */
export interface Connection {
  /** The SDK is imported on first use: loading it costs ~6 MiB of RSS in a gateway that may never call it. */
  client(common: ClientOptions): Promise<OpenAI>
  /** Where a streamed multipart upload to `path` (`files`, `uploads/…/parts`) goes, and its credentials. */
  uploadTarget(path?: string): Promise<{ url: string; headers: Record<string, string> }>
}

/** OpenAI and Groq: a base URL and `Authorization: Bearer <key>`. */
export function bearerConnection(config: OpenAIConfig): Connection {
  return {
    client: async (common) => new (await import('openai')).default({ apiKey: config.apiKey, baseURL: config.baseUrl, ...common }),
    uploadTarget: async (path = 'files') => ({ url: `${config.baseUrl}/${path}`, headers: { authorization: `Bearer ${config.apiKey}` } }),
  }
}

export class OpenAIAdapter implements Provider {
  readonly kind: OpenAIShape['kind']
  readonly name: ProviderName
  readonly batchInput = 'file' as const
  private clientMade: Promise<OpenAI> | null = null
  private readonly connection: Connection

  constructor(
    config: OpenAIConfig | Connection,
    private readonly policy: UpstreamPolicy,
    options: AdapterOptions = {},
    private readonly shape: OpenAIShape = OPENAI_SHAPE,
  ) {
    this.connection = 'client' in config ? config : bearerConnection(config)
    this.kind = shape.kind
    this.name = options.name ?? this.kind
    // The client only builds requests and parses answers. Its own retries and error wrapping are
    // off: every call goes through upstreamFetch like every other provider's, so timeouts,
    // retries, retry-after and failure codes are the same whichever provider failed.
  }

  private client(): Promise<OpenAI> {
    this.clientMade ??= this.connection.client({ timeout: CLIENT_TIMEOUT_MS, maxRetries: 0, fetch: (url, init) => this.send(url, init) })
    return this.clientMade
  }

  async uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile> {
    const purpose = this.shape.purpose(meta.purpose)
    if (purpose === null) {
      throw invalid(`Provider '${this.name}' (${this.kind}) stores only batch input files; upload with purpose 'batch'.`, { param: 'purpose' })
    }
    if (this.shape.relay && source.bytes > this.shape.relay.aboveBytes) {
      const file = await relayUpload(this.relayDeps(), this.shape.relay, source, {
        filename: upstreamFilename(meta.gatewayId, meta.filename, meta.purpose),
        purpose,
        mimeType: meta.mimeType,
        expiresAfterSeconds: meta.expiresAfterSeconds ?? null,
      })
      return upstreamFile(file)
    }
    const target = await this.connection.uploadTarget()
    const res = await upstreamFetch(
      target.url,
      {
        provider: this.name,
        what: 'upload file',
        // Safe to repeat: the body is re-read from the spool file and a failed upload creates nothing.
        idempotent: true,
        readError: readJsonErrorMessage,
        init: () => {
          // The caller's expires_after goes upstream too, so OpenAI drops the bytes when we do.
          const expiry = meta.expiresAfterSeconds
            ? [{ name: 'expires_after[anchor]', value: 'created_at' }, { name: 'expires_after[seconds]', value: String(meta.expiresAfterSeconds) }]
            : []
          const form = streamedMultipart([{ name: 'purpose', value: purpose }, ...expiry], {
            name: 'file',
            filename: upstreamFilename(meta.gatewayId, meta.filename, meta.purpose),
            contentType: meta.mimeType,
            path: source.path,
            bytes: source.bytes,
          })
          return {
            method: 'POST',
            headers: { ...form.headers, ...target.headers },
            body: form.body,
          }
        },
      },
      this.policy,
    )
    return upstreamFile((await res.json()) as OpenAI.FileObject)
  }

  private relayDeps(): RelayDeps {
    return {
      provider: this.name,
      policy: this.policy,
      client: () => this.client(),
      call: (fn) => this.call(fn),
      target: (path) => this.connection.uploadTarget(path),
    }
  }

  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    const res = await this.call(async () => (await this.client()).files.content(location.upstreamId))
    if (!res.body) throw new GatewayError('upstream', `${this.name} returned an empty file body`, { upstreamStatus: 502 })
    return res.body
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    await this.call(async () => (await this.client()).files.delete(location.upstreamId))
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'file') throw new GatewayError('internal', `${this.kind} batches need an input file`)
    const fileId = input.input.location.upstreamId
    // Creating is not idempotent upstream: never retried, so a timeout cannot create twice.
    const batch = await this.call(async () =>
      (await this.client()).batches.create(
        {
          input_file_id: fileId,
          endpoint: this.shape.endpoint(input.endpoint) as OpenAI.BatchCreateParams['endpoint'],
          completion_window: this.shape.completionWindow(input.completionWindowHours) as '24h',
          metadata: taggedMetadata(input.metadata, input.gatewayId),
          ...(input.outputExpiresAfterSeconds
            ? { output_expires_after: { anchor: 'created_at' as const, seconds: input.outputExpiresAfterSeconds } }
            : {}),
        },
        { maxRetries: 0 },
      ),
    )
    return toUpstreamBatch(batch)
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    return this.snapshot(await this.call(async () => (await this.client()).batches.retrieve(upstreamId)))
  }

  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    return this.snapshot(await this.call(async () => (await this.client()).batches.cancel(upstreamId)))
  }

  async deleteBatch(): Promise<void> {
    // OpenAI has no batch deletion; the gateway forgets the mapping only.
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    return this.fileContent({ kind: 'upstream', upstreamId: ref.ref })
  }

  /** The batch whose metadata carries the gateway id, among those created in the create's window. */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    const window = createWindow(probe, this.policy)
    const lookalikes: UpstreamBatch[] = []
    let seen = 0
    try {
      for await (const batch of this.recentBatches()) {
        if (++seen > MAX_LISTED) break
        if (batch.created_at < window.from) {
          // Newest first: everything past the window's start is older than the create.
          if (this.shape.pagedList) break
          continue
        }
        const tag = batch.metadata?.[GATEWAY_ID_KEY]
        if (tag === probe.gatewayId) return { kind: 'tagged', batch: toUpstreamBatch(batch) }
        // A create whose caller filled all 16 metadata pairs went untagged: it is known by its input.
        const fits = tag === undefined && batch.created_at <= window.to && batch.input_file_id === probe.inputUpstreamId
        if (fits && !(await probe.isMapped(batch.id))) lookalikes.push(toUpstreamBatch(batch))
      }
    } catch (err) {
      throw fromClientError(err)
    }
    return lookalikes.length > 0 ? { kind: 'lookalikes', batches: lookalikes } : null
  }

  /** Uploads are named after the gateway id (upload-name.ts): the newest file of that name. */
  async findUpload(probe: UploadProbe): Promise<UpstreamLocation | null> {
    const purpose = this.shape.purpose(probe.purpose)
    if (purpose === null) return null
    const window = createWindow(probe, this.policy)
    const name = upstreamFilename(probe.gatewayId, probe.filename, probe.purpose)
    let seen = 0
    try {
      for await (const file of (await this.client()).files.list({ purpose, limit: 100 } as OpenAI.FileListParams)) {
        if (++seen > MAX_LISTED) break
        if (file.created_at >= window.from && file.filename === name) return { kind: 'upstream', upstreamId: file.id }
      }
    } catch (err) {
      throw fromClientError(err)
    }
    return null
  }

  /** An unpaged list is read once: following `after` on it would return the same page forever. */
  private recentBatches(): AsyncIterable<OpenAIBatch> {
    const made = this.client()
    const paged = this.shape.pagedList
    return (async function* () {
      const client = await made
      if (paged) {
        yield* client.batches.list({ limit: 100 })
        return
      }
      const page = (await client.get('/batches')) as { data?: OpenAIBatch[] }
      yield* page.data ?? []
    })()
  }

  private send(url: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const href = url instanceof Request ? url.url : String(url)
    const method = (init.method ?? 'GET').toUpperCase()
    const path = new URL(href).pathname
    return upstreamFetch(
      href,
      {
        provider: this.name,
        what: describeCall(method, path),
        // Creates are never repeated (a timeout must not create twice); reads, deletes and cancels are.
        idempotent: method !== 'POST' || path.endsWith('/cancel'),
        readError: readJsonErrorMessage,
        init: () => init,
        fetch: depthGuardedFetch(this.name),
      },
      this.policy,
    )
  }

  /**
   * The batch in the neutral vocabulary. A batch a cancel or its window cut short counts the
   * requests that never ran in `failed`; its error file names them (`batch_cancelled`,
   * `batch_expired`), so they are counted once, when the batch is first seen ended, and reported
   * as canceled/expired like every provider's (convert/batch-status.ts).
   */
  private async snapshot(b: OpenAIBatch): Promise<UpstreamBatch> {
    const upstream = toUpstreamBatch(b)
    const c = b.request_counts
    if ((b.status !== 'expired' && b.status !== 'cancelled') || !b.error_file_id || !c || c.failed === 0) return upstream
    const cutOff = { canceled: 0, expired: 0 }
    const body = await this.fileContent({ kind: 'upstream', upstreamId: b.error_file_id })
    const lines = iterateLines(body, (text) => CUT_OFF_CODE.exec(text)?.[1], { maxLineBytes: ERROR_LINE_BYTES })
    for await (const code of lines) {
      if (code === 'batch_cancelled') cutOff.canceled++
      else if (code === 'batch_expired') cutOff.expired++
    }
    return { ...upstream, counts: splitOpenAIFailed(c, cutOff) }
  }

  /** The client's errors become GatewayErrors here, once, keeping OpenAI's status and message. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw fromClientError(err)
    }
  }
}

/**
 * The caller's metadata plus the gateway id, when the caller left room for it. A caller's own
 * `batchgate_id` is never sent: it could make start-up adopt the wrong batch. Clients see the
 * metadata they sent (the store keeps it), never the tag.
 */
export function taggedMetadata(metadata: Record<string, string> | null, gatewayId: string): Record<string, string> | null {
  const own = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => key !== GATEWAY_ID_KEY))
  if (Object.keys(own).length >= MAX_METADATA_PAIRS) return own
  return { ...own, [GATEWAY_ID_KEY]: gatewayId }
}

/** What upstreamFetch threw, found again inside the client's wrapping (it keeps it as `cause`). */
export function fromClientError(err: unknown): GatewayError {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof GatewayError) return e
  }
  return new GatewayError('internal', 'unexpected failure talking to openai')
}

/** The `error.code` of a line for a request that never ran (a code inside a string is escaped). */
const CUT_OFF_CODE = /"code"\s*:\s*"(batch_cancelled|batch_expired)"/
/** Error lines are small; a bound only so a broken file cannot buffer without end. */
const ERROR_LINE_BYTES = 16 * 1024 * 1024

/** Headers-time limits are upstreamFetch's; the client's own timer only guards against a hang. */
const CLIENT_TIMEOUT_MS = 60 * 60 * 1000

/** A short name for the call in messages; never the path itself, which carries upstream ids. */
function describeCall(method: string, path: string): string {
  const tail = path.replace(/^.*?\/(files|batches|uploads)\b/, '$1')
  if (tail.startsWith('files')) {
    if (tail.endsWith('/content')) return 'download file'
    if (method === 'DELETE') return 'delete file'
    return tail === 'files' ? (method === 'POST' ? 'upload file' : 'list files') : 'get file'
  }
  if (tail.startsWith('uploads')) {
    if (tail.endsWith('/complete')) return 'complete upload'
    if (tail.endsWith('/cancel')) return 'cancel upload'
    return 'create upload'
  }
  if (tail.startsWith('batches')) {
    if (tail.endsWith('/cancel')) return 'cancel batch'
    return tail === 'batches' ? (method === 'POST' ? 'create batch' : 'list batches') : 'get batch'
  }
  return `${method} request`
}

function upstreamFile(file: OpenAI.FileObject): UpstreamFile {
  return { location: { kind: 'upstream', upstreamId: file.id }, bytes: file.bytes, createdAt: file.created_at, expiresAt: file.expires_at ?? null }
}

function toUpstreamBatch(b: OpenAIBatch): UpstreamBatch {
  const counts = b.request_counts ?? { total: 0, completed: 0, failed: 0 }
  const resultRefs: ResultRef[] = []
  if (b.output_file_id) resultRefs.push({ format: 'openai-output', ref: b.output_file_id, part: 'output' })
  if (b.error_file_id) resultRefs.push({ format: 'openai-output', ref: b.error_file_id, part: 'error' })
  return {
    upstreamId: b.id,
    status: b.status,
    counts: { total: counts.total, succeeded: counts.completed, errored: counts.failed, canceled: 0, expired: 0 },
    times: {
      createdAt: b.created_at,
      inProgressAt: b.in_progress_at ?? null,
      finalizingAt: b.finalizing_at ?? null,
      completedAt: b.completed_at ?? null,
      failedAt: b.failed_at ?? null,
      expiredAt: b.expired_at ?? null,
      cancellingAt: b.cancelling_at ?? null,
      cancelledAt: b.cancelled_at ?? null,
      expiresAt: b.expires_at ?? null,
    },
    resultRefs,
    errors: (b.errors?.data ?? []).map((e) => ({
      code: e.code ?? 'invalid_request',
      message: e.message ?? '',
      line: e.line ?? null,
      param: e.param ?? null,
    })),
    model: (b as { model?: string }).model ?? null,
  }
}
