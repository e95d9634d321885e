// The one place Anthropic's batch vocabulary becomes the neutral one (spec README §2, §3).
// Anthropic has a single terminal state, `ended`; which neutral terminal status it means is
// derived from `cancel_initiated_at` and the counts — a design choice, not provider behaviour.

import type { BatchStatus, BatchTimes, RequestCounts, ResultRef, UpstreamBatch } from '../../core/batch'
import { ANTHROPIC_STATUS, endedStatus } from '../../convert/batch-status'
import { GatewayError } from '../../errors'
import { type AnthropicMessageBatch, type AnthropicRequestCounts, requiredUnixSeconds, unixSeconds } from './wire'

export function toBatchStatus(b: AnthropicMessageBatch): BatchStatus {
  const status = b.processing_status
  switch (status) {
    case 'in_progress':
    case 'canceling':
      return ANTHROPIC_STATUS[status]
    case 'ended':
      return endedStatus({ cancelRequested: Boolean(b.cancel_initiated_at), expired: b.request_counts.expired })
    default: {
      const unknown: never = status
      throw new GatewayError('upstream', `anthropic returned an unknown processing_status '${String(unknown)}'`, {
        upstreamStatus: 502,
      })
    }
  }
}

export function toRequestCounts(c: AnthropicRequestCounts): RequestCounts {
  return {
    total: c.processing + c.succeeded + c.errored + c.canceled + c.expired,
    succeeded: c.succeeded,
    errored: c.errored,
    canceled: c.canceled,
    expired: c.expired,
  }
}

function toTimes(b: AnthropicMessageBatch, status: BatchStatus): BatchTimes {
  const createdAt = requiredUnixSeconds(b.created_at, 'created_at')
  const endedAt = unixSeconds(b.ended_at)
  return {
    createdAt,
    // Anthropic has no queued phase it reports: a batch is in_progress from creation.
    inProgressAt: createdAt,
    finalizingAt: null,
    completedAt: status === 'completed' ? endedAt : null,
    failedAt: null,
    expiredAt: status === 'expired' ? endedAt : null,
    cancellingAt: unixSeconds(b.cancel_initiated_at),
    cancelledAt: status === 'cancelled' ? endedAt : null,
    expiresAt: unixSeconds(b.expires_at),
  }
}

export function toUpstreamBatch(b: AnthropicMessageBatch): UpstreamBatch {
  const status = toBatchStatus(b)
  // The ref is the batch id, not `results_url`: openResults rebuilds the URL on our base URL.
  const resultRefs: ResultRef[] =
    b.processing_status === 'ended' ? [{ format: 'anthropic-results', ref: b.id }] : []
  return {
    upstreamId: b.id,
    status,
    counts: toRequestCounts(b.request_counts),
    times: toTimes(b, status),
    resultRefs,
    // Anthropic rejects a bad batch synchronously at create (400); there are no batch errors.
    errors: [],
    // The batch object names no model (each request carries its own).
    model: null,
  }
}
