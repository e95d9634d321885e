// The one batch status and request-count mapping (docs/conversions.md, "Batch statuses and
// counts"): each provider's vocabulary → the neutral one, and the neutral one → each dialect.
// Pure tables and functions; every adapter and both to-wire modules use these and nothing else,
// so the same input ends in the same status and counts whichever provider ran it.

import type { BatchStatus, RequestCounts } from '../core/batch'
import type { JobStatus } from '../providers/bedrock/wire'
import type { GeminiBatchState } from '../providers/gemini/wire'
import type { MistralJobStatus } from '../providers/mistral/wire'
import type { VertexJobState } from '../providers/vertex/wire'

// ---------------------------------------------------------------- provider → neutral

/**
 * One rule for a batch that ended: cancelled if a cancel was asked for; else expired if the
 * window closed on any request (partial output or none — OpenAI's `expired` and Bedrock's
 * PartiallyCompleted alike); else completed (per-request errors do not fail a batch).
 */
export function endedStatus(ended: { cancelRequested: boolean; expired: number }): Extract<BatchStatus, 'cancelled' | 'expired' | 'completed'> {
  if (ended.cancelRequested) return 'cancelled'
  return ended.expired > 0 ? 'expired' : 'completed'
}

/** Anthropic `processing_status` → neutral; `ended` needs endedStatus. */
export const ANTHROPIC_STATUS = { in_progress: 'in_progress', canceling: 'cancelling' } as const satisfies Record<string, BatchStatus>

/** Gemini `BATCH_STATE_*` (REST) and `JOB_STATE_*` (@google/genai spelling) → neutral. */
export const GEMINI_STATUS: Record<GeminiBatchState, BatchStatus> = {
  // UNSPECIFIED means "not decided yet" (a fresh Operation), so it polls like PENDING.
  BATCH_STATE_UNSPECIFIED: 'validating',
  JOB_STATE_UNSPECIFIED: 'validating',
  BATCH_STATE_PENDING: 'validating',
  JOB_STATE_PENDING: 'validating',
  BATCH_STATE_RUNNING: 'in_progress',
  JOB_STATE_RUNNING: 'in_progress',
  // SUCCEEDED includes batches where some requests failed (failedRequestCount > 0).
  BATCH_STATE_SUCCEEDED: 'completed',
  JOB_STATE_SUCCEEDED: 'completed',
  BATCH_STATE_FAILED: 'failed',
  JOB_STATE_FAILED: 'failed',
  BATCH_STATE_CANCELLED: 'cancelled',
  JOB_STATE_CANCELLED: 'cancelled',
  // Pending or running for more than 48 h; nothing ran to a result.
  BATCH_STATE_EXPIRED: 'expired',
  JOB_STATE_EXPIRED: 'expired',
}

/** Vertex AI BatchPredictionJob `state` → neutral. */
export const VERTEX_STATUS: Record<VertexJobState, BatchStatus> = {
  JOB_STATE_UNSPECIFIED: 'validating',
  JOB_STATE_QUEUED: 'validating',
  JOB_STATE_PENDING: 'validating',
  JOB_STATE_RUNNING: 'in_progress',
  // Paused or being updated: the job is still underway and will go on.
  JOB_STATE_PAUSED: 'in_progress',
  JOB_STATE_UPDATING: 'in_progress',
  // Rows can fail inside a succeeded job (completionStats.failedCount); as for every provider
  // per-request errors do not fail the batch.
  JOB_STATE_SUCCEEDED: 'completed',
  JOB_STATE_PARTIALLY_SUCCEEDED: 'completed',
  JOB_STATE_FAILED: 'failed',
  JOB_STATE_CANCELLING: 'cancelling',
  JOB_STATE_CANCELLED: 'cancelled',
  // Ran past its time limit; rows not run are expired.
  JOB_STATE_EXPIRED: 'expired',
}

/** Bedrock job `status` → neutral. */
export const BEDROCK_STATUS: Record<JobStatus, BatchStatus> = {
  Submitted: 'validating',
  Validating: 'validating',
  Scheduled: 'validating',
  InProgress: 'in_progress',
  Completed: 'completed',
  // Not every record ran before the timeout, partial output exists: OpenAI's `expired`.
  PartiallyCompleted: 'expired',
  Failed: 'failed',
  Stopping: 'cancelling',
  Stopped: 'cancelled',
  // Never started before the timeout; no output.
  Expired: 'expired',
}

/** Mistral batch job `status` → neutral. */
export const MISTRAL_STATUS: Record<MistralJobStatus, BatchStatus> = {
  QUEUED: 'validating',
  RUNNING: 'in_progress',
  // SUCCESS includes jobs where some requests failed (failed_requests > 0).
  SUCCESS: 'completed',
  FAILED: 'failed',
  // The job's timeout_hours ran out; requests that ran have results.
  TIMEOUT_EXCEEDED: 'expired',
  CANCELLATION_REQUESTED: 'cancelling',
  CANCELLED: 'cancelled',
}

/**
 * OpenAI's `failed` count folds per-request errors together with the requests a cancel or the
 * window cut off; the error file tells them apart (`batch_cancelled`, `batch_expired` lines).
 */
export function splitOpenAIFailed(
  c: { total: number; completed: number; failed: number },
  cutOff: { canceled: number; expired: number },
): RequestCounts {
  const canceled = Math.min(cutOff.canceled, c.failed)
  const expired = Math.min(cutOff.expired, c.failed - canceled)
  return { total: c.total, succeeded: c.completed, errored: c.failed - canceled - expired, canceled, expired }
}

// ---------------------------------------------------------------- neutral settling

/**
 * Counts as a finished batch reports them: requests a cancelled or expired batch never ran (Gemini
 * and Bedrock leave them uncounted) become canceled or expired, any other unaccounted request of
 * an ended batch errored, so the buckets add up to the total. Running batches are left as they are.
 */
export function settledCounts(status: BatchStatus, counts: RequestCounts, knownTotal = 0): RequestCounts {
  const accounted = counts.succeeded + counts.errored + counts.canceled + counts.expired
  // Upstreams report no total while validating (OpenAI 0, Gemini/Bedrock nothing); the gateway
  // knows how many requests it sent, so that number wins when it is larger.
  const total = Math.max(counts.total, knownTotal, accounted)
  const rest = total - accounted
  if (rest <= 0 || !isEnded(status)) return { ...counts, total }
  if (status === 'cancelled') return { ...counts, total, canceled: counts.canceled + rest }
  if (status === 'expired') return { ...counts, total, expired: counts.expired + rest }
  return { ...counts, total, errored: counts.errored + rest }
}

const isEnded = (s: BatchStatus): boolean => s === 'completed' || s === 'failed' || s === 'expired' || s === 'cancelled'

// ---------------------------------------------------------------- neutral → dialects

/** OpenAI `request_counts`: no separate canceled/expired buckets, those requests are `failed`. */
export function openaiRequestCounts(c: RequestCounts): { total: number; completed: number; failed: number } {
  return {
    total: Math.max(c.total, c.succeeded + c.errored + c.canceled + c.expired),
    completed: c.succeeded,
    failed: c.errored + c.canceled + c.expired,
  }
}

export type AnthropicProcessingStatus = 'in_progress' | 'canceling' | 'ended'

export function anthropicProcessingStatus(status: BatchStatus): AnthropicProcessingStatus {
  if (status === 'cancelling') return 'canceling'
  return isEnded(status) ? 'ended' : 'in_progress'
}

/** Anthropic `request_counts`: every request is `processing` until the whole batch has ended. */
export function anthropicRequestCounts(
  status: BatchStatus,
  c: RequestCounts,
  knownTotal = 0,
): { processing: number; succeeded: number; errored: number; canceled: number; expired: number } {
  const s = settledCounts(status, c, knownTotal)
  if (!isEnded(status)) return { processing: s.total, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
  return { processing: 0, succeeded: s.succeeded, errored: s.errored, canceled: s.canceled, expired: s.expired }
}
