// A Mistral batch job in the neutral vocabulary: status through the one table
// (convert/batch-status.ts), counts, times and result refs. Output and error files carry no
// `part`: their lines are Mistral's, so the gateway always derives the OpenAI files from them.

import type { BatchStatus, ResultRef, UpstreamBatch } from '../../core/batch'
import { MISTRAL_STATUS } from '../../convert/batch-status'
import { GatewayError } from '../../errors'
import { GATEWAY_ID_KEY } from '../openai/adapter'
import { MISTRAL_JOB_STATUSES, type MistralJob, type MistralJobStatus } from './wire'

/** The requests of a cancelled or timed-out job that have no line in its output or error file. */
export interface UnrunRef {
  inputs: string[]
  ran: string[]
  code: 'batch_cancelled' | 'batch_expired'
}
export const UNRUN_PREFIX = 'unrun:'

/** Metadata key beside the gateway id: the number of requests the gateway sent in the job. */
export const REQUESTS_KEY = 'batchgate_requests'

const KNOWN: ReadonlySet<string> = new Set(MISTRAL_JOB_STATUSES)

export function toBatchStatus(raw: string): BatchStatus {
  if (!KNOWN.has(raw)) {
    throw new GatewayError('upstream', `mistral returned an unknown batch job status '${raw.slice(0, 40)}'`, { upstreamStatus: 502 })
  }
  return MISTRAL_STATUS[raw as MistralJobStatus]
}

export function toUpstreamBatch(job: MistralJob): UpstreamBatch {
  const status = toBatchStatus(job.status)
  const ended = job.completed_at ?? null
  const resultRefs: ResultRef[] = []
  if (job.output_file) resultRefs.push({ format: 'mistral-output', ref: job.output_file })
  if (job.error_file) resultRefs.push({ format: 'mistral-output', ref: job.error_file })
  // A job cut short writes lines only for what ran; the rest are read off its input (adapter.ts).
  const cutOff = status === 'cancelled' ? 'batch_cancelled' : status === 'expired' ? 'batch_expired' : null
  if (cutOff && job.input_files.length > 0) {
    const unrun: UnrunRef = { inputs: job.input_files, ran: resultRefs.map((r) => r.ref), code: cutOff }
    resultRefs.push({ format: 'mistral-output', ref: `${UNRUN_PREFIX}${JSON.stringify(unrun)}` })
  }
  return {
    upstreamId: job.id,
    status,
    counts: {
      total: Math.max(job.total_requests, sentRequests(job)),
      succeeded: job.succeeded_requests,
      errored: job.failed_requests,
      // Requests a cancel or the timeout cut off are not counted upstream; settledCounts adds them.
      canceled: 0,
      expired: 0,
    },
    times: {
      createdAt: job.created_at,
      inProgressAt: job.started_at ?? null,
      finalizingAt: null,
      completedAt: status === 'completed' ? ended : null,
      failedAt: status === 'failed' ? ended : null,
      expiredAt: status === 'expired' ? ended : null,
      // Mistral records no time for CANCELLATION_REQUESTED; the gateway keeps its own.
      cancellingAt: null,
      cancelledAt: status === 'cancelled' ? ended : null,
      expiresAt: null,
    },
    resultRefs,
    errors: job.errors.map((e) => ({ code: 'mistral_batch_error', message: e.message, line: null, param: null })),
    model: job.model ?? null,
  }
}

/** The count the gateway tagged the job with at create (0 on a job it did not tag). */
function sentRequests(job: MistralJob): number {
  if (typeof job.metadata?.[GATEWAY_ID_KEY] !== 'string') return 0
  const n = Number(job.metadata[REQUESTS_KEY])
  return Number.isInteger(n) && n > 0 ? n : 0
}
