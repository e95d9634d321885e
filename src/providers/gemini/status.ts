// Gemini batch states → the neutral BatchStatus (spec README §2, gemini.md §3.6). REST sends
// BATCH_STATE_*; @google/genai renames them one-to-one to JOB_STATE_*, and some guide snippets use
// that spelling, so both are accepted. Gemini has no finalizing or cancelling state.

import type { BatchStatus } from '../../core/batch'
import type { GeminiBatchState } from './wire'

const KNOWN_STATES: ReadonlySet<string> = new Set<GeminiBatchState>([
  'BATCH_STATE_UNSPECIFIED',
  'BATCH_STATE_PENDING',
  'BATCH_STATE_RUNNING',
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_PENDING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_EXPIRED',
])

/** Narrows the wire string; null for a value this gateway does not know (yet). */
export function parseBatchState(raw: string | undefined): GeminiBatchState | null {
  return raw !== undefined && KNOWN_STATES.has(raw) ? (raw as GeminiBatchState) : null
}

export function toBatchStatus(state: GeminiBatchState): BatchStatus {
  switch (state) {
    // UNSPECIFIED means "not decided yet" (a fresh Operation), so it polls like PENDING.
    case 'BATCH_STATE_UNSPECIFIED':
    case 'JOB_STATE_UNSPECIFIED':
    case 'BATCH_STATE_PENDING':
    case 'JOB_STATE_PENDING':
      return 'validating'
    case 'BATCH_STATE_RUNNING':
    case 'JOB_STATE_RUNNING':
      return 'in_progress'
    // SUCCEEDED includes batches where some requests failed (failedRequestCount > 0).
    case 'BATCH_STATE_SUCCEEDED':
    case 'JOB_STATE_SUCCEEDED':
      return 'completed'
    case 'BATCH_STATE_FAILED':
    case 'JOB_STATE_FAILED':
      return 'failed'
    case 'BATCH_STATE_CANCELLED':
    case 'JOB_STATE_CANCELLED':
      return 'cancelled'
    // Pending or running for more than 48 h; no results exist (spec §3.6).
    case 'BATCH_STATE_EXPIRED':
    case 'JOB_STATE_EXPIRED':
      return 'expired'
    default: {
      const unreachable: never = state
      throw new Error(`unhandled Gemini batch state ${String(unreachable)}`)
    }
  }
}
