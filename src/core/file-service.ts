// Files use-cases, owner-checked: upload (spooled raw part → validate/convert → provider or blob
// store → mapping row), get, list, content, delete. Spool files never outlive the call.

import type { Config } from '../config'
import { GatewayError, invalid, naming, notFound } from '../errors'
import { idsOf } from '../upstream-ids'
import { brokenOffAs } from '../providers/upstream-fetch'
import { GrowingSource } from '../providers/growing-source'
import type { Provider, S3Target, UploadSource } from '../providers/provider'
import type { Registry } from '../providers/registry'
import type { Page, PageRequest } from '../store/page-query'
import type { Store } from '../store/store'
import { isTerminal } from './batch'
import { convertBatchFile } from './batch-file'
import { convertWhileUploading, streamingPart, uploadsWhileConverting } from './streamed-upload'
import { DEFAULT_POOL } from './convert-pool'
import type { EarlyUpload, PartConverter, UploadRequest } from './file-upload'
import type { FileFacts, FilePurpose, StoredFile } from './file'
import { type IdKind, mintId } from './ids'
import { filteredPage } from './filtered-page'
import type { Dialect, ProviderName } from './provider-name'
import { traced } from '../ops/tracing'
import { UploadRecorder } from './upload-recorder'

/** Opens a derived file's bytes (batch results); provided by the batch side to avoid a cycle. */
export type DerivedContent = (file: StoredFile) => Promise<ReadableStream<Uint8Array>>

const ID_KIND: Record<Dialect, IdKind> = { openai: 'openaiFile', anthropic: 'anthropicFile' }

export class FileService {
  derivedContent: DerivedContent = async () => {
    throw new GatewayError('internal', 'derived content is not wired')
  }

  /** The two halves of recording an upload (pending row + bytes placed, then the row completed). */
  private readonly recorder: UploadRecorder

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly registry: Registry,
  ) {
    this.recorder = new UploadRecorder(store)
  }

  /** The largest file the provider instance takes (throws for an unconfigured one), in one POST or through Uploads. */
  maxUploadBytes(provider: ProviderName, via: UploadRequest['via'] = 'post'): number {
    const limits = this.registry.limits(provider)
    return via === 'uploads' ? limits.maxUploadsApiBytes : limits.maxUploadBytes
  }

  async upload(req: UploadRequest): Promise<StoredFile> {
    const provider = this.registry.get(req.provider)
    const { maxBatchRequests } = this.registry.limits(req.provider)
    const limit = this.maxUploadBytes(req.provider, req.via)
    if (req.raw.bytes > limit) {
      throw new GatewayError('too_large', `${req.provider} accepts files up to ${limit} bytes; this one has ${req.raw.bytes}.`, {
        param: 'file',
        code: 'limit_exceeded',
      })
    }
    if (req.raw.bytes === 0) throw invalid('The uploaded file is empty.', { param: 'file' })
    const id = mintId(ID_KIND[req.dialect])
    const spooled: string[] = [req.raw.path]
    try {
      let body = { path: req.raw.path, bytes: req.raw.bytes }
      let facts: FileFacts = { format: 'raw' }
      let keepIds: string | null = null
      if (req.converted) {
        if ('failed' in req.converted) throw req.converted.failed
        const { result, idsPath } = req.converted
        spooled.push(result.path, idsPath)
        // Fields after the file part cannot change what it was converted for.
        if (req.purpose !== 'batch' || req.converted.provider !== req.provider) {
          throw invalid(
            `The file was converted as a batch file for ${req.converted.provider}, as the fields before it said; the fields after it say ${req.purpose} for ${req.provider}. Send provider and purpose once.`,
            { param: 'provider' },
          )
        }
        const { placed } = req.converted
        if (placed?.fits(req.storage)) {
          const file = await this.recorder.completeRecorded(provider, placed.id, req, await placed.claim(), result.facts)
          if (result.idsWritten) await this.store.blobs.put(idsPath, file.id, 'ids')
          return file
        }
        // storage_config came after the part and names another place: upload the spool there.
        await placed?.release()
        body = result
        facts = result.facts
        if (result.idsWritten) keepIds = idsPath
      } else if (req.purpose === 'batch') {
        // Listed before converting: a bad line fails the conversion with its output half written.
        const out = this.store.blobs.spoolPath('converted')
        spooled.push(out)
        const idsPath = this.store.blobs.spoolPath('ids')
        spooled.push(idsPath)
        const convert = (onWritten?: (bytes: number) => void) =>
          traced('convert batch input', { 'batchgate.provider': provider.name }, () =>
            convertBatchFile(body, provider, out, { ...this.config.limits, maxBatchRequests }, idsPath, { ...DEFAULT_POOL, workers: this.config.convertWorkers }, onWritten),
          )
        if (uploadsWhileConverting(provider)) {
          const { file, idsWritten } = await convertWhileUploading(this.recorder, provider, id, req, out, convert)
          if (idsWritten) await this.store.blobs.put(idsPath, file.id, 'ids')
          return file
        }
        const converted = await convert()
        body = converted
        facts = converted.facts
        if (converted.idsWritten) keepIds = idsPath
      }
      const file = await this.record(provider, id, req, body, facts)
      if (keepIds) await this.store.blobs.put(keepIds, file.id, 'ids')
      return file
    } finally {
      for (const path of spooled) this.store.blobs.remove(path)
    }
  }

  /**
   * A converter to feed an upload's file part as it arrives, when the provider and purpose are
   * known before it (the one-pass upload). Its result goes back in as UploadRequest.converted;
   * abort() removes what it wrote. With `early` (what the request says before the part), a
   * provider that takes a growing file gets the output while it is converted.
   */
  async streamingConversion(providerName: ProviderName, early?: EarlyUpload): Promise<PartConverter> {
    const provider = this.registry.get(providerName)
    const { maxBatchRequests } = this.registry.limits(providerName)
    const outPath = this.store.blobs.spoolPath('converted')
    const idsPath = this.store.blobs.spoolPath('ids')
    const upfront =
      early && uploadsWhileConverting(provider)
        ? {
            id: mintId(ID_KIND[early.dialect]),
            req: {
              ...early,
              provider: providerName,
              raw: { path: outPath, bytes: 0, filename: early.filename, mimeType: early.mimeType },
              purpose: 'batch',
              expiresAfterSeconds: null,
            } satisfies UploadRequest,
          }
        : null
    return streamingPart(this.recorder, {
      provider,
      providerName,
      limits: { ...this.config.limits, maxBatchRequests },
      outPath,
      idsPath,
      early: upfront,
      remove: () => {
        this.store.blobs.remove(outPath)
        this.store.blobs.remove(idsPath)
      },
    })
  }

  /** Registers a batch input file the gateway converted itself (inline requests → file). */
  async uploadConverted(args: {
    tenant: string
    dialect: Dialect
    provider: ProviderName
    source: { path: string; bytes: number }
    filename: string
    facts: FileFacts
  }): Promise<StoredFile> {
    const id = mintId(ID_KIND[args.dialect])
    const req: UploadRequest = {
      tenant: args.tenant,
      dialect: args.dialect,
      provider: args.provider,
      raw: { ...args.source, filename: args.filename, mimeType: 'application/jsonl' },
      purpose: 'batch',
      storage: this.defaultStorage(args.provider),
      expiresAfterSeconds: null,
    }
    return this.record(this.registry.get(args.provider), id, req, args.source, args.facts, 'internal')
  }

  /** Removes a gateway-made input (its create was refused): upstream object, sidecar, row. */
  async removeInternal(file: StoredFile): Promise<void> {
    await this.recorder.removeBytes(this.registry.get(file.provider), file.id, file.location)
    await this.store.files.delete(file.id, file.tenant)
    await this.store.blobs.delete(file.id, 'ids')
  }

  /**
   * Records the upload as pending, places the bytes, then completes the row; a failure drops the
   * row (and the bytes, if they were placed). A crash in between leaves the pending row for
   * start-up reconciliation (reconcile.ts).
   */
  private async record(
    provider: Provider,
    id: string,
    req: UploadRequest,
    body: UploadSource | GrowingSource,
    facts: FileFacts | Promise<FileFacts>,
    state: 'ready' | 'internal' = 'ready',
  ): Promise<StoredFile> {
    const location = await this.recorder.placeRecorded(provider, id, req, body)
    return this.recorder.completeRecorded(provider, id, req, location, await facts, state)
  }

  /** The instance's default bucket under a fixed prefix: where inputs the gateway writes itself go. */
  defaultStorage(provider: ProviderName): S3Target | null {
    const instance = this.registry.instance(provider)
    if (instance.kind === 'vertex') return { bucket: instance.settings.defaultBucket, region: null, prefix: 'batchgate-input' }
    if (instance.kind !== 'bedrock' || !instance.settings.defaultBucket) return null
    return { bucket: instance.settings.defaultBucket, region: instance.settings.region, prefix: 'batchgate-input' }
  }

  async get(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredFile> {
    const file = await this.store.files.get(id, tenant)
    // A hint naming another provider is treated like an unknown id: the id is not that provider's.
    if (!file || (providerHint && providerHint !== file.provider)) throw notFound('file', id)
    if (expired(file)) {
      // The caller's expires_after is honoured: past it the file is gone, and its bytes go now.
      await this.remove(file).catch(() => undefined)
      throw notFound('file', id)
    }
    return file
  }

  /** `storage` (OpenAI `storage_config[s3]` in a list query) keeps the files kept in that bucket/prefix. */
  list(
    tenant: string,
    filter: { purpose?: string; provider?: ProviderName; storage?: S3Target },
    page: PageRequest,
  ): Promise<Page<StoredFile>> {
    const { storage, ...rest } = filter
    const stored = { ...rest, liveAt: Math.floor(Date.now() / 1000) }
    if (!storage) return this.store.files.list(tenant, stored, page)
    const prefix = storage.prefix ? `${storage.prefix}/` : ''
    return filteredPage(
      (p) => this.store.files.list(tenant, stored, p),
      page,
      (f) => f.location.kind === 'upstream' && f.location.bucket === storage.bucket && (f.location.key ?? '').startsWith(prefix),
    )
  }

  async content(tenant: string, id: string, providerHint?: ProviderName): Promise<ReadableStream<Uint8Array>> {
    const file = await this.get(tenant, id, providerHint)
    const stream = await this.storedContent(file)
    const content = file.facts.bom ? withBom(stream) : stream
    // Counted only while the size is unknown: once recorded, downloads pass through untouched.
    return file.purpose === 'batch_output' && file.bytes === 0 ? this.sizedOnceRead(file, content) : content
  }

  /**
   * A result file's size is not known when it is minted (derived files are produced on each read,
   * adopted ones are not fetched): the first download read to its end records it, so every later
   * retrieve and list says the real `bytes`. Results of an ended batch do not change between reads.
   */
  private sizedOnceRead(file: StoredFile, content: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    let bytes = 0
    const files = this.store.files
    return content.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength
          controller.enqueue(chunk)
        },
        async flush() {
          await files.updateBytes(file.id, bytes).catch(() => undefined)
        },
      }),
    )
  }

  private async storedContent(file: StoredFile): Promise<ReadableStream<Uint8Array>> {
    switch (file.location.kind) {
      case 'upstream':
        return this.registry
          .get(file.provider)
          .fileContent(file.location)
          .then((body) => brokenOffAs(file.provider, body), naming(idsOf(file.location.upstreamId, file.id)))
      case 'blob': {
        const bytes = await this.store.blobs.open(file.id, 'content')
        if (!bytes) throw new GatewayError('internal', `the bytes of ${file.id} are missing from the blob store`)
        return bytes
      }
      case 'derived':
        return this.derivedContent(file)
      default: {
        const never: never = file.location
        throw new GatewayError('internal', `unknown file location ${JSON.stringify(never)}`)
      }
    }
  }

  /**
   * Deletes the file for the client. A file some batch still reads as its input is only retired:
   * the client sees it gone, while its bytes stay until every such batch has ended (settleInput)
   * and its row and custom_id sidecar stay for the batch's counts and results (docs/decisions.md).
   */
  async delete(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredFile> {
    const file = await this.get(tenant, id, providerHint)
    await this.remove(file)
    return file
  }

  private async remove(file: StoredFile): Promise<void> {
    if ((await this.store.batches.usersOfInput(file.id)).length > 0) {
      await this.store.files.retire(file.id)
      return
    }
    await this.recorder.removeBytes(this.registry.get(file.provider), file.id, file.location)
    await this.store.files.delete(file.id, file.tenant)
    await this.store.blobs.delete(file.id, 'ids')
  }

  /**
   * Called when a batch reading `fileId` has ended: the bytes of an input the client deleted
   * meanwhile (retired) or the gateway made (internal) go once no batch still running needs them,
   * so no tenant data outlives its batch upstream. Row and sidecar stay (results, counts read them).
   */
  async settleInput(fileId: string): Promise<void> {
    const file = await this.store.files.getAny(fileId)
    const state = file ? await this.store.files.stateOf(fileId) : null
    if (!file || (state !== 'retired' && state !== 'internal')) return
    const users = await this.store.batches.usersOfInput(fileId)
    if (users.some((b) => b.status === null || !isTerminal(b.status))) return
    await this.recorder.removeBytes(this.registry.get(file.provider), file.id, file.location)
    await this.store.files.release(file.id)
  }

}

const BOM = new Uint8Array([0xef, 0xbb, 0xbf])

/** The stored bytes with the BOM the caller's file began with (batch-file.ts keeps it out). */
function withBom(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = stream.getReader()
  let sent = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true
        controller.enqueue(BOM)
        return
      }
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
}

/** Past the caller's expires_after (OpenAI) or expires_in_seconds (Anthropic). */
function expired(file: StoredFile): boolean {
  return file.expiresAt !== null && file.expiresAt <= Math.floor(Date.now() / 1000)
}
