// Core → OpenAI wire: unix-second timestamps, OpenAI status names (already the neutral ones),
// request_counts folded to {total, completed, failed}, gateway ids for every file reference.

import { openaiRequestCounts } from '../../convert/batch-status'
import { settledCounts, type StoredBatch } from '../../core/batch'
import type { StoredFile } from '../../core/file'
import { openaiBatchUsage, settledOutcomes } from '../../core/usage'
import { idsOf, scrubUpstreamIds } from '../../upstream-ids'
import type { BatchObject, FileObject } from './schemas'

export function fileToWire(file: StoredFile): FileObject {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.expiresAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    status_details: null,
  }
}

export function batchToWire(batch: StoredBatch): BatchObject {
  const s = batch.snapshot
  const c = batch.usage ? { ...settledOutcomes(batch.usage), total: 0 } : settledCounts(s.status, s.counts)
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    // A string when known; left out, not null, when it is not (OpenAI's schema has no null model).
    ...(s.model ? { model: s.model } : {}),
    errors:
      s.errors.length === 0
        ? null
        : { object: 'list', data: s.errors.map((e) => ({ code: e.code, message: scrubUpstreamIds(e.message, idsOf(batch.upstreamId, batch.id)), param: e.param, line: e.line })) },
    input_file_id: batch.inputFileId ?? '',
    completion_window: batch.completionWindow,
    status: s.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: batch.createdAt,
    in_progress_at: s.times.inProgressAt,
    expires_at: s.times.expiresAt,
    finalizing_at: s.times.finalizingAt,
    completed_at: s.times.completedAt,
    failed_at: s.times.failedAt,
    expired_at: s.times.expiredAt,
    cancelling_at: s.times.cancellingAt,
    cancelled_at: s.times.cancelledAt,
    request_counts: openaiRequestCounts(c),
    metadata: batch.metadata,
    // Filled once the batch is settled (core/settlement.ts), for every provider.
    ...(batch.usage ? { usage: openaiBatchUsage(batch.usage) } : {}),
  }
}

export function listToWire<T extends { id: string }>(items: T[], hasMore: boolean) {
  return {
    object: 'list' as const,
    data: items,
    first_id: items[0]?.id ?? null,
    last_id: items[items.length - 1]?.id ?? null,
    has_more: hasMore,
  }
}
