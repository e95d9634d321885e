// Batch creation for both dialects and all providers. The input is either a gateway file (OpenAI
// dialect) or inline Anthropic-format requests; both end as the one input shape the provider
// takes (an upstream file, or spooled inline items). The intent row is written before the
// upstream call and finalized after, so a crash in between is visible at start-up.

import type { Config } from '../config'
import type { RequestTarget } from '../convert/pairs'
import { validateAnthropicRequest } from '../convert/requests/anthropic-request'
import { GatewayError, invalid, naming } from '../errors'
import { log } from '../log'
import { idsOf } from '../upstream-ids'
import type { BatchInput, Provider } from '../providers/provider'
import type { Registry } from '../providers/registry'
import type { Store } from '../store/store'
import type { StoredBatch } from './batch'
import type { Budgets } from './budget'
import type { FileFacts, StoredFile } from './file'
import type { FileService } from './file-service'
import { type Adoption, findCreatedBatch, isLostAnswer } from './adoption'
import { checkInputFile, completionHours, defaultOutputUri, onlyForKind } from './batch-create-checks'
import { mintId } from './ids'
import { checkOutputUri } from './s3-targets'
import type { Dialect, ProviderKind, ProviderName } from './provider-name'
import {
  chatRequestsFromAnthropicItems,
  chatRequestsFromOpenAIFile,
  type SpooledRequests,
  spoolRequests,
} from './request-spool'
import { traced } from '../ops/tracing'

export interface CreateBatchRequest {
  tenant: string
  dialect: Dialect
  provider: ProviderName
  input: { kind: 'file'; fileId: string; providerHint?: ProviderName } | { kind: 'inline'; requests: readonly unknown[] }
  endpoint: string
  completionWindow: string
  metadata: Record<string, string> | null
  model: string | null
  outputS3Uri: string | null
  roleArn: string | null
  /** OpenAI `output_expires_after.seconds`; the dialect refuses it for other kinds. */
  outputExpiresAfterSeconds?: number | null
}

/** The request format each kind's batch input uses when the gateway writes it. */
const INPUT_TARGET: Record<ProviderKind, RequestTarget> = {
  openai: 'openai-line',
  anthropic: 'anthropic-item',
  gemini: 'gemini-line',
  // Vertex takes the same `{key, request}` lines; the key passes through to each output line.
  vertex: 'gemini-line',
  bedrock: 'bedrock-record',
  groq: 'openai-line',
  'azure-openai': 'openai-line',
  emulated: 'openai-line',
  mistral: 'mistral-line',
}

const INPUT_FORMAT: Record<ProviderKind, FileFacts['format']> = {
  openai: 'openai-batch',
  anthropic: 'openai-batch',
  gemini: 'gemini-requests',
  vertex: 'gemini-requests',
  bedrock: 'bedrock-records',
  groq: 'openai-batch',
  'azure-openai': 'openai-batch',
  emulated: 'openai-batch',
  // Never written as a file by the gateway: its adapter uploads the converted lines at create.
  mistral: 'openai-batch',
}

/**
 * Kinds that run the model their requests name: OpenAI, Anthropic and Groq per request, Mistral
 * one per job (its uploads refuse a second model by line). A create `model` must match it, and
 * `default_model` only fills in where the requests name none.
 */
const REQUEST_MODEL_KINDS: ReadonlySet<ProviderKind> = new Set(['openai', 'anthropic', 'groq', 'mistral'])

/** A create's input after the local steps: ready for the provider, or a converted file to upload. */
type LocalInput =
  | { kind: 'ready'; input: BatchInput; model: string | null; inputFileId: string | null }
  | { kind: 'upload'; spooled: SpooledRequests; idsPath: string | undefined; model: string | null }

export class BatchCreator {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly files: FileService,
    private readonly budgets: Budgets,
  ) {}

  async create(req: CreateBatchRequest): Promise<StoredBatch> {
    // Before anything else: a spent budget refuses the create with no side effect (issue 15).
    await this.budgets.check(req.tenant)
    const file = req.input.kind === 'file' ? await this.inputFile(req.tenant, req.input.fileId, req.input.providerHint) : null
    const providerName = file?.provider ?? req.provider
    const provider = this.registry.get(providerName)
    const instance = this.registry.instance(providerName)
    const hours = completionHours(req.completionWindow, provider.kind)
    onlyForKind(req, providerName, provider.kind)
    const outputS3Uri = req.outputS3Uri ? checkOutputUri([instance], req.outputS3Uri) : defaultOutputUri(instance)
    if (file) checkInputFile(file, req.endpoint)
    const count = file?.facts.lines ?? (req.input.kind === 'inline' ? req.input.requests.length : 0)
    if (req.input.kind === 'inline') this.checkInline(req.input.requests.length, providerName)
    const requestedModel = req.model ?? instance.defaultModel
    // Gemini, Vertex and Bedrock bind one model to a whole batch; the gateway does not guess it.
    if (file && !requestedModel && (provider.kind === 'gemini' || provider.kind === 'vertex' || provider.kind === 'bedrock')) {
      throw invalid(`model is required to create a ${providerName} batch (send it in the body, e.g. extra_body.model).`, {
        param: 'model',
      })
    }

    const spools: string[] = []
    let made: StoredFile | null = null
    try {
      // Everything local first: conversion, custom_id rules and counts refuse here, and so does
      // every parameter check the provider would make. Only then the first side effect.
      const local = await this.convertInput(req, file, provider, spools)
      const named = local.model ?? file?.facts.model ?? null
      const fromRequests = REQUEST_MODEL_KINDS.has(provider.kind)
      const model = (fromRequests ? named ?? requestedModel : requestedModel ?? named) ?? null
      // A create `model` is honoured as a check that the requests all name it, never dropped in silence.
      if (req.model && fromRequests && named !== req.model) {
        throw invalid(
          `model '${req.model.slice(0, 200)}' does not match the input: ${named ? `its requests name '${named.slice(0, 200)}'` : 'its requests name several models'}; ${provider.kind} runs the model its requests name.`,
          { param: 'model' },
        )
      }
      // Inline requests were not checked line by line at upload: a second model is refused here.
      if (provider.kind === 'mistral' && named === null) {
        throw invalid(`${providerName} batches run one model: every request must name the same model.`, { param: 'requests' })
      }
      const params = {
        endpoint: req.endpoint,
        model,
        completionWindowHours: hours,
        metadata: req.metadata,
        outputS3Uri,
        roleArn: req.roleArn ?? (instance.kind === 'bedrock' ? instance.settings.roleArn : null),
        outputExpiresAfterSeconds: req.outputExpiresAfterSeconds ?? null,
      }
      provider.checkCreate?.(params)
      if (local.kind === 'upload' && provider.kind === 'bedrock' && !this.files.defaultStorage(provider.name)) {
        throw invalid('Bedrock batches from inline requests need BEDROCK_S3_BUCKET for their input file.', { param: 'requests' })
      }
      const prepared = await this.placeInput(req, local, provider)
      if (local.kind === 'upload') made = await this.store.files.getAny(prepared.inputFileId as string)
      const id = mintId(req.dialect === 'openai' ? 'openaiBatch' : 'anthropicBatch')
      const createdAt = Math.floor(Date.now() / 1000)
      await this.store.batches.recordIntent({
        id,
        tenant: req.tenant,
        provider: providerName,
        dialect: req.dialect,
        endpoint: req.endpoint,
        inputFileId: file?.id ?? prepared.inputFileId,
        completionWindow: req.completionWindow,
        metadata: req.metadata,
        createdAt,
        idScheme: provider.kind === 'bedrock' ? 'bedrock-escaped' : 'identity',
        intent: { model, requests: count, inputUpstreamId: prepared.input.kind === 'file' ? prepared.input.location.upstreamId : null },
      })
      let snapshot: StoredBatch['snapshot']
      try {
        snapshot = await provider.createBatch({ ...params, gatewayId: id, input: prepared.input })
      } catch (err) {
        try {
          snapshot = await this.adoptAfterLostAnswer(provider, id, err)
        } catch (failure) {
          // Errors name the gateway's input id, never the upstream one.
          const input = prepared.input.kind === 'file' ? prepared.input.location.upstreamId : null
          const inputId = file?.id ?? prepared.inputFileId
          throw input && inputId ? naming(idsOf(input, inputId))(failure) : failure
        }
      }
      made = null
      await this.store.batches.finalize(id, snapshot)
      const batch = await this.store.batches.get(id, req.tenant)
      if (!batch) throw new GatewayError('internal', `batch ${id} vanished after create`)
      return batch
    } finally {
      for (const path of spools) this.store.blobs.remove(path)
      // The input made for a refused create goes too; after a lost answer the batch may exist
      // upstream and need it, so it is kept with the intent (reconcile.ts decides).
      if (made && !(await this.store.batches.isInputOfAny(made.id))) await this.files.removeInternal(made).catch(() => undefined)
    }
  }

  /**
   * A create whose answer was lost (timeout, dropped connection) may still have made the batch
   * upstream: it is looked for before the caller is answered (adoption.ts) and, found, handed to
   * the caller as if the answer had come. Any other failure means nothing was created: the intent
   * goes and the error stands. Returns the adopted snapshot or throws.
   */
  private async adoptAfterLostAnswer(provider: Provider, id: string, err: unknown): Promise<StoredBatch['snapshot']> {
    const lost = isLostAnswer(err) ? err : null
    const intent = lost ? (await this.store.batches.pendingCreates()).find((c) => c.id === id) : undefined
    if (!lost || !intent) {
      await this.store.batches.abandon(id)
      throw err
    }
    let found: Adoption
    try {
      found = await findCreatedBatch(this.store, provider, intent)
    } catch (lookupErr) {
      // Unknown whether the batch exists: the intent stays for start-up to settle.
      log('warn', 'lost create answer: lookup failed, kept for the next start', { id, provider: provider.name, err: String(lookupErr) })
      throw err
    }
    if (found.outcome === 'adopted') {
      log('info', 'lost create answer: batch adopted', { id, provider: provider.name })
      return found.batch
    }
    if (found.outcome === 'not-found') {
      if (lost.kind === 'upstream_timeout') {
        // Timed out, not cut off: the upstream may still be making the batch. The intent is kept,
        // unowned, so the next reconciliation (start-up, or a shared store's sweep) looks again.
        await this.store.batches.releaseIntent(id)
        log('warn', 'lost create answer: nothing found yet, kept for the next reconciliation', { id, provider: provider.name })
        throw err
      }
      await this.store.batches.abandon(id)
      throw err
    }
    await this.store.batches.markUnresolved(id)
    log('warn', 'lost create answer: its batch cannot be told apart from others; kept unresolved for an operator', {
      id,
      provider: provider.name,
      candidates: found.candidates,
    })
    throw new GatewayError(
      lost.kind,
      `${provider.name} may have created this batch, but its answer was lost and the batch cannot be told apart from ` +
        `another; the gateway keeps the request as ${id} (unresolved) for an operator instead of risking a second batch.`,
      // The gateway's own id looks like an upstream one (msgbatch_…): named, so the filter keeps it.
      { ...lost.details, ids: { ...lost.details.ids, [id]: id } },
    )
  }

  private async inputFile(tenant: string, fileId: string, hint?: ProviderName): Promise<StoredFile> {
    try {
      return await this.files.get(tenant, fileId, hint)
    } catch (err) {
      if (err instanceof GatewayError && err.kind === 'not_found') {
        throw new GatewayError('not_found', err.message, { param: 'input_file_id' })
      }
      throw err
    }
  }

  private checkInline(n: number, provider: ProviderName): void {
    if (n === 0) throw invalid('requests must hold at least one request.', { param: 'requests' })
    const max = this.config.limits.maxInlineRequests
    if (n > max) {
      throw new GatewayError('too_large', `requests holds ${n} requests; the limit is ${max} (BATCHGATE_MAX_INLINE_REQUESTS).`, {
        param: 'requests',
        code: 'limit_exceeded',
      })
    }
    // Uploaded files meet this limit line by line (batch-file.ts); inline requests meet it here.
    const perBatch = this.registry.limits(provider).maxBatchRequests
    if (n > perBatch) {
      throw new GatewayError('too_large', `requests holds ${n} requests; ${provider} takes at most ${perBatch} per batch.`, {
        param: 'requests',
        code: 'limit_exceeded',
      })
    }
  }

  /**
   * Turns the request's input into what the provider takes, on local disk only: an uploaded
   * upstream file as is, spooled items for inline providers, or a spooled file still to upload.
   */
  private async convertInput(req: CreateBatchRequest, file: StoredFile | null, provider: Provider, spools: string[]): Promise<LocalInput> {
    if (file && file.location.kind === 'upstream') {
      return { kind: 'ready', input: { kind: 'file', location: file.location }, model: null, inputFileId: file.id }
    }
    // File providers may end a batch without a line for every request: keep the ids beside it.
    const idsPath = provider.batchInput === 'file' ? this.store.blobs.spoolPath('ids') : undefined
    if (idsPath) spools.push(idsPath)
    const spooled = await this.spoolInput(req, file, provider.kind, spools, idsPath)
    if (provider.batchInput === 'inline') {
      const input: BatchInput = { kind: 'inline', source: spooled, count: spooled.count }
      return { kind: 'ready', input, model: spooled.model, inputFileId: file?.id ?? null }
    }
    return { kind: 'upload', spooled, idsPath, model: spooled.model }
  }

  /** The first side effect: a file provider fed inline requests gets a gateway-owned input file. */
  private async placeInput(
    req: CreateBatchRequest,
    local: LocalInput,
    provider: Provider,
  ): Promise<{ input: BatchInput; inputFileId: string | null }> {
    if (local.kind === 'ready') return local
    const { spooled, idsPath } = local
    const uploaded = await this.files.uploadConverted({
      tenant: req.tenant,
      dialect: req.dialect,
      provider: provider.name,
      source: spooled,
      filename: 'batch_input.jsonl',
      facts: { format: INPUT_FORMAT[provider.kind], lines: spooled.count, model: spooled.model ?? undefined, endpoint: req.endpoint },
    })
    if (uploaded.location.kind !== 'upstream') throw new GatewayError('internal', 'converted input is not upstream')
    if (idsPath) await this.store.blobs.put(idsPath, uploaded.id, 'ids')
    return { input: { kind: 'file', location: uploaded.location }, inputFileId: uploaded.id }
  }

  private async spoolInput(
    req: CreateBatchRequest,
    file: StoredFile | null,
    kind: ProviderKind,
    spools: string[],
    idsPath?: string,
  ): Promise<SpooledRequests> {
    const path = this.store.blobs.spoolPath('requests')
    spools.push(path)
    const target = INPUT_TARGET[kind]
    if (file) {
      if (file.location.kind !== 'blob') throw invalid(`input_file_id '${file.id}' cannot be used as batch input.`, { param: 'input_file_id' })
      const blob = await this.store.blobs.open(file.id, 'content')
      if (!blob) throw new GatewayError('internal', `the bytes of ${file.id} are missing from the blob store`)
      // Emulated batches run an uploaded file's lines as sent (envelopes checked at upload), as
      // OpenAI does: no hub conversion, so server-specific fields survive and bad bodies get the
      // server's own per-line 4xx.
      if (kind === 'emulated' && file.facts.lines !== undefined) {
        return { path, bytes: await Bun.write(path, new Response(blob)), count: file.facts.lines, model: file.facts.model ?? null }
      }
      const lines = chatRequestsFromOpenAIFile(blob, this.config.limits)
      return traced('convert batch requests', { 'batchgate.from': 'openai-line', 'batchgate.to': target }, () => spoolRequests(lines, target, path, idsPath))
    }
    if (req.input.kind !== 'inline') throw new GatewayError('internal', 'no input')
    if (kind === 'anthropic') return spoolAnthropicPassthrough(req.input.requests, path)
    const items = chatRequestsFromAnthropicItems(req.input.requests)
    return traced('convert batch requests', { 'batchgate.from': 'anthropic-request', 'batchgate.to': target }, () => spoolRequests(items, target, path, idsPath))
  }

}

/**
 * Anthropic to Anthropic keeps every request exactly as sent (fields the neutral model does not
 * carry, like cache_control or thinking, survive); it is validated, not converted.
 */
async function spoolAnthropicPassthrough(items: readonly unknown[], path: string): Promise<SpooledRequests> {
  const seen = new Set<string>()
  let model: string | null | undefined
  const lines: string[] = []
  for (const [index, item] of items.entries()) {
    const customId = validateAnthropicRequest(item, index)
    if (seen.has(customId)) {
      throw invalid(`requests.${index}.custom_id: '${customId}' is used by an earlier request; custom_ids must be unique`, {
        param: `requests.${index}.custom_id`,
      })
    }
    seen.add(customId)
    const m = (item as { params: { model: string } }).params.model
    model = model === undefined ? m : model === m ? model : null
    lines.push(JSON.stringify(item))
  }
  await Bun.write(path, `${lines.join('\n')}\n`)
  return { path, bytes: Bun.file(path).size, count: items.length, model: model ?? null }
}
