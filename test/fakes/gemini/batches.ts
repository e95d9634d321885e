// Batch API of the Gemini fake (spec §3): batchGenerateContent → long-running Operation,
// deterministic PENDING → RUNNING → SUCCEEDED|FAILED progression, results as a GENERATED
// JSONL responsesFile (file input) or inlinedResponses (inline input).

import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { GRPC_CODE, GoogleError, int64Fields, json, randomId, readJsonBody, rfc3339 } from './common'
import type { JsonObject } from './common'
import { BadInputError, MAX_CREATE_BODY_BYTES, countInputLines, parseCreateBody, readInputLines } from './batch-input'
import type { BatchInput } from './batch-input'
import type { FileStore } from './files'
import { paginate } from './paging'
import { answer } from './model'

export type BatchState =
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED'

const TERMINAL: BatchState[] = ['BATCH_STATE_SUCCEEDED', 'BATCH_STATE_FAILED', 'BATCH_STATE_CANCELLED', 'BATCH_STATE_EXPIRED']

/** `@type` values (spec §3.1: inferred from the recorded EmbedContentBatch payload). */
const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch'
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput'

export interface BatchStats {
  requestCount: number
  pendingRequestCount: number
  successfulRequestCount: number
  failedRequestCount: number
}

export interface BatchRecord {
  /** `batches/{id}` */
  name: string
  id: string
  /** `models/{model}` */
  model: string
  displayName?: string
  priority: number
  input: BatchInput
  state: BatchState
  createTime: string
  updateTime: string
  endTime?: string
  stats: BatchStats
  output?: { responsesFile: string } | { inlinedResponses: JsonObject[] }
  /** google.rpc.Status (gRPC code) when FAILED. */
  error?: { code: number; message: string; details: JsonObject[] }
  seq: number
  /** Serialises lifecycle steps so concurrent GETs cannot double-advance. */
  lock: Promise<void>
}

export function isTerminal(state: BatchState): boolean {
  return TERMINAL.includes(state)
}

export class BatchStore {
  readonly batches = new Map<string, BatchRecord>()
  private seq = 0

  constructor(
    private readonly files: FileStore,
    private readonly autoAdvance: () => boolean,
  ) {}

  get(nameOrId: string): BatchRecord | undefined {
    return this.batches.get(nameOrId.startsWith('batches/') ? nameOrId.slice('batches/'.length) : nameOrId)
  }

  private mustGet(id: string): BatchRecord {
    const b = this.batches.get(id)
    if (!b) throw new GoogleError('NOT_FOUND', `Batch batches/${id} not found.`)
    return b
  }

  /** The Operation wrapping a GenerateContentBatch (spec §3.1/§3.2). */
  operation(b: BatchRecord): JsonObject {
    const output: JsonObject | undefined = !b.output
      ? undefined
      : 'responsesFile' in b.output
        ? { responsesFile: b.output.responsesFile }
        : { inlinedResponses: { inlinedResponses: b.output.inlinedResponses } }
    const metadata: JsonObject = {
      '@type': BATCH_TYPE,
      name: b.name,
      model: b.model,
      ...(b.displayName ? { displayName: b.displayName } : {}),
      // Inline requests are not echoed back (keeps polling cheap; real echo behaviour unverified).
      ...(b.input.kind === 'file' ? { inputConfig: { fileName: b.input.fileName } } : {}),
      ...(output ? { output } : {}),
      createTime: b.createTime,
      ...(b.endTime ? { endTime: b.endTime } : {}),
      updateTime: b.updateTime,
      batchStats: int64Fields({ ...b.stats }),
      state: b.state,
      ...int64Fields({ priority: b.priority }),
    }
    const done = isTerminal(b.state)
    return {
      name: b.name,
      metadata,
      ...(done ? { done: true } : {}),
      ...(b.error ? { error: b.error } : {}),
      ...(b.state === 'BATCH_STATE_SUCCEEDED' && output ? { response: { '@type': OUTPUT_TYPE, ...output } } : {}),
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private touch(b: BatchRecord, state: BatchState): void {
    b.state = state
    b.updateTime = rfc3339()
    if (isTerminal(state)) b.endTime = b.updateTime
  }

  private failBatch(b: BatchRecord, code: number, message: string): void {
    b.error = { code, message, details: [] }
    this.touch(b, 'BATCH_STATE_FAILED')
  }

  private withLock(b: BatchRecord, fn: () => Promise<void>): Promise<void> {
    const run = b.lock.then(fn)
    b.lock = run.catch(() => undefined)
    return run
  }

  /** One lifecycle step: PENDING → RUNNING (input validated) → SUCCEEDED (results written). */
  advance(b: BatchRecord): Promise<void> {
    return this.withLock(b, async () => {
      if (b.state === 'BATCH_STATE_PENDING') {
        const problem = await this.validateInput(b)
        if (problem) this.failBatch(b, GRPC_CODE.INVALID_ARGUMENT, problem)
        else this.touch(b, 'BATCH_STATE_RUNNING')
      } else if (b.state === 'BATCH_STATE_RUNNING') {
        await this.run(b)
      }
    })
  }

  /** Jumps straight to the final state. */
  async finish(b: BatchRecord): Promise<void> {
    while (!isTerminal(b.state)) await this.advance(b)
  }

  async expire(b: BatchRecord): Promise<void> {
    await this.withLock(b, async () => {
      if (isTerminal(b.state)) throw new Error(`${b.name} is already ${b.state}`)
      this.touch(b, 'BATCH_STATE_EXPIRED')
    })
  }

  async fail(b: BatchRecord, message: string): Promise<void> {
    await this.withLock(b, async () => {
      if (isTerminal(b.state)) throw new Error(`${b.name} is already ${b.state}`)
      this.failBatch(b, GRPC_CODE.INTERNAL, message)
    })
  }

  /** Returns an error message when the input is unusable (bad JSONL line, missing file, …). */
  private async validateInput(b: BatchRecord): Promise<string | undefined> {
    if (b.input.kind === 'inline') return undefined
    const f = this.files.get(b.input.fileName)
    if (!f) return `Input file ${b.input.fileName} not found.`
    let count = 0
    try {
      for await (const _line of readInputLines(f.path)) count++
    } catch (err) {
      if (err instanceof BadInputError) return err.message
      throw err
    }
    if (count === 0) return `Input file ${b.input.fileName} contains no requests.`
    b.stats = { requestCount: count, pendingRequestCount: count, successfulRequestCount: 0, failedRequestCount: 0 }
    return undefined
  }

  private async run(b: BatchRecord): Promise<void> {
    const modelId = b.model.slice('models/'.length)
    let ok = 0
    let failed = 0
    if (b.input.kind === 'inline') {
      const responses = b.input.items.map((item): JsonObject => {
        const a = answer(item.request, modelId)
        if (a.ok) ok++
        else failed++
        const out: JsonObject = a.ok ? { response: a.response } : { error: a.error }
        if (item.metadata) out.metadata = item.metadata
        return out
      })
      b.output = { inlinedResponses: responses }
    } else {
      const input = this.files.get(b.input.fileName)
      if (!input) {
        this.failBatch(b, GRPC_CODE.NOT_FOUND, `Input file ${b.input.fileName} was deleted before the batch ran.`)
        return
      }
      const outId = `batch-${b.id}`
      const path = this.files.pathFor(`gen-${outId}`)
      const fh = await open(path, 'w')
      const hash = createHash('sha256')
      let size = 0
      try {
        for await (const line of readInputLines(input.path)) {
          const a = answer(line.request, modelId)
          if (a.ok) ok++
          else failed++
          const key = line.key !== undefined ? { key: line.key } : {}
          const text = `${JSON.stringify(a.ok ? { ...key, response: a.response } : { ...key, error: a.error })}\n`
          const bytes = Buffer.from(text, 'utf8')
          await fh.write(bytes)
          hash.update(bytes)
          size += bytes.length
        }
      } catch (err) {
        if (!(err instanceof BadInputError)) throw err
        this.failBatch(b, GRPC_CODE.INVALID_ARGUMENT, err.message)
        return
      } finally {
        await fh.close()
      }
      const out = this.files.registerGenerated(outId, `Batch results for ${b.name}`, 'application/jsonl', path, size, hash.digest())
      b.output = { responsesFile: out.name }
    }
    b.stats = { requestCount: ok + failed, pendingRequestCount: 0, successfulRequestCount: ok, failedRequestCount: failed }
    this.touch(b, 'BATCH_STATE_SUCCEEDED')
  }

  // ---- HTTP handlers -----------------------------------------------------------------------

  /** POST /v1beta/models/{model}:batchGenerateContent (spec §3.1). */
  async create(req: Request, model: string): Promise<Response> {
    const declared = Number(req.headers.get('content-length') ?? '0')
    if (declared > MAX_CREATE_BODY_BYTES) {
      throw new GoogleError('INVALID_ARGUMENT', `Request payload size exceeds the limit: ${MAX_CREATE_BODY_BYTES} bytes.`)
    }
    const body = await readJsonBody(req, false)
    const parsed = parseCreateBody(body)
    let requestCount = 0
    if (parsed.input.kind === 'file') {
      const f = this.files.get(parsed.input.fileName)
      if (!f) throw new GoogleError('NOT_FOUND', `File ${parsed.input.fileName} not found.`)
      requestCount = await countInputLines(f.path)
    } else {
      requestCount = parsed.input.items.length
    }
    let id = randomId(16)
    while (this.batches.has(id)) id = randomId(16)
    const now = rfc3339()
    const b: BatchRecord = {
      name: `batches/${id}`,
      id,
      model: `models/${model}`,
      ...(parsed.displayName ? { displayName: parsed.displayName } : {}),
      priority: parsed.priority,
      input: parsed.input,
      state: 'BATCH_STATE_PENDING',
      createTime: now,
      updateTime: now,
      stats: { requestCount, pendingRequestCount: requestCount, successfulRequestCount: 0, failedRequestCount: 0 },
      seq: ++this.seq,
      lock: Promise.resolve(),
    }
    this.batches.set(id, b)
    return json(this.operation(b))
  }

  /** GET /v1beta/batches/{id}: each GET advances one step unless autoAdvance is off. */
  async getResponse(id: string): Promise<Response> {
    const b = this.mustGet(id)
    if (this.autoAdvance()) await this.advance(b)
    return json(this.operation(b))
  }

  list(url: URL): Response {
    // Page size default/max are unverified for batches (spec §3.3); use the Files API's 10/100.
    const { page, next } = paginate([...this.batches.values()], url, 10, 100)
    return json({
      ...(page.length ? { operations: page.map((b) => this.operation(b)) } : {}),
      ...(next ? { nextPageToken: next } : {}),
    })
  }

  /** POST /v1beta/batches/{id}:cancel → `{}`; straight to CANCELLED (spec §3.4). */
  async cancel(id: string): Promise<Response> {
    const b = this.mustGet(id)
    await this.withLock(b, async () => {
      if (isTerminal(b.state)) {
        throw new GoogleError('FAILED_PRECONDITION', `Batch ${b.name} is in state ${b.state} and can no longer be cancelled.`)
      }
      this.touch(b, 'BATCH_STATE_CANCELLED')
    })
    return json({})
  }

  /** DELETE /v1beta/batches/{id} → `{}` (spec §3.5): gone from get/list, processing stops. */
  delete(id: string): Response {
    this.mustGet(id)
    this.batches.delete(id)
    return json({})
  }
}
