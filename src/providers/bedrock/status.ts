// Bedrock job statuses and record counts in the neutral vocabulary (spec README §2–3).

import type { BatchStatus, RequestCounts } from '../../core/batch'
import { GatewayError } from '../../errors'
import type { JobStatus, Manifest } from './wire'

export function toBatchStatus(status: JobStatus): BatchStatus {
  switch (status) {
    case 'Submitted':
    case 'Validating':
    case 'Scheduled':
      return 'validating'
    case 'InProgress':
      return 'in_progress'
    case 'Completed':
      return 'completed'
    // Not every record was processed before the timeout, but partial output exists: that is
    // what OpenAI calls `expired` (README §2).
    case 'PartiallyCompleted':
      return 'expired'
    case 'Failed':
      return 'failed'
    case 'Stopping':
      return 'cancelling'
    case 'Stopped':
      return 'cancelled'
    // Never started before the timeout; no output.
    case 'Expired':
      return 'expired'
    default: {
      const unknown: never = status
      throw new GatewayError('upstream', `bedrock reported an unknown job status '${String(unknown)}'`, { upstreamStatus: 502 })
    }
  }
}

/** The count fields the job answer (newer API versions) and manifest.json.out share. */
export type RecordCountSource = Pick<Manifest, 'totalRecordCount' | 'successRecordCount' | 'errorRecordCount'>

export function hasRecordCounts(src: RecordCountSource): boolean {
  return src.totalRecordCount !== undefined
}

/**
 * Records a finished job never reached are what the Anthropic dialect calls canceled (job
 * stopped) or expired (job timed out); Bedrock reports neither, so they are the remainder.
 */
export function toCounts(src: RecordCountSource, status: BatchStatus): RequestCounts {
  const total = src.totalRecordCount ?? 0
  const succeeded = src.successRecordCount ?? 0
  const errored = src.errorRecordCount ?? 0
  const left = Math.max(0, total - succeeded - errored)
  return {
    total,
    succeeded,
    errored,
    canceled: status === 'cancelled' ? left : 0,
    expired: status === 'expired' ? left : 0,
  }
}
