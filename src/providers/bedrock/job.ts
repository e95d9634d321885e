// A GetModelInvocationJob answer as an UpstreamBatch. Counts and result refs need S3 reads
// (manifest, output listing), so the adapter fetches them and passes them in.

import type { BatchTimes, RequestCounts, ResultRef, UpstreamBatch } from '../../core/batch'
import { toBatchStatus } from './status'
import type { JobResponse } from './wire'

export function toUpstreamBatch(job: JobResponse, counts: RequestCounts, resultRefs: ResultRef[]): UpstreamBatch {
  const message = job.message?.trim()
  return {
    upstreamId: job.jobArn,
    status: toBatchStatus(job.status ?? 'Submitted'),
    counts,
    times: toTimes(job),
    resultRefs,
    errors: message ? [{ code: job.status === 'Failed' ? 'batch_failed' : 'upstream_message', message, line: null, param: null }] : [],
    model: job.modelId,
  }
}

/**
 * Bedrock keeps submitTime, lastModifiedTime and endTime only; the transition a status stands
 * for happened at lastModifiedTime (endTime for terminal ones). Earlier transitions are lost.
 */
function toTimes(job: JobResponse): BatchTimes {
  const status = job.status ?? 'Submitted'
  const changed = seconds(job.lastModifiedTime)
  const ended = seconds(job.endTime) ?? changed
  return {
    createdAt: seconds(job.submitTime) ?? 0,
    inProgressAt: status === 'InProgress' ? changed : null,
    finalizingAt: null,
    completedAt: status === 'Completed' ? ended : null,
    failedAt: status === 'Failed' ? ended : null,
    expiredAt: status === 'PartiallyCompleted' || status === 'Expired' ? ended : null,
    cancellingAt: status === 'Stopping' ? changed : null,
    cancelledAt: status === 'Stopped' ? ended : null,
    expiresAt: seconds(job.jobExpirationTime),
  }
}

/** ISO 8601 → unix seconds; null when absent or unparseable. */
function seconds(iso: string | null | undefined): number | null {
  if (!iso) return null
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000)
}
