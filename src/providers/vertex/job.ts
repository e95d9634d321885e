// A Vertex AI BatchPredictionJob → the neutral UpstreamBatch. The state table is the shared one
// (convert/batch-status.ts, docs/conversions.md); counts come from completionStats; results are
// every predictions file Vertex wrote under outputInfo.gcsOutputDirectory.

import type { BatchStatus, ResultRef, UpstreamBatch } from '../../core/batch'
import { VERTEX_STATUS } from '../../convert/batch-status'
import { fromRpcStatus, googleTimes, int64, unixSeconds } from '../gemini/batch-mapping'
import type { VertexBatchJob, VertexJobState } from './wire'

/** The model path Vertex wants for a Google model; callers may already send it whole. */
export function publisherModel(model: string): string {
  if (model.startsWith('publishers/') || model.startsWith('projects/')) return model
  return `publishers/google/models/${model.replace(/^models\//, '')}`
}

/** `publishers/google/models/gemini-x` → `gemini-x` (what clients sent and see). */
export function bareModel(model: string | undefined): string | null {
  if (!model) return null
  return model.replace(/^publishers\/[^/]+\/models\//, '')
}

export function toUpstreamBatch(job: VertexBatchJob, nowSeconds: number): UpstreamBatch {
  const status = statusOf(job)
  const stats = job.completionStats ?? {}
  const succeeded = int64(stats.successfulCount)
  const errored = int64(stats.failedCount)
  const incomplete = int64(stats.incompleteCount)
  const createdAt = unixSeconds(job.createTime) ?? nowSeconds
  const dir = job.outputInfo?.gcsOutputDirectory
  // Listed whenever Vertex names the directory: a cancelled or failed job keeps the rows it ran.
  const resultRefs: ResultRef[] = dir ? [{ format: 'vertex-predictions', ref: dir }] : []
  return {
    upstreamId: job.name,
    status,
    // Rows never run stay unaccounted here; settledCounts makes them canceled/expired once ended.
    counts: { total: succeeded + errored + incomplete, succeeded, errored, canceled: 0, expired: 0 },
    times: googleTimes(status, {
      createdAt,
      startedAt: unixSeconds(job.startTime),
      endedAt: unixSeconds(job.endTime) ?? unixSeconds(job.updateTime),
      // Jobs still running 24 hours after they were created are cut off (Vertex batch docs).
      expiresAt: createdAt + 24 * 3600,
    }),
    resultRefs,
    errors: job.error && status === 'failed' ? [fromRpcStatus(job.error)] : [],
    model: bareModel(job.model),
  }
}

function statusOf(job: VertexBatchJob): BatchStatus {
  const state = job.state
  if (state !== undefined && state in VERTEX_STATUS) return VERTEX_STATUS[state as VertexJobState]
  // A state this gateway does not know yet: keep polling rather than settle on a guess.
  return 'in_progress'
}

