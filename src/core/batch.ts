import type { Dialect, ProviderName } from './provider-name'
import type { BatchUsage } from './usage'

/** OpenAI's eight batch statuses are the neutral vocabulary; the Anthropic dialect derives from it. */
export const BATCH_STATUSES = [
  'validating',
  'in_progress',
  'finalizing',
  'completed',
  'failed',
  'expired',
  'cancelling',
  'cancelled',
] as const
export type BatchStatus = (typeof BATCH_STATUSES)[number]

export function isTerminal(status: BatchStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'expired' || status === 'cancelled'
}

/**
 * Per-request outcome counts. `processing` is whatever is left of `total`; keeping canceled and
 * expired apart lets the Anthropic dialect report them while OpenAI folds them into `failed`.
 */
export interface RequestCounts {
  total: number
  succeeded: number
  errored: number
  canceled: number
  expired: number
}

export const emptyCounts = (total = 0): RequestCounts => ({ total, succeeded: 0, errored: 0, canceled: 0, expired: 0 })

/** Unix-second timestamps of each transition we know of (null = not reached). */
export interface BatchTimes {
  createdAt: number
  inProgressAt: number | null
  finalizingAt: number | null
  completedAt: number | null
  failedAt: number | null
  expiredAt: number | null
  cancellingAt: number | null
  cancelledAt: number | null
  expiresAt: number | null
}

export interface BatchValidationError {
  code: string
  message: string
  line: number | null
  param: string | null
}

/** What an adapter reports about a batch, already in the neutral vocabulary. */
export interface UpstreamBatch {
  upstreamId: string
  status: BatchStatus
  counts: RequestCounts
  times: BatchTimes
  /** Upstream result locations (OpenAI file ids, Gemini responses file, S3 prefix…). */
  resultRefs: ResultRef[]
  errors: BatchValidationError[]
  model: string | null
}

/** One upstream place results can be read from; the adapter knows how to open it. */
export interface ResultRef {
  /** Format of the lines behind this ref, chosen from convert/pairs.ts's source formats. */
  format: ResultFormat
  /** Adapter-specific locator: a file id, an S3 key, a results URL. Never shown to clients. */
  ref: string
  /** For OpenAI results: which of the two files this is. */
  part?: 'output' | 'error'
}

export type ResultFormat = 'openai-output' | 'anthropic-results' | 'gemini-responses' | 'vertex-predictions' | 'bedrock-out' | 'mistral-output'

export interface StoredBatch {
  id: string
  tenant: string
  provider: ProviderName
  dialect: Dialect
  upstreamId: string
  endpoint: string
  inputFileId: string | null
  completionWindow: string
  metadata: Record<string, string> | null
  createdAt: number
  /** Last snapshot read from the upstream; refreshed while not terminal. */
  snapshot: UpstreamBatch
  /** Gateway ids of result files, minted once when first seen. */
  outputFileId: string | null
  errorFileId: string | null
  /** How to turn upstream result keys back into the caller's ids (see convert/custom-ids.ts). */
  idScheme: CustomIdScheme
  /** Set when the caller asked to cancel; kept for Anthropic's `cancel_initiated_at`. */
  cancelRequestedAt: number | null
  archivedAt: number | null
  /** Usage settled once the batch ended (core/settlement.ts); null until then. */
  usage: BatchUsage | null
}

/** How upstream per-request keys encode the caller's custom_id. */
export type CustomIdScheme = 'identity' | 'bedrock-escaped'

/** The one status and count mapping lives in convert/batch-status.ts. */
export { settledCounts } from '../convert/batch-status'

/** When the batch ended (unix s), or when it was created while it has not. */
export function endedAt(batch: StoredBatch): number {
  const t = batch.snapshot.times
  return t.completedAt ?? t.failedAt ?? t.expiredAt ?? t.cancelledAt ?? batch.createdAt
}
