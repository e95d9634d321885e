// Provider over Anthropic's REST API without the SDK: Files API for files, Message Batches for
// batches. Batch input is inline (`requests[]` in the create call), streamed from core's spool of
// request items. Every call goes through upstreamFetch for timeouts, retries and error mapping.

import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { FileLocation } from '../../core/file'
import type { AnthropicConfig } from '../../config'
import { GatewayError } from '../../errors'
import { streamedMultipart } from '../multipart-body'
import { createWindow, MAX_LISTED } from '../create-window'
import type { ProviderName } from '../../core/provider-name'
import type { AdapterOptions, BatchMatch, CreateBatchInput, CreateProbe, Provider, UploadMeta, UploadProbe, UploadSource, UpstreamFile } from '../provider'
import { upstreamFilename } from '../upload-name'
import { readJsonErrorMessage, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'
import { requestsBody } from './requests-body'
import { toUpstreamBatch } from './status'
import {
  type AnthropicFileObject,
  type AnthropicMessageBatch,
  type AnthropicMessageBatchList,
  requiredUnixSeconds,
  unixSeconds,
} from './wire'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

const API_VERSION = '2023-06-01'
// Files went GA, but pinning the beta keeps the (beta) response shape stable whatever the
// account's default is; batches are GA and need no beta header.
const FILES_BETA = 'files-api-2025-04-14'

interface Call {
  what: string
  method: 'GET' | 'POST' | 'DELETE'
  idempotent: boolean
  headers?: Record<string, string>
  /** Built per attempt (a stream can be sent once); may add headers such as a multipart boundary. */
  body?: () => { body: NonNullable<RequestInit['body']>; headers?: Record<string, string> }
  okStatuses?: readonly number[]
}

export class AnthropicAdapter implements Provider {
  readonly kind = 'anthropic' as const
  readonly name: ProviderName
  readonly batchInput = 'inline' as const

  constructor(
    private readonly config: AnthropicConfig,
    private readonly policy: UpstreamPolicy,
    options: AdapterOptions = {},
  ) {
    this.name = options.name ?? this.kind
  }

  async uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile> {
    // Anthropic files have no purpose; the gateway keeps the caller's purpose itself.
    const res = await this.request('/v1/files', {
      what: 'upload file',
      method: 'POST',
      // Safe to repeat: the body is re-read from the spool file and a failed upload creates nothing.
      idempotent: true,
      headers: { 'anthropic-beta': FILES_BETA },
      body: () =>
        streamedMultipart([], {
          name: 'file',
          filename: upstreamFilename(meta.gatewayId, meta.filename, meta.purpose),
          contentType: meta.mimeType,
          path: source.path,
          bytes: source.bytes,
        }),
    })
    const file = (await res.json()) as AnthropicFileObject
    return {
      location: { kind: 'upstream', upstreamId: file.id },
      bytes: file.size_bytes,
      createdAt: requiredUnixSeconds(file.created_at, 'created_at'),
      expiresAt: unixSeconds(file.expires_at),
    }
  }

  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    // User uploads answer 400 (not downloadable): upstreamFetch surfaces it with Anthropic's message.
    const res = await this.request(`/v1/files/${enc(location.upstreamId)}/content`, {
      what: 'download file',
      method: 'GET',
      idempotent: true,
      headers: { 'anthropic-beta': FILES_BETA, accept: 'application/binary' },
    })
    return bodyOf(res, 'file')
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    await this.request(`/v1/files/${enc(location.upstreamId)}`, {
      what: 'delete file',
      method: 'DELETE',
      idempotent: true,
      headers: { 'anthropic-beta': FILES_BETA },
      // Already gone (expired, or a retry after a lost answer) is the state we wanted.
      okStatuses: [404],
    })
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'inline') {
      throw new GatewayError('internal', 'anthropic batches take inline requests, not an input file')
    }
    const source = input.input.source
    const res = await this.request('/v1/messages/batches', {
      what: 'create batch',
      method: 'POST',
      // Not idempotent upstream: a retry after a lost answer would create a second batch.
      idempotent: false,
      // Chunked: the exact length is only known after reading the spool file once more.
      body: () => ({ body: requestsBody(source), headers: { 'content-type': 'application/json' } }),
    })
    return toUpstreamBatch((await res.json()) as AnthropicMessageBatch)
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    const res = await this.request(`/v1/messages/batches/${enc(upstreamId)}`, {
      what: 'get batch',
      method: 'GET',
      idempotent: true,
    })
    return toUpstreamBatch((await res.json()) as AnthropicMessageBatch)
  }

  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    const res = await this.request(`/v1/messages/batches/${enc(upstreamId)}/cancel`, {
      what: 'cancel batch',
      method: 'POST',
      // Repeating a cancel of a canceling batch just returns it again.
      idempotent: true,
    })
    return toUpstreamBatch((await res.json()) as AnthropicMessageBatch)
  }

  async deleteBatch(upstreamId: string): Promise<void> {
    // Upstream refuses (400) while the batch has not ended; that error surfaces unchanged.
    await this.request(`/v1/messages/batches/${enc(upstreamId)}`, {
      what: 'delete batch',
      method: 'DELETE',
      idempotent: true,
      okStatuses: [404],
    })
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    if (ref.format !== 'anthropic-results') {
      throw new GatewayError('internal', `anthropic cannot open ${ref.format} results`)
    }
    // The URL is rebuilt on the configured base URL from the batch id; the batch's `results_url`
    // is never followed: it is an absolute URL the answer controls, and following it would send
    // our API key to whatever host it names.
    const res = await this.request(`/v1/messages/batches/${enc(ref.ref)}/results`, {
      what: 'download batch results',
      method: 'GET',
      idempotent: true,
      headers: { accept: 'application/binary' },
    })
    return bodyOf(res, 'results')
  }

  /**
   * Message batches carry no metadata, so an interrupted create is matched by what it must look
   * like: created inside the create's time window, holding exactly its number of requests, and
   * mapped by no other gateway batch. Every such batch is returned; core/adoption.ts takes one
   * only when it is the single fit and no other create could have made it.
   */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    const window = createWindow(probe, this.policy)
    const matches: AnthropicMessageBatch[] = []
    for await (const batch of this.newestFirst<AnthropicMessageBatch>('/v1/messages/batches', 'list batches', window.from)) {
      const created = requiredUnixSeconds(batch.created_at, 'created_at')
      const counts = batch.request_counts
      const total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
      if (created <= window.to && total === probe.requests && !(await probe.isMapped(batch.id))) matches.push(batch)
    }
    return matches.length === 0 ? null : { kind: 'lookalikes', batches: matches.map(toUpstreamBatch) }
  }

  /** Uploads are named after the gateway id (upload-name.ts): the newest file of that name. */
  async findUpload(probe: UploadProbe): Promise<UpstreamLocation | null> {
    const name = upstreamFilename(probe.gatewayId, probe.filename, probe.purpose)
    const from = createWindow(probe, this.policy).from
    const headers = { 'anthropic-beta': FILES_BETA }
    for await (const file of this.newestFirst<AnthropicFileObject>('/v1/files', 'list files', from, headers)) {
      if (file.filename === name) return { kind: 'upstream', upstreamId: file.id }
    }
    return null
  }

  /**
   * A list call's items, newest first (before_id/after_id paging, spec §2.2/§3.2), down to the
   * first one created before `from`, at most MAX_LISTED in all.
   */
  private async *newestFirst<T extends { id: string; created_at: string }>(
    path: string,
    what: string,
    from: number,
    headers?: Record<string, string>,
  ): AsyncGenerator<T> {
    let afterId: string | null = null
    for (let seen = 0; seen < MAX_LISTED; ) {
      const query: string = afterId === null ? 'limit=100' : `limit=100&after_id=${enc(afterId)}`
      const res = await this.request(`${path}?${query}`, { what, method: 'GET', idempotent: true, headers })
      const page = (await res.json()) as { data: T[]; has_more: boolean; last_id: string | null }
      for (const item of page.data) {
        if (requiredUnixSeconds(item.created_at, 'created_at') < from) return
        yield item
      }
      seen += page.data.length
      if (!page.has_more || page.last_id === null) return
      afterId = page.last_id
    }
  }

  /** One REST call with the auth and version headers every Anthropic call carries. */
  private request(path: string, call: Call): Promise<Response> {
    return upstreamFetch(
      `${this.config.baseUrl}${path}`,
      {
        provider: 'anthropic',
        what: call.what,
        idempotent: call.idempotent,
        readError: readJsonErrorMessage,
        okStatuses: call.okStatuses,
        init: () => {
          const built = call.body?.()
          return {
            method: call.method,
            headers: {
              ...call.headers,
              ...built?.headers,
              'x-api-key': this.config.apiKey,
              'anthropic-version': API_VERSION,
            },
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

function bodyOf(res: Response, what: string): ReadableStream<Uint8Array> {
  if (!res.body) throw new GatewayError('upstream', `anthropic returned an empty ${what} body`, { upstreamStatus: 502 })
  return res.body
}
