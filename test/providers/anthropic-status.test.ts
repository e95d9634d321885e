// The derivation of a neutral status from Anthropic's single `ended` state (spec README §2),
// on synthetic batch objects so every branch is pinned, including the ones the fake never makes.

import { describe, expect, test } from 'bun:test'
import { GatewayError } from '../../src/errors'
import { toUpstreamBatch } from '../../src/providers/anthropic/status'
import type { AnthropicMessageBatch, AnthropicRequestCounts } from '../../src/providers/anthropic/wire'

const zero: AnthropicRequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 }

function batch(over: Partial<AnthropicMessageBatch>, counts: Partial<AnthropicRequestCounts> = {}): AnthropicMessageBatch {
  return {
    id: 'msgbatch_1',
    type: 'message_batch',
    processing_status: 'ended',
    request_counts: { ...zero, ...counts },
    created_at: '2024-08-20T18:37:24.100435Z',
    expires_at: '2024-08-21T18:37:24.100435Z',
    ended_at: '2024-08-20T19:01:02.000000Z',
    cancel_initiated_at: null,
    archived_at: null,
    results_url: 'https://elsewhere.example/results',
    ...over,
  }
}

const CREATED = 1724179044
const ENDED = 1724180462

describe('anthropic status mapping', () => {
  test('ended with partial expiry is expired (as on every provider), with every count and time mapped', () => {
    expect(toUpstreamBatch(batch({}, { succeeded: 95, errored: 3, expired: 2 }))).toEqual({
      upstreamId: 'msgbatch_1',
      status: 'expired',
      counts: { total: 100, succeeded: 95, errored: 3, canceled: 0, expired: 2 },
      times: {
        createdAt: CREATED,
        inProgressAt: CREATED,
        finalizingAt: null,
        completedAt: null,
        failedAt: null,
        expiredAt: ENDED,
        cancellingAt: null,
        cancelledAt: null,
        expiresAt: CREATED + 86_400,
      },
      resultRefs: [{ format: 'anthropic-results', ref: 'msgbatch_1' }],
      errors: [],
      model: null,
    })
  })

  test.each([
    ['in_progress', null, { processing: 4 }, 'in_progress'],
    ['canceling', '2024-08-20T18:40:00Z', { processing: 4 }, 'cancelling'],
    // A cancel wins even if every request finished before it took effect.
    ['ended', '2024-08-20T18:40:00Z', { succeeded: 4 }, 'cancelled'],
    ['ended', null, { expired: 4 }, 'expired'],
    ['ended', null, { errored: 1, expired: 3 }, 'expired'],
    ['ended', null, { errored: 4 }, 'completed'],
  ] as const)('%s (cancel %s, %o) → %s', (processing_status, cancel, counts, status) => {
    const ended = processing_status === 'ended'
    const b = toUpstreamBatch(
      batch({ processing_status, cancel_initiated_at: cancel, ended_at: ended ? '2024-08-20T19:01:02Z' : null }, counts),
    )
    expect(b.status).toBe(status)
    expect(b.counts.total).toBe(4)
    expect(b.resultRefs.length).toBe(ended ? 1 : 0)
    expect(b.times.cancellingAt).toBe(cancel ? 1724179200 : null)
  })

  test('an unknown processing_status or a bad timestamp is an upstream 502', () => {
    const unknown = batch({ processing_status: 'paused' as never })
    expect(() => toUpstreamBatch(unknown)).toThrow(GatewayError)
    expect(() => toUpstreamBatch(batch({ created_at: 'yesterday' }))).toThrow('anthropic returned a malformed timestamp')
  })
})
