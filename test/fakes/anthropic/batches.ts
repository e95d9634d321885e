// Message Batches API of the Anthropic fake (spec §3): create/list/retrieve/cancel/delete and the
// JSONL results stream. Lifecycle (spec §3.7, §5): in_progress → (canceling) → ended, with every
// request counted as `processing` until the whole batch ends.

import { countTokens, modelReply } from '../harness'
import { ApiError, intParam, invalid, json, newId, notFound, pageByIds, rfc3339 } from './common'
import { type BatchRequest, lastUserPrompt, validateCreateBody } from './validate'

export type ProcessingStatus = 'in_progress' | 'canceling' | 'ended'

export interface SucceededMessage {
  id: string
  type: 'message'
  role: 'assistant'
  model: string
  content: Array<{ type: 'text'; text: string }>
  stop_reason: 'end_turn'
  stop_sequence: null
  usage: { input_tokens: number; output_tokens: number }
}

/** The `result` member of a results line (spec §3.8); `errored` nests a whole error envelope. */
export type IndividualResult =
  | { type: 'succeeded'; message: SucceededMessage }
  | {
      type: 'errored'
      error: { type: 'error'; error: { type: 'invalid_request_error'; message: string }; request_id: string }
    }
  | { type: 'canceled' }
  | { type: 'expired' }

export interface StoredBatch {
  id: string
  seq: number
  /** Epoch ms. */
  created_at: number
  expires_at: number
  ended_at: number | null
  cancel_initiated_at: number | null
  processing_status: ProcessingStatus
  requests: BatchRequest[]
  /** Outcome per custom_id, filled as requests get processed (or canceled/expired at the end). */
  results: Map<string, IndividualResult>
  /** Lifecycle steps taken so far: 0 = nothing processed, 1 = first half processed. */
  step: number
}

export interface RequestCounts {
  processing: number
  succeeded: number
  errored: number
  canceled: number
  expired: number
}

export interface BatchObject {
  id: string
  type: 'message_batch'
  processing_status: ProcessingStatus
  request_counts: RequestCounts
  created_at: string
  expires_at: string
  ended_at: string | null
  cancel_initiated_at: string | null
  archived_at: string | null
  results_url: string | null
}

const DAY_MS = 24 * 3600 * 1000
// A batch body may not exceed 256 MB (spec §4).
const MAX_BODY_BYTES = 256 * 1024 * 1024

/** Runs the shared deterministic model on one request. */
function process(r: BatchRequest): IndividualResult {
  const prompt = lastUserPrompt(r.params.messages)
  const reply = modelReply(prompt)
  if (!reply.ok) {
    return {
      type: 'errored',
      error: { type: 'error', error: { type: 'invalid_request_error', message: reply.message }, request_id: newId('req') },
    }
  }
  return {
    type: 'succeeded',
    message: {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model: r.params.model,
      content: [{ type: 'text', text: reply.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: countTokens(prompt), output_tokens: countTokens(reply.text) },
    },
  }
}

/** FNV-1a, to shuffle result lines deterministically. */
function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** Results are "not in request order" (spec §3.6): a fixed permutation that is never the identity. */
function resultOrder(ids: string[]): string[] {
  const shuffled = [...ids].sort((a, b) => hash(a) - hash(b) || (a < b ? -1 : 1))
  return shuffled.every((id, i) => id === ids[i]) ? [...ids].reverse() : shuffled
}

export class BatchesStore {
  readonly batches = new Map<string, StoredBatch>()
  /** seq of every ID ever issued, so list cursors naming deleted batches still work. */
  private readonly seqs = new Map<string, number>()
  private nextSeq = 1

  constructor(
    private readonly baseUrl: () => string,
    private readonly autoAdvance: () => boolean,
  ) {}

  batchObject(b: StoredBatch): BatchObject {
    const counts: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
    if (b.processing_status === 'ended') {
      for (const r of b.results.values()) counts[r.type]++
    } else {
      // Counts only leave `processing` once the whole batch ends (spec §3.7).
      counts.processing = b.requests.length
    }
    const ended = b.processing_status === 'ended'
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: b.processing_status,
      request_counts: counts,
      created_at: rfc3339(b.created_at),
      expires_at: rfc3339(b.expires_at),
      ended_at: b.ended_at === null ? null : rfc3339(b.ended_at),
      cancel_initiated_at: b.cancel_initiated_at === null ? null : rfc3339(b.cancel_initiated_at),
      archived_at: null,
      // Absolute and pointing at the fake itself: the SDK fetches results_url verbatim (spec §3.6).
      results_url: ended ? `${this.baseUrl()}/v1/messages/batches/${b.id}/results` : null,
    }
  }

  private get(id: string): StoredBatch {
    const b = this.batches.get(id)
    if (!b) throw notFound(`Message batch ${id} not found`)
    // Past its 24 h window a batch ends with the unfinished requests expired (spec §3.7).
    if (b.processing_status !== 'ended' && Date.now() >= b.expires_at) this.end(b, 'expired')
    return b
  }

  /** Ends the batch; requests without an outcome get `fill`. ended_at and results_url go together. */
  private end(b: StoredBatch, fill: 'canceled' | 'expired' | 'process'): void {
    for (const r of b.requests) {
      if (b.results.has(r.custom_id)) continue
      b.results.set(r.custom_id, fill === 'process' ? process(r) : { type: fill })
    }
    b.processing_status = 'ended'
    b.ended_at = Date.now()
  }

  /** One lifecycle step: process the first half, then the rest (or cancel the rest) and end. */
  advance(b: StoredBatch): void {
    if (b.processing_status === 'ended') return
    if (b.processing_status === 'canceling') return this.end(b, 'canceled')
    if (b.step === 0) {
      b.step = 1
      for (const r of b.requests.slice(0, Math.ceil(b.requests.length / 2))) b.results.set(r.custom_id, process(r))
      return
    }
    this.end(b, 'process')
  }

  /** Jumps straight to `ended` (a canceling batch ends with the rest canceled). */
  finish(id: string): BatchObject {
    const b = this.get(id)
    if (b.processing_status !== 'ended') this.end(b, b.processing_status === 'canceling' ? 'canceled' : 'process')
    return this.batchObject(b)
  }

  /** Ends the batch as if its 24 h window ran out: unfinished requests become `expired`. */
  expire(id: string): BatchObject {
    const b = this.get(id)
    if (b.processing_status !== 'ended') this.end(b, 'expired')
    return this.batchObject(b)
  }

  /** Routes `/v1/messages/batches…`; returns undefined when the path is not a batches route. */
  async handle(req: Request, url: URL, parts: string[]): Promise<Response | undefined> {
    const [id, sub, ...extra] = parts
    if (extra.length > 0) return undefined
    if (id === undefined) {
      if (req.method === 'POST') return json(this.batchObject(await this.create(req)))
      if (req.method === 'GET') return json(this.list(url))
      return undefined
    }
    if (sub === undefined) {
      if (req.method === 'GET') {
        const b = this.get(id)
        // Each retrieve moves the batch one step, so pollers see every state (deterministic tests).
        if (this.autoAdvance()) this.advance(b)
        return json(this.batchObject(b))
      }
      if (req.method === 'DELETE') {
        const b = this.get(id)
        // Only ended batches can be deleted (spec §3.5; the exact error is unverified, 400 chosen).
        if (b.processing_status !== 'ended') {
          throw invalid(`Message batch ${id} cannot be deleted while it is ${b.processing_status}; cancel it and wait until it has ended`)
        }
        this.batches.delete(id)
        return json({ id, type: 'message_batch_deleted' })
      }
      return undefined
    }
    if (sub === 'cancel' && req.method === 'POST') {
      const b = this.get(id)
      if (b.processing_status === 'ended') throw invalid(`Message batch ${id} has already ended and cannot be canceled`)
      if (b.processing_status === 'in_progress') {
        b.processing_status = 'canceling'
        b.cancel_initiated_at = Date.now()
      }
      return json(this.batchObject(b))
    }
    if (sub === 'results' && req.method === 'GET') return this.results(id)
    return undefined
  }

  private async create(req: Request): Promise<StoredBatch> {
    const length = Number(req.headers.get('content-length') ?? '0')
    if (length > MAX_BODY_BYTES) throw invalid(`Request body exceeds the ${MAX_BODY_BYTES}-byte batch size limit`)
    let body: unknown
    try {
      body = await req.json()
    } catch {
      throw invalid('Request body is not valid JSON')
    }
    const requests = validateCreateBody(body)
    const now = Date.now()
    const b: StoredBatch = {
      id: newId('msgbatch'),
      seq: this.nextSeq++,
      created_at: now,
      expires_at: now + DAY_MS,
      ended_at: null,
      cancel_initiated_at: null,
      processing_status: 'in_progress',
      requests,
      results: new Map(),
      step: 0,
    }
    this.batches.set(b.id, b)
    this.seqs.set(b.id, b.seq)
    return b
  }

  private list(url: URL): Record<string, unknown> {
    const limit = intParam(url, 'limit', 20, 1, 1000)
    const newestFirst = [...this.batches.values()].sort((a, b) => b.seq - a.seq)
    const page = pageByIds(newestFirst, (b) => b.seq, (id) => this.seqs.get(id), {
      beforeId: url.searchParams.get('before_id'),
      afterId: url.searchParams.get('after_id'),
      limit,
    })
    return { ...page, data: page.data.map((b) => this.batchObject(b)) }
  }

  /** JSONL, one `\n`-terminated object per request, never a blank line (spec §3.6). */
  private results(id: string): Response {
    const b = this.get(id)
    // Results exist only once ended (spec §3.6); the status for an early fetch is not documented,
    // so the natural 400 invalid_request_error is used.
    if (b.processing_status !== 'ended') {
      throw new ApiError('invalid_request_error', `Message batch ${id} has not finished processing; results are available once processing_status is "ended"`)
    }
    const order = resultOrder(b.requests.map((r) => r.custom_id))
    const encoder = new TextEncoder()
    let i = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const customId = order[i++]
        if (customId === undefined) return controller.close()
        const result = b.results.get(customId)
        controller.enqueue(encoder.encode(`${JSON.stringify({ custom_id: customId, result })}\n`))
      },
    })
    return new Response(stream, { headers: { 'content-type': 'application/binary' } })
  }
}
