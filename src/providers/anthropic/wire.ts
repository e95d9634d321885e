// Anthropic wire shapes (spec anthropic.md §2.6, §3.7) and the small parsers that turn them into
// neutral values. Only the fields the adapter reads are typed; everything else is ignored.

import { GatewayError } from '../../errors'

/** `POST /v1/files` / `GET /v1/files/{id}` answer. `expires_at` exists in the GA shape only. */
export interface AnthropicFileObject {
  id: string
  type: 'file'
  filename: string
  mime_type: string
  size_bytes: number
  created_at: string
  expires_at?: string | null
  downloadable?: boolean
}

export type ProcessingStatus = 'in_progress' | 'canceling' | 'ended'

/** Every request sits in `processing` until the whole batch ends; the five always sum to N. */
export interface AnthropicRequestCounts {
  processing: number
  succeeded: number
  errored: number
  canceled: number
  expired: number
}

export interface AnthropicMessageBatch {
  id: string
  type: 'message_batch'
  processing_status: ProcessingStatus
  request_counts: AnthropicRequestCounts
  created_at: string
  expires_at: string
  ended_at: string | null
  cancel_initiated_at: string | null
  archived_at: string | null
  /** Absolute URL; deliberately never followed (see adapter.ts `openResults`). */
  results_url: string | null
}

/** `GET /v1/messages/batches`: newest first, paged with `after_id` = `last_id`. */
export interface AnthropicMessageBatchList {
  data: AnthropicMessageBatch[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

/** RFC 3339 (microsecond precision upstream) → unix seconds; null stays null. */
export function unixSeconds(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) {
    // A malformed answer is the upstream's fault: report it as a bad gateway, not as our bug.
    throw new GatewayError('upstream', 'anthropic returned a malformed timestamp', { upstreamStatus: 502 })
  }
  return Math.floor(ms / 1000)
}

/** Like `unixSeconds` for fields the API always sets. */
export function requiredUnixSeconds(value: string | null | undefined, field: string): number {
  const seconds = unixSeconds(value)
  if (seconds === null) {
    throw new GatewayError('upstream', `anthropic returned no ${field}`, { upstreamStatus: 502 })
  }
  return seconds
}
