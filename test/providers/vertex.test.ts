// The vertex adapter's parts against the Vertex fake: GCS resumable uploads in several chunks
// (and resumed after a lost answer), token caching, renewal and token files, result rows mapped
// by key whatever their order, and the failure-status reading.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { VertexConfig } from '../../src/config'
import { settledCounts, VERTEX_STATUS } from '../../src/convert/batch-status'
import { vertexPredictionLineToResult } from '../../src/convert/results/vertex-prediction'
import { GatewayError } from '../../src/errors'
import { GrowingSource } from '../../src/providers/growing-source'
import { VertexAdapter } from '../../src/providers/vertex/adapter'
import { publisherModel, toUpstreamBatch } from '../../src/providers/vertex/job'
import { startVertexFake, type VertexFake } from '../fakes/vertex'

const POLICY = { timeoutMs: 5000, retries: 2 }
let fake: VertexFake
let dir: string

function config(over: Partial<VertexConfig> = {}): VertexConfig {
  const key = JSON.parse(readFileSync(fake.keyFile, 'utf8')) as Record<string, string>
  return {
    project: fake.project,
    location: fake.location,
    baseUrl: fake.url,
    storageUrl: fake.url,
    serviceAccount: { clientEmail: key.client_email as string, privateKey: key.private_key as string, privateKeyId: key.private_key_id as string, tokenUri: fake.tokenUrl },
    tokenFile: null,
    defaultBucket: 'unit-bucket',
    buckets: ['unit-bucket'],
    ...over,
  }
}

function spool(bytes: number): { path: string; bytes: number } {
  const path = join(dir, `spool-${bytes}-${Math.random()}`)
  writeFileSync(path, new Uint8Array(bytes).map((_, i) => 97 + (i % 26)))
  return { path, bytes }
}

const meta = (gatewayId: string) => ({ gatewayId, filename: 'in.jsonl', purpose: 'batch' as const, mimeType: 'application/jsonl', dialect: 'openai' as const, storage: null })

beforeAll(async () => {
  fake = await startVertexFake({ project: 'unit-project', buckets: ['unit-bucket'] })
  dir = mkdtempSync(join(tmpdir(), 'vertex-unit-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('uploads', () => {
  test('a file larger than a chunk goes up in 256 KiB-multiple chunks and reads back whole', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: 256 * 1024 })
    const source = spool(256 * 1024 * 3 + 17)
    const puts = fake.gcs.chunkPuts
    const up = await adapter.uploadFile(source, meta('file-multi'))
    expect(up.location.upstreamId).toBe('gs://unit-bucket/batchgate-input/file-multi.jsonl')
    expect(fake.gcs.chunkPuts - puts).toBe(4)
    const back = new Uint8Array(await new Response(await adapter.fileContent(up.location)).arrayBuffer())
    expect(back).toEqual(new Uint8Array(readFileSync(source.path)))
  })

  test('a chunk whose answer is lost is resumed from what the session kept', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: 256 * 1024 })
    fake.faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'PUT' && u.searchParams.has('upload_id') && (r.headers.get('content-range') ?? '').startsWith('bytes 262144-') })
    const source = spool(256 * 1024 * 2 + 5)
    const up = await adapter.uploadFile(source, meta('file-resumed'))
    expect(fake.objectText(up.location.upstreamId)).toBe(readFileSync(source.path, 'utf8'))
    expect(fake.requests.some((r) => r.headers['content-range'] === `bytes */${source.bytes}`)).toBe(true)
  })
})

describe('uploads while the file is written', () => {
  const QUANTUM = 256 * 1024
  /** Chunks the fake has received with a Content-Range since `seen` (the session's start excluded). */
  const chunksSince = (seen: number) => fake.requests.slice(seen).filter((r) => r.headers['content-range']).length
  /**
   * Appends `sizes` to a fresh file, reporting each flush to a GrowingSource, then its end (or
   * `fail`). Each step waits until every whole chunk written so far has gone up, so the order of
   * events (chunks before the end is known) does not depend on how busy the machine is.
   */
  async function grow(sizes: number[], fail?: Error): Promise<{ source: GrowingSource; text: () => string; writer: Promise<void> }> {
    const path = join(dir, `grow-${Math.random()}`)
    writeFileSync(path, '')
    const source = new GrowingSource(path)
    const seen = fake.requests.length
    const chunksUp = async (written: number) => {
      for (let waited = 0; chunksSince(seen) < Math.floor(written / QUANTUM) && waited < 10_000; waited += 5) await Bun.sleep(5)
    }
    const writer = (async () => {
      let written = 0
      for (const [i, n] of sizes.entries()) {
        await chunksUp(written)
        appendFileSync(path, String.fromCharCode(97 + i).repeat(n))
        written += n
        source.grow(written)
      }
      // The end is known after the last bytes, as a converter's close comes after its last flush;
      // a whole chunk among them goes up before (the last chunk is the one that names the size).
      await chunksUp(fail ? 0 : written)
      if (fail) source.fail(fail)
      else source.finish(written)
    })()
    return { source, text: () => readFileSync(path, 'utf8'), writer }
  }

  test('chunks go up before the size is known (bytes a-b/*), the last one names it', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: QUANTUM })
    const { source, text, writer } = await grow([QUANTUM - 10, QUANTUM + 30, 500])
    const seen = fake.requests.length
    const up = await adapter.uploadGrowingFile(source, meta('file-grow'))
    await writer
    expect(up.bytes).toBe(2 * QUANTUM + 520)
    expect(fake.objectText(up.location.upstreamId)).toBe(text())
    const ranges = fake.requests.slice(seen).map((r) => r.headers['content-range']).filter(Boolean)
    expect(ranges).toEqual([`bytes 0-${QUANTUM - 1}/*`, `bytes ${QUANTUM}-${2 * QUANTUM - 1}/*`, `bytes ${2 * QUANTUM}-${2 * QUANTUM + 519}/${2 * QUANTUM + 520}`])
  })

  test('a file that ends on a chunk boundary is completed by naming its size alone', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: QUANTUM })
    const { source, writer } = await grow([QUANTUM])
    const seen = fake.requests.length
    const up = await adapter.uploadGrowingFile(source, meta('file-boundary'))
    await writer
    expect(up.bytes).toBe(QUANTUM)
    const ranges = fake.requests.slice(seen).map((r) => r.headers['content-range']).filter(Boolean)
    expect(ranges).toEqual([`bytes 0-${QUANTUM - 1}/*`, `bytes */${QUANTUM}`])
  })

  test("the writer's error (a bad line) fails the upload and no object is made", async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: QUANTUM })
    const { source, writer } = await grow([QUANTUM + 5], new Error('line 9: bad'))
    await expect(adapter.uploadGrowingFile(source, meta('file-bad'))).rejects.toThrow('line 9: bad')
    await writer
    expect(fake.gcs.get('unit-bucket', 'batchgate-input/file-bad.jsonl')).toBeUndefined()
    // The session was cancelled (DELETE → 499), not left holding the first chunk for a week.
    expect([...fake.gcs.sessions.values()].some((s) => s.name === 'batchgate-input/file-bad.jsonl')).toBe(false)
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path.includes('/upload/storage/v1/'))).toBe(true)
  })

  test('a chunk the storage refuses for good fails the upload and cancels its session', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v', chunkBytes: QUANTUM })
    fake.faults.add({ status: 403, match: (r, u) => r.method === 'PUT' && u.searchParams.has('upload_id') && (r.headers.get('content-range') ?? '').startsWith(`bytes ${QUANTUM}-`) })
    const source = spool(QUANTUM * 2 + 7)
    await expect(adapter.uploadFile(source, meta('file-refused'))).rejects.toThrow()
    expect(fake.gcs.get('unit-bucket', 'batchgate-input/file-refused.jsonl')).toBeUndefined()
    expect([...fake.gcs.sessions.values()].some((s) => s.name === 'batchgate-input/file-refused.jsonl')).toBe(false)
  })
})

describe('tokens', () => {
  test('one exchange serves many calls; a token near its end is renewed first', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v' })
    const before = fake.issuer.exchanges
    await Promise.all([1, 2, 3].map((i) => adapter.uploadFile(spool(10), meta(`file-t${i}`))))
    expect(fake.issuer.exchanges - before).toBe(1)
    // Tokens that live less than the five-minute margin are used for half their life, then renewed.
    fake.issuer.lifetimeSeconds = 1
    const short = new VertexAdapter(config(), POLICY, { name: 'v' })
    await short.uploadFile(spool(10), meta('file-s1'))
    await Bun.sleep(600)
    await short.uploadFile(spool(10), meta('file-s2'))
    expect(fake.issuer.exchanges - before).toBe(3)
    fake.issuer.lifetimeSeconds = 3599
  })

  test('a cached token the upstream stops accepting is renewed and the refused call sent once more', async () => {
    const adapter = new VertexAdapter(config(), POLICY, { name: 'v' })
    await adapter.uploadFile(spool(10), meta('file-r1'))
    const before = fake.issuer.exchanges
    // Revoked (or expired early) upstream: every token issued so far is refused from now on.
    fake.issuer.tokens.clear()
    const up = await adapter.uploadFile(spool(10), meta('file-r2'))
    expect(fake.objectText(up.location.upstreamId)).toBe('abcdefghij')
    expect(fake.issuer.exchanges).toBe(before + 1)
    const refused = fake.requests.filter((r) => r.path.startsWith('/upload/storage/v1/b/unit-bucket/o') && r.method === 'POST').slice(-2)
    expect(refused.map((r) => r.headers.authorization === refused[1]?.headers.authorization)).toEqual([false, true])
  })

  test('a token file is read on every call, so a refreshed token is used without a restart', async () => {
    const file = join(dir, 'token')
    writeFileSync(file, 'ya29.first\n')
    fake.allowStaticToken('ya29.first')
    const adapter = new VertexAdapter(config({ serviceAccount: null, tokenFile: file }), POLICY, { name: 'v' })
    await adapter.uploadFile(spool(10), meta('file-f1'))
    writeFileSync(file, 'ya29.second')
    const err = await adapter.uploadFile(spool(10), meta('file-f2')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).message).toContain("refused the gateway's provider credentials")
    fake.allowStaticToken('ya29.second')
    await adapter.uploadFile(spool(10), meta('file-f3'))
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer ya29.second')
  })
})

describe('prediction rows', () => {
  test('a failure status with the google.rpc envelope gives its code, message and status', () => {
    const row = { key: 'k-1', request: {}, status: 'Bad Request: {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}', processed_time: '2026-01-01T00:00:00Z' }
    const result = vertexPredictionLineToResult(row, 3, 'gemini-2.5-flash')
    expect(result).toMatchObject({ customId: 'k-1', type: 'errored', error: { status: 429, message: 'Quota exceeded', code: 'RESOURCE_EXHAUSTED', type: 'rate_limit' } })
    const plain = vertexPredictionLineToResult({ key: 'k-2', status: 'Internal error occurred.' }, 4, 'm')
    expect(plain).toMatchObject({ type: 'errored', error: { status: 500, message: 'Internal error occurred.' } })
  })

  test('a reply is read with the Gemini mapping; its createTime becomes the creation time', () => {
    const row = {
      key: 'k-3',
      status: '',
      processed_time: '2026-01-01T00:00:09Z',
      request: { contents: [] },
      response: { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 }, modelVersion: 'gemini-2.5-flash-001', createTime: '2026-01-01T00:00:08.123456Z', responseId: 'r-1' },
    }
    const result = vertexPredictionLineToResult(row, 1, 'gemini-2.5-flash')
    expect(result).toMatchObject({ customId: 'k-3', type: 'succeeded', reply: { id: 'r-1', model: 'gemini-2.5-flash-001', createdAt: 1767225608, stopReason: 'end_turn', content: [{ type: 'text', text: 'hi' }], usage: { inputTokens: 3, outputTokens: 1 } } })
  })

  test('a row without its key, or with neither response nor status, names its line', () => {
    expect(() => vertexPredictionLineToResult({ request: {}, status: '', response: { candidates: [] } }, 7, 'm')).toThrow('vertex-predictions result line 7: key')
    expect(() => vertexPredictionLineToResult({ key: 'k', status: '' }, 8, 'm')).toThrow('result line 8')
  })
})

describe('jobs → neutral batches (docs/conversions.md, Vertex columns)', () => {
  const job = (state: string, stats: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
    toUpstreamBatch({ name: 'projects/p/locations/l/batchPredictionJobs/1', state, completionStats: stats, createTime: '2026-01-01T00:00:00Z', ...extra }, 0)

  test.each([
    ['JOB_STATE_QUEUED', 'validating'],
    ['JOB_STATE_PENDING', 'validating'],
    ['JOB_STATE_UNSPECIFIED', 'validating'],
    ['JOB_STATE_RUNNING', 'in_progress'],
    ['JOB_STATE_PAUSED', 'in_progress'],
    ['JOB_STATE_UPDATING', 'in_progress'],
    ['JOB_STATE_CANCELLING', 'cancelling'],
    ['JOB_STATE_SUCCEEDED', 'completed'],
    ['JOB_STATE_PARTIALLY_SUCCEEDED', 'completed'],
    ['JOB_STATE_FAILED', 'failed'],
    ['JOB_STATE_CANCELLED', 'cancelled'],
    ['JOB_STATE_EXPIRED', 'expired'],
    ['JOB_STATE_SOMETHING_NEW', 'in_progress'],
  ] as const)('%s → %s', (state, want) => {
    expect(job(state).status).toBe(want)
    if (state in VERTEX_STATUS) expect(VERTEX_STATUS[state as keyof typeof VERTEX_STATUS]).toBe(want)
  })

  test('completionStats: rows never run settle as canceled or expired by the terminal state', () => {
    const stats = { successfulCount: '2', failedCount: '1', incompleteCount: '3' }
    const cancelled = job('JOB_STATE_CANCELLED', stats)
    expect(cancelled.counts).toEqual({ total: 6, succeeded: 2, errored: 1, canceled: 0, expired: 0 })
    expect(settledCounts(cancelled.status, cancelled.counts)).toEqual({ total: 6, succeeded: 2, errored: 1, canceled: 3, expired: 0 })
    const expired = job('JOB_STATE_EXPIRED', stats)
    expect(settledCounts(expired.status, expired.counts)).toEqual({ total: 6, succeeded: 2, errored: 1, canceled: 0, expired: 3 })
  })

  test('times, results directory, model and a failed job\'s error', () => {
    const done = job('JOB_STATE_SUCCEEDED', {}, {
      startTime: '2026-01-01T00:01:00Z',
      endTime: '2026-01-01T00:05:00Z',
      outputInfo: { gcsOutputDirectory: 'gs://b/out/prediction-model-1' },
      model: 'publishers/google/models/gemini-2.5-flash',
    })
    expect(done.times).toMatchObject({ createdAt: 1767225600, inProgressAt: 1767225660, completedAt: 1767225900, expiresAt: 1767225600 + 86400 })
    expect(done.resultRefs).toEqual([{ format: 'vertex-predictions', ref: 'gs://b/out/prediction-model-1' }])
    expect(done.model).toBe('gemini-2.5-flash')
    const failed = job('JOB_STATE_FAILED', {}, { error: { code: 7, message: 'The service agent cannot read the bucket.' } })
    expect(failed.errors).toEqual([{ code: 'permission_denied', message: 'The service agent cannot read the bucket.', line: null, param: null }])
    expect(publisherModel('gemini-2.5-flash')).toBe('publishers/google/models/gemini-2.5-flash')
    expect(publisherModel('projects/p/locations/l/models/123')).toBe('projects/p/locations/l/models/123')
  })
})
