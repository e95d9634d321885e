// kind = "emulated": batches over any OpenAI-compatible chat-completions endpoint (vLLM, Ollama,
// llama.cpp, OpenRouter …), run by the gateway itself (runner.ts). Batch input is "inline" for
// core: the validated OpenAI lines live in the gateway's blob store, like Anthropic's kept inputs,
// and the create hands them over spooled; the run keeps them under the batch id. Results are
// OpenAI output/error lines read back from the store, so the Anthropic dialect, settlement,
// webhooks and budgets see them as they see a native provider's.

import type { EmulatedConfig } from '../../config'
import { EMULATED_BATCH_ENDPOINTS } from '../../convert/requests/openai-line'
import { expandResult } from '../../convert/results/emulated-line'
import type { ResultRef, UpstreamBatch } from '../../core/batch'
import type { ProviderName } from '../../core/provider-name'
import { GatewayError } from '../../errors'
import type { EmulatedRun } from '../../store/emulated-runs'
import type { Store } from '../../store/store'
import type { AdapterOptions, CreateBatchInput, CreateCheck, Provider, UpstreamFile } from '../provider'
import { EmulatedRunner } from './runner'

export class EmulatedAdapter implements Provider {
  readonly name: ProviderName
  readonly kind = 'emulated' as const
  readonly batchInput = 'inline' as const
  private store: Store | null = null
  private runner: EmulatedRunner | null = null

  constructor(
    private readonly settings: EmulatedConfig,
    options: AdapterOptions = {},
  ) {
    this.name = options.name ?? 'emulated'
  }

  /** Gives the adapter its store and starts its runner (buildServices); a later store replaces it. */
  attach(store: Store): void {
    this.runner?.stop()
    this.store = store
    const runner = new EmulatedRunner(this.name, this.settings, store)
    this.runner = runner
    // The runner lives exactly as long as the store it writes to.
    const close = store.close.bind(store)
    store.close = async () => {
      runner.stop()
      await close()
    }
    runner.start()
  }

  private get db(): Store {
    if (!this.store) throw new GatewayError('internal', `emulated provider ${this.name} has no store attached`)
    return this.store
  }

  async uploadFile(): Promise<UpstreamFile> {
    throw new GatewayError('unsupported', `Provider ${this.name} keeps batch input files only (purpose "batch").`, { param: 'purpose' })
  }

  /** Result files are "upstream" files to core (refs with a part); their bytes come from the store. */
  async fileContent(location: { upstreamId: string }): Promise<ReadableStream<Uint8Array>> {
    if (!/:(output|error)$/.test(location.upstreamId)) throw new GatewayError('not_found', `Provider ${this.name} holds no such file.`)
    return this.openResults({ format: 'openai-output', ref: location.upstreamId })
  }

  async deleteFile(): Promise<void> {}

  checkCreate(input: CreateCheck): void {
    // Also here, not only in the dialect: a create may name no provider and take it from the file.
    if (!(EMULATED_BATCH_ENDPOINTS as readonly string[]).includes(input.endpoint)) {
      throw new GatewayError('invalid_request', `endpoint must be one of ${EMULATED_BATCH_ENDPOINTS.join(', ')} for provider ${this.name}.`, {
        param: 'endpoint',
      })
    }
    const models = this.settings.models
    if (models && input.model !== null && !models.includes(input.model)) {
      throw new GatewayError('invalid_request', `model '${input.model.slice(0, 200)}' is not served by provider ${this.name} (serves: ${models.join(', ')}).`, {
        param: 'model',
      })
    }
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'inline') throw new GatewayError('internal', 'emulated batches take their requests inline')
    const store = this.db
    await store.blobs.put(input.input.source.path, input.gatewayId, 'content')
    const createdAt = Math.floor(Date.now() / 1000)
    const window = input.completionWindowHours * 3600
    await store.emulated.create({
      id: input.gatewayId,
      provider: this.name,
      endpoint: input.endpoint,
      total: input.input.count,
      model: input.model,
      createdAt,
      expiresAt: createdAt + Math.min(window, this.settings.completionWindowSeconds ?? window),
    })
    this.runner?.kick(input.gatewayId)
    return this.getBatch(input.gatewayId)
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    const run = await this.db.emulated.get(upstreamId)
    if (!run) throw new GatewayError('not_found', `No batch found with id '${upstreamId}'.`)
    return toUpstream(run, run.counts)
  }

  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    await this.db.emulated.setStatus(upstreamId, 'cancelling', Math.floor(Date.now() / 1000))
    this.runner?.kick(upstreamId)
    return this.getBatch(upstreamId)
  }

  async deleteBatch(upstreamId: string): Promise<void> {
    await this.db.emulated.remove(upstreamId)
    await this.db.blobs.delete(upstreamId, 'content')
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    const [id, part] = ref.ref.split(':') as [string, 'output' | 'error']
    const groups = this.db.emulated.results(id, part)
    const encoder = new TextEncoder()
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await groups.next()
        if (next.done) return controller.close()
        let text = ''
        for (const r of next.value) text += `${expandResult(id, r.line, r.body)}\n`
        controller.enqueue(encoder.encode(text))
      },
      async cancel() {
        await groups.return(undefined)
      },
    })
  }
}

function toUpstream(run: EmulatedRun, c: { succeeded: number; errored: number; expired: number; canceled: number }): UpstreamBatch {
  const ended = run.status === 'completed' || run.status === 'cancelled' || run.status === 'expired'
  const resultRefs: ResultRef[] = []
  if (ended && c.succeeded > 0) resultRefs.push({ format: 'openai-output', ref: `${run.id}:output`, part: 'output' })
  if (ended && c.errored + c.expired + c.canceled > 0) resultRefs.push({ format: 'openai-output', ref: `${run.id}:error`, part: 'error' })
  const at = (status: string) => (run.status === status ? run.endedAt : null)
  return {
    upstreamId: run.id,
    status: run.status,
    counts: { total: run.total, ...c },
    times: {
      createdAt: run.createdAt,
      inProgressAt: run.startedAt,
      finalizingAt: run.finalizingAt,
      completedAt: at('completed'),
      failedAt: null,
      expiredAt: at('expired'),
      cancellingAt: run.cancellingAt,
      cancelledAt: at('cancelled'),
      expiresAt: run.expiresAt,
    },
    resultRefs,
    errors: [],
    model: run.model,
  }
}
