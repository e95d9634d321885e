// GeminiAdapter against the Gemini fake: resumable multi-chunk upload, batch lifecycle through
// every state, streamed results, cancel/delete, and upstream error mapping.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { UpstreamBatch } from '../../src/core/batch'
import { GatewayError } from '../../src/errors'
import { GeminiAdapter } from '../../src/providers/gemini/adapter'
import type { CreateBatchInput, UploadMeta, UploadSource } from '../../src/providers/provider'
import { startGeminiFake } from '../fakes/gemini'
import type { GeminiFake } from '../fakes/gemini'

const KEY = 'gemini-adapter-key'
const POLICY = { timeoutMs: 5000, retries: 2 }
const MiB = 1024 * 1024

let fake: GeminiFake
let adapter: GeminiAdapter
let tmp: string
let spoolCount = 0

beforeAll(() => {
  fake = startGeminiFake({ apiKey: KEY, autoAdvance: true })
  adapter = new GeminiAdapter({ apiKey: KEY, baseUrl: fake.url }, POLICY, { chunkBytes: MiB })
  tmp = mkdtempSync(join(tmpdir(), 'gemini-adapter-test-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(tmp, { recursive: true, force: true })
})
beforeEach(() => {
  fake.faults.clear()
  fake.autoAdvance = true
})

function spool(text: string): UploadSource {
  const path = join(tmp, `spool-${++spoolCount}.jsonl`)
  writeFileSync(path, text)
  return { path, bytes: Buffer.byteLength(text) }
}

const line = (key: string, prompt: string): string =>
  `${JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text: prompt }] }] } })}\n`

const meta = (gatewayId: string): UploadMeta => ({
  gatewayId,
  filename: 'input.jsonl',
  purpose: 'batch',
  mimeType: 'application/octet-stream',
  dialect: 'openai',
  storage: null,
})

function createInput(fileName: string, model: string | null = 'gemini-2.0-flash'): CreateBatchInput {
  return {
    gatewayId: 'batch_gw1',
    endpoint: '/v1/chat/completions',
    model,
    completionWindowHours: 24,
    metadata: null,
    input: { kind: 'file', location: { kind: 'upstream', upstreamId: fileName } },
    outputS3Uri: null,
    roleArn: null,
  }
}

async function uploadLines(lines: string[]): Promise<string> {
  const up = await adapter.uploadFile(spool(lines.join('')), meta('file_gw1'))
  return up.location.upstreamId
}

async function caught(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError)
    return err as GatewayError
  }
  throw new Error('expected a GatewayError')
}

const secs = (rfc3339: unknown): number => Math.floor(Date.parse(String(rfc3339)) / 1000)
const idOf = (name: string): string => name.slice(name.indexOf('/') + 1)

/** The batch as the adapter should report it, built from the fake's own Operation JSON. */
function expected(name: string, patch: Partial<UpstreamBatch>): UpstreamBatch {
  const m = fake.operation(name).metadata as Record<string, string>
  const createdAt = secs(m.createTime)
  return {
    upstreamId: name,
    status: 'validating',
    counts: { total: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    times: {
      createdAt,
      inProgressAt: null,
      finalizingAt: null,
      completedAt: null,
      failedAt: null,
      expiredAt: null,
      cancellingAt: null,
      cancelledAt: null,
      expiresAt: createdAt + 48 * 3600,
    },
    resultRefs: [],
    errors: [],
    model: 'gemini-2.0-flash',
    ...patch,
  }
}
const endTimes = (name: string): number => secs((fake.operation(name).metadata as Record<string, string>).endTime)

describe('files', () => {
  test('multi-chunk resumable upload streams the spool file with correct offsets', async () => {
    const filler = 'x'.repeat(1000)
    // Counted as it grows: measuring the whole string each turn made this test quadratic (seconds
    // on a loaded machine, past the test timeout).
    let text = ''
    for (let i = 0, bytes = 0; bytes < 3.5 * MiB; i++) {
      const next = line(`k${i}`, `${i} ${filler}`)
      text += next
      bytes += Buffer.byteLength(next)
    }
    const source = spool(text)
    const before = fake.requests.length
    const up = await adapter.uploadFile(source, meta('file_big'))

    const stored = fake.files.get(idOf(up.location.upstreamId))!
    expect(up).toEqual({
      location: { kind: 'upstream', upstreamId: stored.name },
      bytes: source.bytes,
      createdAt: secs(stored.createTime),
      expiresAt: secs(stored.expirationTime),
    })
    expect(await fake.readFileText(stored.name)).toBe(text)
    expect(stored.displayName).toBe('file_big')
    expect(stored.mimeType).toBe('application/jsonl')

    const reqs = fake.requests.slice(before)
    const start = reqs[0]!
    expect(start.query).toBe('')
    expect(start.headers['x-goog-upload-protocol']).toBe('resumable')
    expect(start.headers['x-goog-upload-command']).toBe('start')
    expect(start.headers['x-goog-upload-header-content-length']).toBe(String(source.bytes))
    expect(start.headers['x-goog-upload-header-content-type']).toBe('application/jsonl')
    const chunks = reqs.slice(1)
    expect(chunks.map((c) => c.headers['x-goog-upload-command'])).toEqual(['upload', 'upload', 'upload', 'upload, finalize'])
    expect(chunks.map((c) => Number(c.headers['x-goog-upload-offset']))).toEqual([0, MiB, 2 * MiB, 3 * MiB])
    expect(chunks.map((c) => Number(c.headers['content-length']))).toEqual([MiB, MiB, MiB, source.bytes - 3 * MiB])
    // The key travels in a header only, never in a URL.
    for (const r of reqs) {
      expect(r.headers['x-goog-api-key']).toBe(KEY)
      expect(r.query).not.toContain('key=')
    }
  })

  test('a failed or unconfirmed chunk is resumed from what the session holds', async () => {
    const text = `${line('a', 'x'.repeat(1500 * 1024))}${line('b', 'y'.repeat(1500 * 1024))}`
    const isChunkAt = (offset: number) => (req: Request, url: URL) =>
      url.searchParams.has('upload_id') && req.headers.get('x-goog-upload-offset') === String(offset)
    fake.faults.add({ match: isChunkAt(MiB), status: 503, body: { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } } })
    // A 200 without X-Goog-Upload-Status: the outcome is unknown, as with a cut connection.
    fake.faults.add({ match: isChunkAt(2 * MiB), status: 200, body: '' })
    const before = fake.requests.length
    const up = await adapter.uploadFile(spool(text), meta('file_retry'))
    expect(await fake.readFileText(up.location.upstreamId)).toBe(text)
    const commands = fake.requests
      .slice(before + 1)
      .map((r) => `${r.headers['x-goog-upload-command']}@${r.headers['x-goog-upload-offset'] ?? '-'}`)
    expect(commands).toEqual([
      `upload@0`,
      `upload@${MiB}`,
      'query@-',
      `upload@${MiB}`,
      `upload, finalize@${2 * MiB}`,
      'query@-',
      `upload, finalize@${2 * MiB}`,
    ])
  })

  test('the session URL is used on the configured host', async () => {
    // The fake answers with 127.0.0.1 session URLs; the adapter must keep talking to `localhost`.
    const viaName = new GeminiAdapter({ apiKey: KEY, baseUrl: fake.url.replace('127.0.0.1', 'localhost') }, POLICY)
    const before = fake.requests.length
    await viaName.uploadFile(spool(line('a', 'hi')), meta('file_host'))
    const hosts = fake.requests.slice(before).map((r) => r.headers.host)
    expect(hosts).toEqual([expect.stringMatching(/^localhost:/), expect.stringMatching(/^localhost:/)])
  })

  test('uploaded files cannot be downloaded: the upstream error surfaces', async () => {
    const name = await uploadLines([line('a', 'hi')])
    const err = await caught(adapter.fileContent({ kind: 'upstream', upstreamId: name }))
    expect(err.kind).toBe('upstream')
    expect(err.details.upstreamStatus).toBe(400)
    expect(err.details.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toContain('cannot be downloaded')
  })

  test('delete removes the file; deleting it again is not an error', async () => {
    const name = await uploadLines([line('a', 'hi')])
    await adapter.deleteFile({ kind: 'upstream', upstreamId: name })
    expect(fake.files.has(idOf(name))).toBe(false)
    await adapter.deleteFile({ kind: 'upstream', upstreamId: name })
  })
})

describe('batches', () => {
  test('create → PENDING → RUNNING → SUCCEEDED, then results stream with keys and texts', async () => {
    const fileName = await uploadLines([line('r1', 'hello there'), line('r2', 'please FAIL'), line('r3', 'bye')])
    const created = await adapter.createBatch(createInput(fileName, 'models/gemini-2.0-flash'))
    const name = created.upstreamId
    expect(name).toMatch(/^batches\/[a-z0-9]+$/)
    const op = fake.operation(name).metadata as Record<string, unknown>
    expect(op.displayName).toBe('batch_gw1')
    expect(op.inputConfig).toEqual({ fileName })
    expect(op.model).toBe('models/gemini-2.0-flash')
    const three = { total: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
    expect(created).toEqual(expected(name, { counts: three }))

    expect(await adapter.getBatch(name)).toEqual(expected(name, { status: 'in_progress', counts: three }))

    const done = await adapter.getBatch(name)
    const outName = ((fake.operation(name).metadata as { output: { responsesFile: string } }).output).responsesFile
    expect(done).toEqual(
      expected(name, {
        status: 'completed',
        counts: { total: 3, succeeded: 2, errored: 1, canceled: 0, expired: 0 },
        times: { ...expected(name, {}).times, completedAt: endTimes(name) },
        resultRefs: [{ format: 'gemini-responses', ref: outName }],
      }),
    )

    const stream = await adapter.openResults(done.resultRefs[0]!)
    expect(stream).toBeInstanceOf(ReadableStream)
    const lines = (await new Response(stream).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; response?: unknown; error?: unknown })
    expect(lines.map((l) => l.key)).toEqual(['r1', 'r2', 'r3'])
    const textOf = (l: (typeof lines)[number]) =>
      (l.response as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }).candidates[0]!.content.parts[0]!.text
    expect(textOf(lines[0]!)).toBe('Reply to: hello there')
    expect(textOf(lines[2]!)).toBe('Reply to: bye')
    expect(lines[1]).toEqual({
      key: 'r2',
      error: { code: 400, message: 'The model refused the prompt: please FAIL', status: 'INVALID_ARGUMENT' },
    })
  })

  test('a model is required', async () => {
    const fileName = await uploadLines([line('a', 'hi')])
    const before = fake.requests.length
    const err = await caught(adapter.createBatch(createInput(fileName, null)))
    expect(err.kind).toBe('invalid_request')
    expect(err.param).toBe('model')
    expect(fake.requests.length).toBe(before)
  })

  test('an unusable input file ends FAILED with the Operation error', async () => {
    const fileName = await uploadLines(['{"key":"a","request":{"nope":1}}\n'])
    const { upstreamId: name } = await adapter.createBatch(createInput(fileName))
    const failed = await adapter.getBatch(name)
    expect(failed.status).toBe('failed')
    expect(failed.times.failedAt).toBe(endTimes(name))
    expect(failed.resultRefs).toEqual([])
    expect(failed.errors).toEqual([{ code: 'invalid_argument', message: expect.stringContaining('Line 1'), line: null, param: null }])
  })

  test('FAILED and EXPIRED states', async () => {
    fake.autoAdvance = false
    const fileName = await uploadLines([line('a', 'hi')])
    const one = { total: 1, succeeded: 0, errored: 0, canceled: 0, expired: 0 }

    const a = (await adapter.createBatch(createInput(fileName))).upstreamId
    await fake.fail(a, 'backend exploded')
    expect(await adapter.getBatch(a)).toEqual(
      expected(a, {
        status: 'failed',
        counts: one,
        times: { ...expected(a, {}).times, failedAt: endTimes(a) },
        errors: [{ code: 'internal', message: 'backend exploded', line: null, param: null }],
      }),
    )

    const b = (await adapter.createBatch(createInput(fileName))).upstreamId
    await fake.expire(b)
    expect(await adapter.getBatch(b)).toEqual(
      expected(b, { status: 'expired', counts: one, times: { ...expected(b, {}).times, expiredAt: endTimes(b) } }),
    )
  })

  test('cancel goes straight to cancelled; cancelling again returns the same batch', async () => {
    const fileName = await uploadLines([line('a', 'hi'), line('b', 'ho')])
    const { upstreamId: name } = await adapter.createBatch(createInput(fileName))
    const cancelled = await adapter.cancelBatch(name)
    const two = { total: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 }
    expect(cancelled).toEqual(
      expected(name, { status: 'cancelled', counts: two, times: { ...expected(name, {}).times, cancelledAt: endTimes(name) } }),
    )
    const cancelPaths = fake.requests.filter((r) => r.path.endsWith(':cancel')).map((r) => r.method)
    expect(cancelPaths.at(-1)).toBe('POST')
    expect(await adapter.cancelBatch(name)).toEqual(cancelled)
  })

  test('cancelling a finished batch surfaces the upstream refusal', async () => {
    const fileName = await uploadLines([line('a', 'hi')])
    const { upstreamId: name } = await adapter.createBatch(createInput(fileName))
    await fake.finish(name)
    const err = await caught(adapter.cancelBatch(name))
    expect(err.kind).toBe('upstream')
    expect(err.details).toMatchObject({ upstreamStatus: 400, code: 'FAILED_PRECONDITION' })
  })

  test('delete removes the batch; later reads are 404 NOT_FOUND; a second delete is fine', async () => {
    const fileName = await uploadLines([line('a', 'hi')])
    const { upstreamId: name } = await adapter.createBatch(createInput(fileName))
    await adapter.deleteBatch(name)
    expect(fake.batches.has(idOf(name))).toBe(false)
    const err = await caught(adapter.getBatch(name))
    expect(err.kind).toBe('upstream')
    expect(err.details).toMatchObject({ upstreamStatus: 404, code: 'NOT_FOUND' })
    await adapter.deleteBatch(name)
  })
})

describe('errors', () => {
  test('a wrong key (API_KEY_INVALID) is an upstream 401, a missing one a 403, both credentials-refused', async () => {
    const wrong = new GeminiAdapter({ apiKey: 'not-the-key', baseUrl: fake.url }, POLICY)
    const err = await caught(wrong.getBatch('batches/whatever'))
    expect(err.kind).toBe('upstream')
    expect(err.details).toMatchObject({ upstreamStatus: 401, code: 'upstream_credentials_refused' })
    expect(err.message).toContain('API key not valid')
    expect(err.message).not.toContain('not-the-key')

    const none = new GeminiAdapter({ apiKey: '', baseUrl: fake.url }, POLICY)
    const err2 = await caught(none.uploadFile(spool(line('a', 'hi')), meta('file_x')))
    expect(err2.details).toMatchObject({ upstreamStatus: 403, code: 'upstream_credentials_refused' })
  })

  test('429 and 500 are retried for reads', async () => {
    const fileName = await uploadLines([line('a', 'hi')])
    const { upstreamId: name } = await adapter.createBatch(createInput(fileName))
    fake.faults.add({ status: 429, body: { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } }, times: 1 })
    fake.faults.add({ status: 500, body: { error: { code: 500, message: 'oops', status: 'INTERNAL' } }, times: 1 })
    const got = await adapter.getBatch(name)
    expect(got.status).toBe('in_progress')
  })

  test('reads give up after the configured retries with the upstream status', async () => {
    fake.faults.add({ status: 503, body: { error: { code: 503, message: 'down', status: 'UNAVAILABLE' } }, times: 3 })
    const err = await caught(adapter.getBatch('batches/any'))
    expect(err.kind).toBe('upstream')
    expect(err.details).toMatchObject({ upstreamStatus: 503, code: 'upstream_server_error' })
    expect(err.message).toBe('down')
  })

  test('create is never retried: a 429 or 500 surfaces and creates nothing', async () => {
    const fileName = await uploadLines([line('a', 'hi')])
    const count = fake.batches.size
    for (const status of [429, 500]) {
      fake.faults.add({ status, body: { error: { code: status, message: `injected ${status}` } }, times: 2 })
      const before = fake.requests.length
      const err = await caught(adapter.createBatch(createInput(fileName)))
      expect(err.kind).toBe('upstream')
      expect(err.details.upstreamStatus).toBe(status)
      expect(err.message).toBe(`injected ${status}`)
      expect(fake.requests.length).toBe(before + 1)
      fake.faults.clear()
    }
    expect(fake.batches.size).toBe(count)
  })

  test('an unreachable base URL is upstream_unreachable', async () => {
    const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') })
    const deadUrl = `http://127.0.0.1:${probe.port}`
    probe.stop(true)
    const dead = new GeminiAdapter({ apiKey: KEY, baseUrl: deadUrl }, { timeoutMs: 2000, retries: 0 })
    expect((await caught(dead.getBatch('batches/x'))).kind).toBe('upstream_unreachable')
    expect((await caught(dead.uploadFile(spool(line('a', 'hi')), meta('file_dead')))).kind).toBe('upstream_unreachable')
  })

  test('results of another format are refused', async () => {
    const err = await caught(adapter.openResults({ format: 'openai-output', ref: 'file-1' }))
    expect(err.kind).toBe('internal')
  })
})
