// Core → Anthropic wire mapping: statuses, Anthropic's request_counts rules, RFC 3339 times,
// results_url, and the file object.

import { describe, expect, test } from 'bun:test'
import { BATCH_STATUSES, type BatchStatus, emptyCounts, type StoredBatch } from '../../src/core/batch'
import type { StoredFile } from '../../src/core/file'
import { batchToWire, fileToWire, processingStatus, requestCounts } from '../../src/dialects/anthropic/to-wire'

const T0 = 1_700_000_000

function batch(status: BatchStatus, over: Partial<StoredBatch> = {}, times: Partial<StoredBatch['snapshot']['times']> = {}): StoredBatch {
  return {
    id: 'msgbatch_x',
    tenant: 't',
    provider: 'openai',
    dialect: 'anthropic',
    upstreamId: 'batch_up',
    endpoint: '/v1/chat/completions',
    inputFileId: null,
    completionWindow: '24h',
    metadata: null,
    createdAt: T0,
    snapshot: {
      upstreamId: 'batch_up',
      status,
      counts: { total: 4, succeeded: 2, errored: 1, canceled: 0, expired: 0 },
      times: {
        createdAt: T0,
        inProgressAt: null,
        finalizingAt: null,
        completedAt: null,
        failedAt: null,
        expiredAt: null,
        cancellingAt: null,
        cancelledAt: null,
        expiresAt: T0 + 86400,
        ...times,
      },
      resultRefs: [],
      errors: [],
      model: null,
    },
    outputFileId: null,
    errorFileId: null,
    idScheme: 'identity',
    cancelRequestedAt: null,
    archivedAt: null,
    usage: null,
    ...over,
  }
}

describe('processing_status', () => {
  test('maps the eight neutral statuses onto three', () => {
    const got = Object.fromEntries(BATCH_STATUSES.map((s) => [s, processingStatus(s)]))
    expect(got).toEqual({
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
})

describe('request_counts', () => {
  const c = { total: 5, succeeded: 2, errored: 1, canceled: 0, expired: 0 }

  test('everything is processing until the batch ends', () => {
    for (const s of ['validating', 'in_progress', 'finalizing', 'cancelling'] as const) {
      expect(requestCounts(s, c)).toEqual({ processing: 5, succeeded: 0, errored: 0, canceled: 0, expired: 0 })
    }
  })

  test('the remainder goes to canceled, expired or errored by how the batch ended', () => {
    expect(requestCounts('cancelled', c)).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 2, expired: 0 })
    expect(requestCounts('expired', c)).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 2 })
    expect(requestCounts('completed', c)).toEqual({ processing: 0, succeeded: 2, errored: 3, canceled: 0, expired: 0 })
    expect(requestCounts('failed', emptyCounts(0), 3)).toEqual({ processing: 0, succeeded: 0, errored: 3, canceled: 0, expired: 0 })
  })

  test('a known request total wins over an upstream that reports none yet', () => {
    expect(requestCounts('validating', emptyCounts(0), 3).processing).toBe(3)
    expect(requestCounts('in_progress', c, 3).processing).toBe(5)
  })

  test('the sum always equals the total', () => {
    for (const s of BATCH_STATUSES) {
      const r = requestCounts(s, c, 4)
      expect(r.processing + r.succeeded + r.errored + r.canceled + r.expired).toBe(5)
    }
  })
})

describe('batchToWire', () => {
  test('a running batch: no results_url, no ended_at, expires_at from the snapshot', () => {
    const w = batchToWire(batch('in_progress'), 'http://gw')
    expect(w).toEqual({
      id: 'msgbatch_x',
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: 4, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      created_at: '2023-11-14T22:13:20.000Z',
      expires_at: '2023-11-15T22:13:20.000Z',
      ended_at: null,
      cancel_initiated_at: null,
      archived_at: null,
      results_url: null,
    })
  })

  test('an ended batch points results_url at the gateway', () => {
    const w = batchToWire(batch('completed', {}, { completedAt: T0 + 60 }), 'https://gw.example')
    expect(w.processing_status).toBe('ended')
    expect(w.ended_at).toBe('2023-11-14T22:14:20.000Z')
    expect(w.results_url).toBe('https://gw.example/anthropic/v1/messages/batches/msgbatch_x/results')
  })

  test('cancel_initiated_at prefers the gateway’s own record, then the upstream time', () => {
    expect(batchToWire(batch('cancelling', { cancelRequestedAt: T0 + 5 }, { cancellingAt: T0 + 9 }), 'x').cancel_initiated_at).toBe(
      '2023-11-14T22:13:25.000Z',
    )
    expect(batchToWire(batch('cancelling', {}, { cancellingAt: T0 + 9 }), 'x').cancel_initiated_at).toBe('2023-11-14T22:13:29.000Z')
  })

  test('without an upstream expiry, expires_at is creation + completion window', () => {
    expect(batchToWire(batch('in_progress', {}, { expiresAt: null }), 'x').expires_at).toBe('2023-11-15T22:13:20.000Z')
  })
})

describe('fileToWire', () => {
  const file = (provider: StoredFile['provider'], expiresAt: number | null = null): StoredFile => ({
    id: 'file_x',
    tenant: 't',
    provider,
    dialect: 'anthropic',
    location: { kind: 'upstream', upstreamId: 'u' },
    purpose: 'user',
    filename: 'a.txt',
    bytes: 5,
    mimeType: 'text/plain',
    createdAt: T0,
    expiresAt,
    facts: { format: 'raw' },
  })

  test('Anthropic’s file object; downloadable unless the provider keeps uploads to itself', () => {
    expect(fileToWire(file('anthropic'))).toEqual({
      id: 'file_x',
      type: 'file',
      filename: 'a.txt',
      mime_type: 'text/plain',
      size_bytes: 5,
      created_at: '2023-11-14T22:13:20.000Z',
      downloadable: false,
    })
    expect(fileToWire(file('gemini')).downloadable).toBe(false)
    expect(fileToWire(file('openai')).downloadable).toBe(true)
    expect(fileToWire(file('bedrock', T0 + 3600))).toMatchObject({ downloadable: true, expires_at: '2023-11-14T23:13:20.000Z' })
  })
})
