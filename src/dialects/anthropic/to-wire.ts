// Core → Anthropic wire: RFC 3339 timestamps, the three processing statuses, Anthropic's
// request_counts (everything `processing` until the batch has ended), and a results_url that
// points at this gateway so the SDK's `results()` — which follows it verbatim — lands here.

import { isTerminal, type StoredBatch } from '../../core/batch'
import type { StoredFile } from '../../core/file'
import { settledOutcomes } from '../../core/usage'
import { anthropicProcessingStatus, anthropicRequestCounts } from '../../convert/batch-status'
import type { BatchObject, FileObject } from './schemas'

export const rfc3339 = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString()
const maybeTime = (unixSeconds: number | null | undefined): string | null =>
  unixSeconds === null || unixSeconds === undefined ? null : rfc3339(unixSeconds)

export function fileToWire(file: StoredFile): FileObject {
  return {
    id: file.id,
    type: 'file',
    filename: file.filename,
    mime_type: file.mimeType,
    size_bytes: file.bytes,
    created_at: rfc3339(file.createdAt),
    // Anthropic and Gemini refuse to hand back what a user uploaded; the others return the bytes.
    downloadable: file.provider !== 'anthropic' && file.provider !== 'gemini',
    ...(file.expiresAt === null ? {} : { expires_at: rfc3339(file.expiresAt) }),
  }
}

/** The shared mapping (convert/batch-status.ts). */
export const processingStatus = anthropicProcessingStatus
export const requestCounts = anthropicRequestCounts

/** Where the SDK will fetch results from: this gateway, on the caller's origin unless configured. */
export function resultsUrl(base: string, batchId: string): string {
  return `${base}/anthropic/v1/messages/batches/${encodeURIComponent(batchId)}/results`
}

/** `knownTotal`: the number of requests the gateway sent upstream, when it knows it. */
export function batchToWire(batch: StoredBatch, base: string, knownTotal = 0): BatchObject {
  const s = batch.snapshot
  const t = s.times
  const ended = isTerminal(s.status)
  const hours = Number(/^(\d+)h$/.exec(batch.completionWindow)?.[1] ?? 24)
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: processingStatus(s.status),
    request_counts: batch.usage ? { processing: 0, ...settledOutcomes(batch.usage) } : requestCounts(s.status, s.counts, knownTotal),
    created_at: rfc3339(batch.createdAt),
    expires_at: rfc3339(t.expiresAt ?? batch.createdAt + hours * 3600),
    ended_at: ended ? maybeTime(t.completedAt ?? t.failedAt ?? t.expiredAt ?? t.cancelledAt) : null,
    cancel_initiated_at: maybeTime(batch.cancelRequestedAt ?? t.cancellingAt),
    archived_at: maybeTime(batch.archivedAt),
    results_url: ended ? resultsUrl(base, batch.id) : null,
  }
}

/** One page in both list generations' field sets; `next_page` is the last id (opaque to clients). */
export function listToWire<T extends { id: string }>(items: T[], hasMore: boolean) {
  const first = items[0]?.id ?? null
  const last = items[items.length - 1]?.id ?? null
  return { data: items, first_id: first, last_id: last, has_more: hasMore }
}
