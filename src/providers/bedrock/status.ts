// Bedrock job statuses and record counts in the neutral vocabulary (spec README §2–3).

import type { BatchStatus, RequestCounts } from '../../core/batch'
import { BEDROCK_STATUS, settledCounts } from '../../convert/batch-status'
import { GatewayError } from '../../errors'
import type { JobStatus, Manifest } from './wire'

/** The shared table (convert/batch-status.ts); an unknown status is the upstream's fault. */
export function toBatchStatus(status: JobStatus): BatchStatus {
  const mapped = BEDROCK_STATUS[status] as BatchStatus | undefined
  if (mapped === undefined) {
    throw new GatewayError('upstream', `bedrock reported an unknown job status '${String(status)}'`, { upstreamStatus: 502 })
  }
  return mapped
}

/** The count fields the job answer (newer API versions) and manifest.json.out share. */
export type RecordCountSource = Pick<Manifest, 'totalRecordCount' | 'successRecordCount' | 'errorRecordCount'>

export function hasRecordCounts(src: RecordCountSource): boolean {
  return src.totalRecordCount !== undefined
}

/** Records a finished job never reached are settled by the shared rule (canceled / expired). */
export function toCounts(src: RecordCountSource, status: BatchStatus): RequestCounts {
  const total = src.totalRecordCount ?? 0
  const counts = { total, succeeded: src.successRecordCount ?? 0, errored: src.errorRecordCount ?? 0, canceled: 0, expired: 0 }
  return status === 'cancelled' || status === 'expired' ? settledCounts(status, counts) : counts
}
