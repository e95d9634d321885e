// Gemini adapter pieces the fake cannot reach: resuming after a partly stored chunk, session URL
// rewriting, JOB_STATE_* spellings, unknown states and inline-output batches.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toUpstreamBatch } from '../../src/providers/gemini/batch-mapping'
import { GeminiRest } from '../../src/providers/gemini/rest'
import { resumableUpload, sessionUrlOnBase } from '../../src/providers/gemini/resumable-upload'
import { parseBatchState, toBatchStatus } from '../../src/providers/gemini/status'
import type { GeminiOperation } from '../../src/providers/gemini/wire'

describe('resumable upload against a server that keeps half a chunk', () => {
  let server: ReturnType<typeof Bun.serve>
  let tmp: string
  const stored: number[] = []
  const log: string[] = []
  let chunkCalls = 0

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gemini-units-'))
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const url = new URL(req.url)
        const cmd = req.headers.get('x-goog-upload-command') ?? ''
        const offset = req.headers.get('x-goog-upload-offset')
        log.push(`${cmd}@${offset ?? '-'}`)
        if (cmd === 'start') {
          // A session URL on another host: the adapter must not follow it there.
          return new Response(null, { headers: { 'x-goog-upload-url': 'https://elsewhere.example/upload/s?upload_id=1' } })
        }
        if (url.searchParams.get('upload_id') !== '1') return new Response('bad session', { status: 404 })
        if (cmd === 'query') {
          return new Response(null, { headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(stored.length) } })
        }
        if (Number(offset) !== stored.length) return new Response('{"error":{"message":"bad offset"}}', { status: 400 })
        const bytes = new Uint8Array(await req.arrayBuffer())
        chunkCalls++
        if (chunkCalls === 2) {
          // Keep half of the second chunk, then fail as a proxy would.
          stored.push(...bytes.slice(0, bytes.length / 2))
          return new Response('{"error":{"message":"gateway hiccup"}}', { status: 502 })
        }
        stored.push(...bytes)
        if (cmd === 'upload') return new Response(null, { headers: { 'x-goog-upload-status': 'active' } })
        const file = { name: 'files/abc', sizeBytes: String(stored.length), createTime: '2025-01-01T00:00:00.123456789Z' }
        return Response.json({ file }, { headers: { 'x-goog-upload-status': 'final' } })
      },
    })
  })
  afterAll(() => {
    server.stop(true)
    rmSync(tmp, { recursive: true, force: true })
  })

  test('queries the session and resumes from the bytes it holds', async () => {
    const data = new Uint8Array(40)
    for (let i = 0; i < data.length; i++) data[i] = i
    const path = join(tmp, 'in.bin')
    writeFileSync(path, data)
    const rest = new GeminiRest({ apiKey: 'k', baseUrl: `http://127.0.0.1:${server.port}` }, { timeoutMs: 2000, retries: 2 })
    const file = await resumableUpload(rest, { path, bytes: 40 }, { displayName: 'd', mimeType: 'application/jsonl' }, 16)
    expect(file.name).toBe('files/abc')
    expect(stored).toEqual([...data])
    expect(log).toEqual(['start@-', 'upload@0', 'upload@16', 'query@-', 'upload, finalize@24'])
  })
})

describe('sessionUrlOnBase', () => {
  test('keeps path and query, takes scheme, host and port from the base URL', () => {
    expect(sessionUrlOnBase('https://upload.googleapis.com:8443/upload/v1beta/files?upload_id=x&upload_protocol=resumable', 'http://127.0.0.1:9000')).toBe(
      'http://127.0.0.1:9000/upload/v1beta/files?upload_id=x&upload_protocol=resumable',
    )
    expect(sessionUrlOnBase('http://fake:1234/upload/v1beta/files?upload_id=y', 'https://generativelanguage.googleapis.com')).toBe(
      'https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=y',
    )
    expect(sessionUrlOnBase('/upload/v1beta/files?upload_id=z', 'https://proxy.internal:8443')).toBe(
      'https://proxy.internal:8443/upload/v1beta/files?upload_id=z',
    )
  })
})

describe('status mapping', () => {
  test('both spellings map alike', () => {
    const pairs: Array<[string, string]> = [
      ['UNSPECIFIED', 'validating'],
      ['PENDING', 'validating'],
      ['RUNNING', 'in_progress'],
      ['SUCCEEDED', 'completed'],
      ['FAILED', 'failed'],
      ['CANCELLED', 'cancelled'],
      ['EXPIRED', 'expired'],
    ]
    for (const [suffix, status] of pairs) {
      for (const prefix of ['BATCH_STATE_', 'JOB_STATE_']) {
        const state = parseBatchState(`${prefix}${suffix}`)
        expect(state).not.toBeNull()
        expect(toBatchStatus(state!)).toBe(status as ReturnType<typeof toBatchStatus>)
      }
    }
    expect(parseBatchState('BATCH_STATE_PAUSED')).toBeNull()
    expect(parseBatchState(undefined)).toBeNull()
  })

  const op = (patch: Partial<GeminiOperation>, state?: string): GeminiOperation => ({
    name: 'batches/1',
    metadata: { createTime: '2025-08-30T00:44:07.900645097Z', ...(state ? { state } : {}) },
    ...patch,
  })

  test('an unknown state polls until done, then follows the Operation outcome', () => {
    expect(toUpstreamBatch(op({}, 'BATCH_STATE_PAUSED'), 0).status).toBe('validating')
    expect(toUpstreamBatch(op({ done: true }, 'BATCH_STATE_NEW'), 0).status).toBe('completed')
    expect(toUpstreamBatch(op({ done: true, error: { code: 8, message: 'quota' } }, 'X'), 0)).toMatchObject({
      status: 'failed',
      errors: [{ code: 'resource_exhausted', message: 'quota', line: null, param: null }],
    })
  })

  test('JOB_STATE spelling, omitted counters, ns timestamps, response-only output', () => {
    const b = toUpstreamBatch(
      {
        name: 'batches/2',
        metadata: {
          model: 'models/gemini-2.5-flash',
          state: 'JOB_STATE_SUCCEEDED',
          createTime: '2025-08-30T00:44:07.900645097Z',
          endTime: '2025-08-30T01:00:00.5Z',
          batchStats: { requestCount: '5', successfulRequestCount: '5' },
        },
        done: true,
        response: { responsesFile: 'files/batch-out1' },
      },
      0,
    )
    const created = Math.floor(Date.UTC(2025, 7, 30, 0, 44, 7) / 1000)
    expect(b).toEqual({
      upstreamId: 'batches/2',
      status: 'completed',
      counts: { total: 5, succeeded: 5, errored: 0, canceled: 0, expired: 0 },
      times: {
        createdAt: created,
        inProgressAt: null,
        finalizingAt: null,
        completedAt: Math.floor(Date.UTC(2025, 7, 30, 1) / 1000),
        failedAt: null,
        expiredAt: null,
        cancellingAt: null,
        cancelledAt: null,
        expiresAt: created + 48 * 3600,
      },
      resultRefs: [{ format: 'gemini-responses', ref: 'files/batch-out1' }],
      errors: [],
      model: 'gemini-2.5-flash',
    })
  })

  test('inline responses are reported as unsupported rather than dropped silently', () => {
    const b = toUpstreamBatch(
      op({ done: true, response: { inlinedResponses: { inlinedResponses: [{}] } } }, 'BATCH_STATE_SUCCEEDED'),
      0,
    )
    expect(b.resultRefs).toEqual([])
    expect(b.errors.map((e) => e.code)).toEqual(['unsupported_output'])
  })
})
