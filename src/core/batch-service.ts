// Batch use-cases after create, owner-checked: get (refreshing non-terminal snapshots from the
// upstream), list (bounded refresh work per call), cancel, delete, results, and the result
// files of the OpenAI dialect (adopted upstream files, or derived ones computed on demand).

import type { Config } from '../config'
import { GatewayError, naming, notFound } from '../errors'
import { idsOf } from '../upstream-ids'
import { log } from '../log'
import type { Registry } from '../providers/registry'
import type { Page, PageRequest } from '../store/page-query'
import type { Store } from '../store/store'
import { endedAt, isTerminal, settledCounts, type StoredBatch } from './batch'
import type { ChatResult } from './chat'
import type { StoredFile } from './file'
import type { FileService } from './file-service'
import { filteredPage } from './filtered-page'
import { mintId } from './ids'
import type { Dialect, ProviderName } from './provider-name'
import { completeResults } from './result-completion'
import { chatResultBatches, dialectResults } from './results'
import { afterFirstChunk } from './first-chunk'
import { brokenOffAs } from '../providers/upstream-fetch'
import { tracedStream } from '../ops/tracing'

/** At most this many upstream refreshes per list call, so a list stays cheap. */
const LIST_REFRESH_BUDGET = 8

export class BatchService {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly files: FileService,
  ) {
    files.derivedContent = (file) => this.derivedContent(file)
  }

  /** The stored batch, refreshed from the upstream while it is not terminal. */
  async get(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredBatch> {
    const batch = await this.find(tenant, id, providerHint)
    return isTerminal(batch.snapshot.status) && (batch.dialect !== 'openai' || batch.outputFileId || batch.errorFileId)
      ? batch
      : this.refresh(batch)
  }

  async find(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredBatch> {
    const batch = await this.store.batches.get(id, tenant)
    if (!batch || (providerHint && providerHint !== batch.provider)) throw notFound('batch', id)
    return batch
  }

  async list(
    tenant: string,
    page: PageRequest,
    filter: { dialect?: Dialect; provider?: ProviderName; model?: string } = {},
  ): Promise<Page<StoredBatch>> {
    const { model, ...stored } = filter
    // `model` (an OpenAI list query the seed sends for Bedrock) keeps the batches run on that model.
    const result = model
      ? await filteredPage((p) => this.store.batches.list(tenant, p, stored), page, (b) => b.snapshot.model === model)
      : await this.store.batches.list(tenant, page, stored)
    const stale = result.items.filter((b) => !isTerminal(b.snapshot.status)).slice(0, LIST_REFRESH_BUDGET)
    const fresh = new Map<string, StoredBatch>()
    await Promise.all(
      stale.map(async (b) => {
        // A provider hiccup must not fail the whole list: the last snapshot is shown instead.
        const refreshed = await this.refresh(b).catch(() => b)
        fresh.set(b.id, refreshed)
      }),
    )
    return { ...result, items: result.items.map((b) => fresh.get(b.id) ?? b) }
  }

  async cancel(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredBatch> {
    const batch = await this.find(tenant, id, providerHint)
    // What the stored state decides is answered here: the upstream's refusal would quote its ids.
    if (isTerminal(batch.snapshot.status)) throw alreadyEnded(batch)
    const snapshot = await this.withKnownTotal(batch, await this.cancelUpstream(batch))
    await this.store.batches.markCancelRequested(batch.id, Math.floor(Date.now() / 1000))
    await this.store.batches.saveSnapshot(batch.id, snapshot)
    return this.withResultFiles({ ...(await this.find(tenant, id)), snapshot })
  }

  /**
   * A batch that ended upstream since it was last seen is refused by the upstream in its own
   * words; the refreshed state then decides, and the caller gets the same 400 as above.
   */
  private async cancelUpstream(batch: StoredBatch): Promise<StoredBatch['snapshot']> {
    try {
      return await this.registry.get(batch.provider).cancelBatch(batch.upstreamId)
    } catch (err) {
      const refused = err instanceof GatewayError && err.kind === 'upstream' && (err.details.upstreamStatus ?? 0) < 500
      if (refused) {
        const fresh = await this.refresh(batch).catch(() => null)
        if (fresh && isTerminal(fresh.snapshot.status)) throw alreadyEnded(fresh)
      }
      return naming(idsOf(batch.upstreamId, batch.id))(err)
    }
  }

  /** Anthropic-dialect delete: only once ended, as Anthropic documents. */
  async delete(tenant: string, id: string, providerHint?: ProviderName): Promise<StoredBatch> {
    const batch = await this.get(tenant, id, providerHint)
    if (!isTerminal(batch.snapshot.status)) {
      throw new GatewayError('conflict', `Batch ${batch.id} is still processing; cancel it and wait until it has ended before deleting it.`)
    }
    await this.registry.get(batch.provider).deleteBatch(batch.upstreamId).catch(naming(idsOf(batch.upstreamId, batch.id)))
    await this.store.batches.markDeleted(batch.id)
    return batch
  }

  /** All results in `dialect` (Anthropic `results`); only once the batch has ended. */
  async results(tenant: string, id: string, dialect: Dialect): Promise<ReadableStream<Uint8Array>> {
    const batch = await this.get(tenant, id)
    if (!isTerminal(batch.snapshot.status)) {
      throw new GatewayError('conflict', `Batch ${batch.id} has not finished processing; results are available once it has ended.`)
    }
    const provider = this.registry.get(batch.provider)
    const [only] = batch.snapshot.resultRefs
    // Same format in and out: pass the upstream stream through untouched.
    const stream =
      batch.snapshot.resultRefs.length === 1 && only?.format === 'anthropic-results' && dialect === 'anthropic'
        ? brokenOffAs(provider.name, await provider.openResults(only))
        : tracedStream('convert results', { 'batchgate.provider': batch.provider, 'batchgate.to': dialect }, dialectResults(this.resultBatches(batch), dialect, 'all', { created: endedAt(batch) }))
    return this.reached(batch, stream)
  }

  /** The results once the upstream has answered with their first bytes (first-chunk.ts). */
  private async reached(
    batch: StoredBatch,
    stream: ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>,
  ): Promise<ReadableStream<Uint8Array>> {
    return afterFirstChunk(await stream).catch(naming(idsOf(batch.upstreamId, batch.id)))
  }

  /** Whether the gateway kept the batch's custom_ids (result-completion.ts can then add lines). */
  private async hasIds(batch: StoredBatch): Promise<boolean> {
    return batch.inputFileId !== null && (await this.store.blobs.has(batch.inputFileId, 'ids'))
  }

  /**
   * The upstream's results, plus a line for each request the upstream ended without one, one
   * array per upstream chunk (results.ts).
   */
  resultBatches(batch: StoredBatch, onBadLine?: (err: GatewayError) => void): AsyncGenerator<ChatResult[]> {
    const upstream = chatResultBatches(batch, this.registry.get(batch.provider), this.config.limits, undefined, onBadLine)
    const ids = batch.inputFileId ? () => this.store.blobs.open(batch.inputFileId as string, 'ids') : null
    return completeResults(upstream, batch, ids, this.config.limits.maxLineBytes)
  }

  /** resultBatches one result at a time (settlement's tally). */
  async *allResults(batch: StoredBatch, onBadLine?: (err: GatewayError) => void): AsyncGenerator<ChatResult> {
    for await (const results of this.resultBatches(batch, onBadLine)) yield* results
  }

  /** Polls a batch that has not ended (the watcher calls this too); records each status change. */
  async refresh(batch: StoredBatch): Promise<StoredBatch> {
    if (!isTerminal(batch.snapshot.status)) {
      const upstream = await this.registry.get(batch.provider).getBatch(batch.upstreamId).catch(naming(idsOf(batch.upstreamId, batch.id)))
      const snapshot = await this.withKnownTotal(batch, upstream)
      if (await this.store.batches.saveSnapshot(batch.id, snapshot)) {
        log('info', 'batch status changed', { batch: batch.id, provider: batch.provider, status: snapshot.status })
      }
      batch = { ...batch, snapshot }
      if (isTerminal(snapshot.status)) {
        // Whoever saw the end (a client's GET, too), the watcher settles it at its next tick.
        await this.store.watch.dueNow(batch.id)
        // Cleanup only: a failure must not fail the read that saw the end; the bytes then stay.
        const inputId = batch.inputFileId
        if (inputId) {
          await this.files.settleInput(inputId).catch((err: unknown) => log('warn', 'input cleanup after the batch ended failed', { file: inputId, err: String(err) }))
        }
      }
    }
    return this.withResultFiles(batch)
  }

  /**
   * Providers report no total before they have read the input (Bedrock before validation, OpenAI
   * while validating), and a job stopped early never does; the gateway counted the input's lines
   * when it wrote them, so the total is never less than that.
   */
  private async withKnownTotal(batch: StoredBatch, snapshot: StoredBatch['snapshot']): Promise<StoredBatch['snapshot']> {
    if (!isTerminal(snapshot.status) || !batch.inputFileId) return snapshot
    // getAny: the input may be the gateway's own, or deleted by the client while the batch ran.
    const lines = (await this.store.files.getAny(batch.inputFileId))?.facts.lines
    if (!lines || snapshot.counts.total >= lines) return snapshot
    return { ...snapshot, counts: { ...snapshot.counts, total: lines } }
  }

  /**
   * Gives a terminal OpenAI-dialect batch its output and error file ids, once. OpenAI's own files
   * are adopted; other providers' results become derived files computed on demand.
   */
  private async withResultFiles(batch: StoredBatch): Promise<StoredBatch> {
    if (batch.dialect !== 'openai' || !isTerminal(batch.snapshot.status)) return batch
    if (batch.outputFileId || batch.errorFileId) return batch
    const { resultRefs } = batch.snapshot
    const counts = settledCounts(batch.snapshot.status, batch.snapshot.counts)
    const failed = counts.errored + counts.canceled + counts.expired
    const parts: Array<{ part: 'output' | 'error'; wanted: boolean }> = [
      { part: 'output', wanted: counts.succeeded > 0 },
      { part: 'error', wanted: failed > 0 },
    ]
    const ids: Record<'output' | 'error', string | null> = { output: null, error: null }
    for (const { part, wanted } of parts) {
      const upstreamRef = resultRefs.find((r) => r.part === part)
      if (upstreamRef) {
        ids[part] = (await this.adopt(batch, part, { kind: 'upstream', upstreamId: upstreamRef.ref }, upstreamRef.ref)).id
      } else if (wanted && (resultRefs.length > 0 || (await this.hasIds(batch))) && !resultRefs.some((r) => r.part)) {
        ids[part] = (await this.adopt(batch, part, { kind: 'derived', batchId: batch.id, part }, `${batch.id}:${part}`)).id
      }
    }
    await this.store.batches.setResultFiles(batch.id, ids.output, ids.error)
    return { ...batch, outputFileId: ids.output, errorFileId: ids.error }
  }

  private adopt(batch: StoredBatch, part: 'output' | 'error', location: StoredFile['location'], key: string): Promise<StoredFile> {
    return this.store.files.adopt(
      {
        id: mintId('openaiFile'),
        tenant: batch.tenant,
        provider: batch.provider,
        dialect: batch.dialect,
        location,
        purpose: 'batch_output',
        filename: `${batch.id}_${part}.jsonl`,
        bytes: 0,
        mimeType: 'application/jsonl',
        createdAt: Math.floor(Date.now() / 1000),
        expiresAt: null,
        facts: { format: 'raw' },
      },
      key,
    )
  }

  private async derivedContent(file: StoredFile): Promise<ReadableStream<Uint8Array>> {
    if (file.location.kind !== 'derived') throw new GatewayError('internal', `${file.id} is not derived`)
    const batch = await this.find(file.tenant, file.location.batchId)
    const filter = file.location.part === 'output' ? 'succeeded' : file.location.part === 'error' ? 'failed' : 'all'
    // OpenAI lines carry a unix `created`; replies that report none (Anthropic, Gemini, Bedrock) get the batch's end.
    const converted = dialectResults(this.resultBatches(batch), 'openai', filter, { created: endedAt(batch) })
    return this.reached(batch, tracedStream('convert results', { 'batchgate.provider': batch.provider, 'batchgate.to': 'openai' }, converted))
  }
}

/** Cancel of an ended batch: one 400 in both dialects, for every provider (docs/decisions.md). */
function alreadyEnded(batch: StoredBatch): GatewayError {
  return new GatewayError(
    'conflict',
    `Batch ${batch.id} has already ended (${batch.snapshot.status}); only a batch that is still running can be cancelled.`,
  )
}
