// A Gemini batch Operation (spec §3.1/§3.2) → the neutral UpstreamBatch. Read from the REST JSON
// because @google/genai drops batchStats and the Operation error (spec §3.7).

import type {
  BatchStatus,
  BatchTimes,
  BatchValidationError,
  RequestCounts,
  ResultRef,
  UpstreamBatch,
} from '../../core/batch'
import { parseBatchState, toBatchStatus } from './status'
import type { GeminiBatch, GeminiBatchStats, GeminiOperation, GeminiRpcStatus } from './wire'

/** Batches pending or running longer than this end EXPIRED (spec §3.6, §3.9). */
const EXPIRY_SECONDS = 48 * 3600

/** google.rpc.Code names, for BatchValidationError.code (Operation.error carries the number). */
const RPC_CODE_NAMES: Record<number, string> = {
  1: 'cancelled',
  2: 'unknown',
  3: 'invalid_argument',
  4: 'deadline_exceeded',
  5: 'not_found',
  6: 'already_exists',
  7: 'permission_denied',
  8: 'resource_exhausted',
  9: 'failed_precondition',
  10: 'aborted',
  11: 'out_of_range',
  12: 'unimplemented',
  13: 'internal',
  14: 'unavailable',
  15: 'data_loss',
  16: 'unauthenticated',
}

export function toUpstreamBatch(op: GeminiOperation, nowSeconds: number): UpstreamBatch {
  const meta: GeminiBatch = op.metadata ?? {}
  const status = statusOf(op, meta)
  const errors: BatchValidationError[] = op.error ? [fromRpcStatus(op.error)] : []

  // The gateway always creates file batches, so results come as one responsesFile. Listed
  // whenever present (not only on SUCCEEDED) in case a cancelled batch keeps partial output.
  const output = meta.output ?? op.response ?? {}
  const resultRefs: ResultRef[] = output.responsesFile ? [{ format: 'gemini-responses', ref: output.responsesFile }] : []
  if (!output.responsesFile && output.inlinedResponses) {
    // Only an inline-input batch answers inline; say so rather than report a silent empty result.
    errors.push({
      code: 'unsupported_output',
      message: 'gemini returned inline responses, which this gateway does not read',
      line: null,
      param: null,
    })
  }

  const createdAt = unixSeconds(meta.createTime) ?? nowSeconds
  return {
    upstreamId: op.name,
    status,
    counts: countsOf(meta.batchStats),
    times: googleTimes(status, { createdAt, startedAt: null, endedAt: unixSeconds(meta.endTime) ?? unixSeconds(meta.updateTime), expiresAt: createdAt + EXPIRY_SECONDS }),
    resultRefs,
    errors,
    model: meta.model ? meta.model.replace(/^models\//, '') : null,
  }
}

function statusOf(op: GeminiOperation, meta: GeminiBatch): BatchStatus {
  const state = parseBatchState(meta.state)
  if (state !== null) return toBatchStatus(state)
  // A state this gateway does not know: keep polling while running, and settle on the
  // Operation's own outcome once it is done rather than poll forever.
  if (!op.done) return 'validating'
  return op.error ? 'failed' : 'completed'
}

/** int64 strings with zero counters omitted (spec §3.7); Gemini has no cancelled/expired counts. */
function countsOf(stats: GeminiBatchStats | undefined): RequestCounts {
  return {
    total: int64(stats?.requestCount),
    succeeded: int64(stats?.successfulRequestCount),
    errored: int64(stats?.failedRequestCount),
    canceled: 0,
    expired: 0,
  }
}

/**
 * Google batches (Gemini, Vertex) report creation, maybe a start, and an end time: the end goes to
 * the field of the terminal status. Gemini has no start-of-run time (inProgressAt stays null).
 */
export function googleTimes(
  status: BatchStatus,
  t: { createdAt: number; startedAt: number | null; endedAt: number | null; expiresAt: number },
): BatchTimes {
  const at = (s: BatchStatus): number | null => (status === s ? t.endedAt : null)
  return {
    createdAt: t.createdAt,
    inProgressAt: t.startedAt,
    finalizingAt: null,
    completedAt: at('completed'),
    failedAt: at('failed'),
    expiredAt: at('expired'),
    cancellingAt: null,
    cancelledAt: at('cancelled'),
    expiresAt: t.expiresAt,
  }
}

export function fromRpcStatus(err: GeminiRpcStatus): BatchValidationError {
  const code = (err.code !== undefined ? RPC_CODE_NAMES[err.code] : undefined) ?? 'batch_failed'
  return { code, message: err.message ?? 'the batch failed', line: null, param: null }
}

export function int64(value: string | undefined): number {
  const n = Number(value ?? '0')
  return Number.isSafeInteger(n) && n >= 0 ? n : 0
}

/** RFC 3339 (nanosecond precision upstream) → unix seconds; null when absent or unreadable. */
export function unixSeconds(value: string | undefined): number | null {
  if (!value) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000)
}
