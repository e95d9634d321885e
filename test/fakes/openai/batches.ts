// Batch API of the OpenAI fake (openai.md §4) and its deterministic lifecycle engine.
//
// Lifecycle (openai.md §6): validating → in_progress → finalizing → completed, with failed
// (input rejected), cancelling → cancelled and expired as alternative ends. Each GET of a batch
// moves it one step, so a polling client sees every state:
//   validating  → in_progress  input file checked here; a bad file → failed (+ errors, failed_at)
//   in_progress → finalizing   every request is run against the deterministic model
//   finalizing  → completed    output/error files written, then completed_at
//   cancelling  → cancelled    requests not yet run go to the error file as batch_cancelled
// Exactly one terminal *_at is ever set.

import type { FileStore } from './store'
import { executeLine, type InputLine, type Outcome, type OutputLine, unexecutedLine, validateInput } from './requests'
import { checkExpiresAfter } from './files'
import { type Flavor, OPENAI_FLAVOR } from './flavor'
import {
  badRequest,
  type BatchStatus,
  errorResponse,
  isPlainObject,
  json,
  newId,
  notFound,
  nowSeconds,
  type OpenAIBatch,
  paginate,
  parseIntParam,
  TERMINAL_STATUSES,
} from './wire'


/** Output files live 30 days after completion unless output_expires_after says otherwise. */
const DEFAULT_OUTPUT_TTL = 30 * 24 * 3600

interface BatchInternals {
  /** Set once the input file has validated. */
  lines?: InputLine[]
  /** Set once the requests have run (in_progress → finalizing). */
  outcomes?: Outcome[]
  outputExpiresAfter?: number
}

export class BatchesApi {
  readonly batches = new Map<string, OpenAIBatch>()
  private readonly internals = new Map<string, BatchInternals>()

  constructor(
    private readonly store: FileStore,
    public autoAdvance: boolean,
    private readonly flavor: Flavor = OPENAI_FLAVOR,
  ) {}

  private notFound(id: string): Response {
    return notFound(`No batch found with id '${id}'.`)
  }

  async create(req: Request): Promise<Response> {
    const body: unknown = await req.json().catch(() => undefined)
    if (!isPlainObject(body)) {
      return badRequest('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload.)')
    }
    const { input_file_id: inputFileId, endpoint, completion_window: window, metadata } = body
    if (typeof inputFileId !== 'string' || inputFileId === '') return badRequest(`Missing required parameter: 'input_file_id'.`, 'input_file_id')
    if (endpoint === undefined) return badRequest(`Missing required parameter: 'endpoint'.`, 'endpoint')
    const endpoints = this.flavor.endpoints
    if (typeof endpoint !== 'string' || !endpoints.includes(endpoint)) {
      return badRequest(
        `Invalid value for 'endpoint': '${String(endpoint)}'. Supported values are: ${endpoints.map((e) => `'${e}'`).join(', ')}.`,
        'endpoint',
      )
    }
    if (window === undefined) return badRequest(`Missing required parameter: 'completion_window'.`, 'completion_window')
    const windowSeconds = this.flavor.completionWindow(String(window))
    if (typeof window !== 'string' || typeof windowSeconds === 'string') {
      return badRequest(`Invalid value for 'completion_window': '${String(window)}'. ${windowSeconds}`, 'completion_window')
    }
    const metadataError = checkMetadata(metadata)
    if (metadataError) return metadataError
    let outputExpiresAfter: number | undefined
    if (body.output_expires_after !== undefined && body.output_expires_after !== null) {
      const oea = body.output_expires_after
      if (!isPlainObject(oea)) return badRequest(`Invalid 'output_expires_after': expected an object.`, 'output_expires_after')
      const checked = checkExpiresAfter(oea.anchor ?? undefined, oea.seconds ?? undefined, 'output_expires_after')
      if (checked instanceof Response) return checked
      if (checked === undefined) return badRequest(`Missing required parameter: 'output_expires_after.seconds'.`, 'output_expires_after.seconds')
      outputExpiresAfter = checked
    }
    // The input file must exist and have been uploaded for batch use.
    const input = this.store.files.get(inputFileId)
    if (!input) return badRequest(`Invalid 'input_file_id': no file found with id '${inputFileId}'.`, 'input_file_id')
    if (input.purpose !== 'batch') {
      return badRequest(`Invalid 'input_file_id': file '${inputFileId}' has purpose '${input.purpose}', but it must be uploaded with purpose 'batch'.`, 'input_file_id')
    }
    if (input.bytes > this.flavor.maxBatchInputBytes) {
      return badRequest(`The input file is too large: batch input files may be at most ${this.flavor.maxBatchInputBytes} bytes.`, 'input_file_id')
    }
    const created = nowSeconds()
    const batch: OpenAIBatch = {
      id: newId.batch(),
      object: 'batch',
      endpoint: this.flavor.canonicalEndpoint(endpoint),
      errors: null,
      input_file_id: inputFileId,
      completion_window: window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + windowSeconds,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      // total stays 0 while validating (openai.md §6).
      request_counts: { total: 0, completed: 0, failed: 0 },
      usage: {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      },
      metadata: isPlainObject(metadata) ? (metadata as Record<string, string>) : null,
    }
    this.batches.set(batch.id, batch)
    this.internals.set(batch.id, { outputExpiresAfter })
    return json(batch)
  }

  /** GET /batches — limit 1–100 (default 20), `after` cursor, newest first. */
  list(url: URL): Response {
    if (!this.flavor.pagedLists) return json({ object: 'list', data: [...this.batches.values()].reverse() })
    const limit = parseIntParam(url.searchParams.get('limit')) ?? 20
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return badRequest(`Invalid 'limit': expected an integer between 1 and 100, but got '${url.searchParams.get('limit')}' instead.`, 'limit')
    }
    // Map iteration is insertion order, i.e. creation order; reverse for newest first.
    const newestFirst = [...this.batches.values()].reverse()
    return json(paginate(newestFirst, limit, url.searchParams.get('after')))
  }

  /** GET /batches/{id} — also the clock of the fake: advances the batch one step first. */
  retrieve(id: string): Response {
    const batch = this.batches.get(id)
    if (!batch) return this.notFound(id)
    if (this.autoAdvance) this.advance(id)
    return json(batch)
  }

  /** POST /batches/{id}/cancel — only an unfinished batch can be cancelled. */
  cancel(id: string): Response {
    const batch = this.batches.get(id)
    if (!batch) return this.notFound(id)
    if (batch.status === 'cancelling') return json(batch) // already on its way; repeat is harmless
    if (TERMINAL_STATUSES.has(batch.status)) {
      return errorResponse(400, `Cannot cancel a batch with status '${batch.status}'; it cannot be cancelled.`)
    }
    batch.status = 'cancelling'
    batch.cancelling_at = nowSeconds()
    return json(batch)
  }

  /** Moves a batch one step along its lifecycle; a no-op once terminal. */
  advance(id: string): OpenAIBatch | undefined {
    const batch = this.batches.get(id)
    const inner = this.internals.get(id)
    if (!batch || !inner) return batch
    const now = nowSeconds()
    switch (batch.status) {
      case 'validating': {
        if (!this.validate(batch, inner)) {
          batch.status = 'failed'
          batch.failed_at = now
        } else {
          batch.status = 'in_progress'
          batch.in_progress_at = now
        }
        break
      }
      case 'in_progress': {
        this.run(batch, inner)
        batch.status = 'finalizing'
        batch.finalizing_at = now
        break
      }
      case 'finalizing':
        this.finalize(batch, inner, 'completed')
        break
      case 'cancelling':
        this.finalize(batch, inner, 'cancelled')
        break
      default:
        break
    }
    return batch
  }

  /** Runs a batch straight to its terminal state (completed, failed, or cancelled if cancelling). */
  finish(id: string): OpenAIBatch | undefined {
    const batch = this.batches.get(id)
    while (batch && !TERMINAL_STATUSES.has(batch.status)) this.advance(id)
    return batch
  }

  /**
   * Forces the completion window to run out: finished requests are delivered, the rest are
   * batch_expired. `ran` first runs that many of the requests not yet run (a window that closed
   * part-way through).
   */
  expire(id: string, ran?: number): OpenAIBatch | undefined {
    const batch = this.batches.get(id)
    const inner = this.internals.get(id)
    if (!batch || !inner || TERMINAL_STATUSES.has(batch.status)) return batch
    if (ran !== undefined && !inner.outcomes && this.validate(batch, inner)) {
      inner.outcomes = (inner.lines ?? []).slice(0, ran).map((line) => executeLine(batch.endpoint, line))
    }
    this.finalize(batch, inner, 'expired')
    return batch
  }

  /** Reads and checks the input file; on failure records `errors` (total stays 0). */
  private validate(batch: OpenAIBatch, inner: BatchInternals): boolean {
    if (inner.lines) return true
    const result = validateInput(this.store.files.get(batch.input_file_id)?.path, batch.endpoint, this.flavor.canonicalEndpoint)
    if ('errors' in result) {
      batch.errors = { object: 'list', data: result.errors }
      return false
    }
    inner.lines = result.lines
    if (result.model !== undefined) batch.model = result.model
    batch.request_counts.total = result.lines.length
    return true
  }

  private run(batch: OpenAIBatch, inner: BatchInternals): void {
    if (inner.outcomes || !inner.lines) return
    inner.outcomes = inner.lines.map((line) => executeLine(batch.endpoint.startsWith('/v1/') ? batch.endpoint : `/v1${batch.endpoint}`, line))
    const ok = inner.outcomes.filter((o) => o.ok)
    batch.request_counts.completed = ok.length
    batch.request_counts.failed = inner.outcomes.length - ok.length
    const input = ok.reduce((s, o) => s + o.inputTokens, 0)
    const output = ok.reduce((s, o) => s + o.outputTokens, 0)
    batch.usage = { ...batch.usage, input_tokens: input, output_tokens: output, total_tokens: input + output }
  }

  /**
   * Writes the result files and sets the terminal status. Requests that never ran (cancelled or
   * expired before in_progress → finalizing) become `response:null` lines in the error file and
   * are counted as failed, so total = completed + failed at the end. A batch cancelled/expired
   * while still validating gets its input checked first; if that fails it ends with no files.
   */
  private finalize(batch: OpenAIBatch, inner: BatchInternals, status: Extract<BatchStatus, 'completed' | 'cancelled' | 'expired'>): void {
    if (!inner.lines && !this.validate(batch, inner)) batch.errors = null // not a `failed` batch: no errors list
    const lines = inner.lines ?? []
    const outcomes = inner.outcomes ?? []
    const ran = new Set(outcomes.map((o) => o.line.custom_id))
    const reason = status === 'expired' ? 'batch_expired' : 'batch_cancelled'
    const leftovers = lines.filter((l) => !ran.has(l.custom_id)).map((l) => unexecutedLine(l, reason))
    // Result order is arbitrary upstream (openai.md §5); the fake deliberately reverses input order.
    const successes = outcomes.filter((o) => o.ok).map((o) => o.line).reverse()
    const failures = [...outcomes.filter((o) => !o.ok).map((o) => o.line), ...leftovers].reverse()
    batch.request_counts.completed = successes.length
    batch.request_counts.failed = failures.length
    batch.output_file_id = this.writeResults(batch, inner, 'output', successes)
    batch.error_file_id = this.writeResults(batch, inner, 'error', failures)
    batch.status = status
    const now = nowSeconds()
    if (status === 'completed') batch.completed_at = now
    else if (status === 'cancelled') batch.cancelled_at = now
    else batch.expired_at = now
  }

  /** One JSONL file per kind (no blank lines, `\n`-terminated); null when there is nothing to write. */
  private writeResults(batch: OpenAIBatch, inner: BatchInternals, kind: 'output' | 'error', lines: OutputLine[]): string | null {
    if (lines.length === 0) return null
    const file = this.store.writeGenerated(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), {
      filename: `batch_${batch.id}_${kind}.jsonl`,
      purpose: 'batch_output',
      expiresAfterSeconds: inner.outputExpiresAfter ?? DEFAULT_OUTPUT_TTL,
    })
    return file.id
  }
}

/** metadata: null or ≤ 16 string pairs, key ≤ 64 chars, value ≤ 512 chars (openai.md §4). */
function checkMetadata(metadata: unknown): Response | undefined {
  if (metadata === undefined || metadata === null) return undefined
  if (!isPlainObject(metadata)) return badRequest(`Invalid 'metadata': expected an object.`, 'metadata')
  const entries = Object.entries(metadata)
  if (entries.length > 16) return badRequest(`Invalid 'metadata': too many properties. Expected at most 16, but got ${entries.length}.`, 'metadata')
  for (const [key, value] of entries) {
    if (key.length > 64) return badRequest(`Invalid 'metadata': key '${key.slice(0, 20)}…' is longer than 64 characters.`, 'metadata')
    if (typeof value !== 'string') return badRequest(`Invalid 'metadata.${key}': expected a string.`, 'metadata')
    if (value.length > 512) return badRequest(`Invalid 'metadata.${key}': string too long. Expected at most 512 characters.`, 'metadata')
  }
  return undefined
}
