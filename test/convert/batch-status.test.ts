// The one status and count mapping (src/convert/batch-status.ts), table by table, as written in
// docs/conversions.md "Batch statuses and counts".

import { describe, expect, test } from 'bun:test'
import {
  anthropicProcessingStatus,
  anthropicRequestCounts,
  BEDROCK_STATUS,
  endedStatus,
  GEMINI_STATUS,
  openaiRequestCounts,
  settledCounts,
  splitOpenAIFailed,
} from '../../src/convert/batch-status'
import { BATCH_STATUSES, type RequestCounts } from '../../src/core/batch'

const counts = (c: Partial<RequestCounts>): RequestCounts => ({ total: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0, ...c })

describe('provider → neutral status', () => {
  test.each([
    [{ cancelRequested: true, expired: 2 }, 'cancelled'],
    [{ cancelRequested: false, expired: 1 }, 'expired'],
    [{ cancelRequested: false, expired: 0 }, 'completed'],
  ] as const)('an ended batch %o is %s', (ended, want) => {
    expect(endedStatus(ended)).toBe(want)
  })

  test.each([
    ['Submitted', 'validating'],
    ['Validating', 'validating'],
    ['Scheduled', 'validating'],
    ['InProgress', 'in_progress'],
    ['Completed', 'completed'],
    ['PartiallyCompleted', 'expired'],
    ['Failed', 'failed'],
    ['Stopping', 'cancelling'],
    ['Stopped', 'cancelled'],
    ['Expired', 'expired'],
  ] as const)('bedrock %s → %s', (status, want) => {
    expect(BEDROCK_STATUS[status]).toBe(want)
  })

  test.each([
    ['PENDING', 'validating'],
    ['UNSPECIFIED', 'validating'],
    ['RUNNING', 'in_progress'],
    ['SUCCEEDED', 'completed'],
    ['FAILED', 'failed'],
    ['CANCELLED', 'cancelled'],
    ['EXPIRED', 'expired'],
  ] as const)('gemini %s → %s in both spellings', (state, want) => {
    expect(GEMINI_STATUS[`BATCH_STATE_${state}`]).toBe(want)
    expect(GEMINI_STATUS[`JOB_STATE_${state}`]).toBe(want)
  })

  test("OpenAI's failed is split by the error file's cut-off lines, never below zero", () => {
    expect(splitOpenAIFailed({ total: 5, completed: 1, failed: 4 }, { canceled: 0, expired: 3 })).toEqual(
      counts({ total: 5, succeeded: 1, errored: 1, expired: 3 }),
    )
    expect(splitOpenAIFailed({ total: 2, completed: 0, failed: 2 }, { canceled: 5, expired: 5 })).toEqual(
      counts({ total: 2, canceled: 2 }),
    )
  })
})

describe('settling and neutral → dialects', () => {
  test.each([
    ['cancelled', counts({ total: 4, succeeded: 1 }), counts({ total: 4, succeeded: 1, canceled: 3 })],
    ['expired', counts({ total: 4, succeeded: 1 }), counts({ total: 4, succeeded: 1, expired: 3 })],
    ['completed', counts({ total: 4, succeeded: 3 }), counts({ total: 4, succeeded: 3, errored: 1 })],
    ['failed', counts({ total: 0 }), counts({ total: 3, errored: 3 })],
    ['in_progress', counts({ total: 4, succeeded: 1 }), counts({ total: 4, succeeded: 1 })],
  ] as const)('%s: %o settles to %o (3 requests sent)', (status, c, want) => {
    expect(settledCounts(status, c, 3)).toEqual(want)
  })

  test('every neutral status has one Anthropic processing_status', () => {
    const map = Object.fromEntries(BATCH_STATUSES.map((s) => [s, anthropicProcessingStatus(s)]))
    expect(map).toEqual({
      validating: 'in_progress',
      in_progress: 'in_progress',
      finalizing: 'in_progress',
      completed: 'ended',
      failed: 'ended',
      expired: 'ended',
      cancelling: 'canceling',
      cancelled: 'ended',
    })
  })

  test('the same ended counts in both dialects', () => {
    const c = settledCounts('expired', counts({ total: 3, succeeded: 2 }))
    expect(openaiRequestCounts(c)).toEqual({ total: 3, completed: 2, failed: 1 })
    expect(anthropicRequestCounts('expired', c)).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 1 })
    expect(anthropicRequestCounts('in_progress', counts({ total: 3, succeeded: 2 }))).toEqual({
      processing: 3,
      succeeded: 0,
      errored: 0,
      canceled: 0,
      expired: 0,
    })
  })
})
