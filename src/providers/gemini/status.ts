// Gemini batch states → the neutral BatchStatus (spec README §2, gemini.md §3.6). REST sends
// BATCH_STATE_*; @google/genai renames them one-to-one to JOB_STATE_*, and some guide snippets use
// that spelling, so both are accepted. Gemini has no finalizing or cancelling state.

import type { BatchStatus } from '../../core/batch'
import { GEMINI_STATUS } from '../../convert/batch-status'
import type { GeminiBatchState } from './wire'

const KNOWN_STATES: ReadonlySet<string> = new Set(Object.keys(GEMINI_STATUS))

/** Narrows the wire string; null for a value this gateway does not know (yet). */
export function parseBatchState(raw: string | undefined): GeminiBatchState | null {
  return raw !== undefined && KNOWN_STATES.has(raw) ? (raw as GeminiBatchState) : null
}

/** The shared table (convert/batch-status.ts). */
export function toBatchStatus(state: GeminiBatchState): BatchStatus {
  return GEMINI_STATUS[state]
}
