// Drives the Anthropic adapter against the Anthropic fake: inline batch lifecycle, cancel and
// expiry paths, deletes, Files API, error mapping, and the streamed create body.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { UpstreamBatch } from '../../src/core/batch'
import { GatewayError } from '../../src/errors'
import { AnthropicAdapter } from '../../src/providers/anthropic/adapter'
import type { CreateBatchInput, UploadMeta, UploadSource } from '../../src/providers/provider'
import { type AnthropicFake, startAnthropicFake } from '../fakes/anthropic'

const KEY = 'sk-ant-adapter-test'
const POLICY = { timeoutMs: 5000, retries: 2 }
let fake: AnthropicFake
let adapter: AnthropicAdapter
let dir: string

beforeAll(() => {
  fake = startAnthropicFake({ apiKey: KEY })
  adapter = new AnthropicAdapter({ apiKey: KEY, baseUrl: fake.url }, POLICY)
  dir = mkdtempSync(join(tmpdir(), 'anthropic-adapter-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  fake.faults.clear()
  fake.autoAdvance = true
})

const item = (custom_id: string, prompt: string) => ({
  custom_id,
  params: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: prompt }] },
})

function spool(text: string): UploadSource {
  const path = join(dir, crypto.randomUUID())
  writeFileSync(path, text)
  return { path, bytes: Buffer.byteLength(text) }
}

const spoolItems = (items: unknown[]): UploadSource => spool(items.map((i) => `${JSON.stringify(i)}\n`).join(''))

function createInput(source: UploadSource, count: number): CreateBatchInput {
  return {
    gatewayId: `batch_${crypto.randomUUID()}`,
    endpoint: '/v1/messages',
    model: null,
    completionWindowHours: 24,
    metadata: null,
    input: { kind: 'inline', source, count },
    outputS3Uri: null,
    roleArn: null,
  }
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  )
  if (!(err instanceof GatewayError)) throw err
  return err
}

/** Unix seconds of one of the fake's epoch-ms fields. */
const secs = (ms: number | null | undefined): number | null => (ms == null ? null : Math.floor(ms / 1000))

function storedTimes(id: string) {
  const b = fake.batches.get(id)
  if (!b) throw new Error(`no batch ${id}`)
  return { created: secs(b.created_at) as number, expires: secs(b.expires_at), ended: secs(b.ended_at), cancel: secs(b.cancel_initiated_at) }
}

function expectedBatch(id: string, status: UpstreamBatch['status'], counts: UpstreamBatch['counts']): UpstreamBatch {
  const t = storedTimes(id)
  const ended = status === 'completed' || status === 'cancelled' || status === 'expired'
  return {
    upstreamId: id,
    status,
    counts,
    times: {
      createdAt: t.created,
      inProgressAt: t.created,
      finalizingAt: null,
      completedAt: status === 'completed' ? t.ended : null,
      failedAt: null,
      expiredAt: status === 'expired' ? t.ended : null,
      cancellingAt: t.cancel,
      cancelledAt: status === 'cancelled' ? t.ended : null,
      expiresAt: t.expires,
    },
    resultRefs: ended ? [{ format: 'anthropic-results', ref: id }] : [],
    errors: [],
    model: null,
  }
}

const counts = (total: number, succeeded = 0, errored = 0, canceled = 0, expired = 0) => ({
  total,
  succeeded,
  errored,
  canceled,
  expired,
})

interface ResultLine {
  custom_id: string
  result: { type: string; message?: { content: Array<{ text: string }> }; error?: { type: string; error: { type: string; message: string }; request_id?: string } }
}

async function resultLines(stream: ReadableStream<Uint8Array>): Promise<ResultLine[]> {
  const text = await new Response(stream).text()
  expect(text.endsWith('\n')).toBe(true)
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as ResultLine)
    .sort((a, b) => a.custom_id.localeCompare(b.custom_id))
}

describe('message batches', () => {
  test('inline lifecycle: create, poll through every status, results with an errored line', async () => {
    const items = [item('a-1', 'Hello there'), item('a-2', 'Please FAIL now'), item('a-3', 'Third prompt')]
    const created = await adapter.createBatch(createInput(spoolItems(items), 3))
    const id = created.upstreamId
    expect(id).toMatch(/^msgbatch_/)
    expect(created).toEqual(expectedBatch(id, 'in_progress', counts(3)))
    expect(created.times.expiresAt).toBe(created.times.createdAt + 86_400)

    // The fake processes half the batch on the first poll, but counts stay in `processing`.
    expect(await adapter.getBatch(id)).toEqual(expectedBatch(id, 'in_progress', counts(3)))
    const ended = await adapter.getBatch(id)
    expect(ended).toEqual(expectedBatch(id, 'completed', counts(3, 2, 1)))
    expect(ended.times.completedAt).toBeNumber()

    const lines = await resultLines(await adapter.openResults(ended.resultRefs[0]!))
    expect(lines.map((l) => [l.custom_id, l.result.type])).toEqual([
      ['a-1', 'succeeded'],
      ['a-2', 'errored'],
      ['a-3', 'succeeded'],
    ])
    expect(lines[0]!.result.message!.content[0]!.text).toBe('Reply to: Hello there')
    expect(lines[1]!.result.error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'The model refused the prompt: Please FAIL now' },
      request_id: expect.stringMatching(/^req_/),
    })

    // Every call authenticates with x-api-key and pins the API version.
    const mine = fake.requests.filter((r) => r.path.includes(id) || r.path === '/v1/messages/batches')
    expect(mine.length).toBeGreaterThan(0)
    for (const r of mine) {
      expect(r.headers['x-api-key']).toBe(KEY)
      expect(r.headers['anthropic-version']).toBe('2023-06-01')
    }
  })

  test('cancel: cancelling while upstream is canceling, cancelled once it ends', async () => {
    fake.autoAdvance = false
    const { upstreamId: id } = await adapter.createBatch(createInput(spoolItems([item('c-1', 'one'), item('c-2', 'two')]), 2))
    const cancelling = await adapter.cancelBatch(id)
    expect(cancelling).toEqual(expectedBatch(id, 'cancelling', counts(2)))
    expect(cancelling.times.cancellingAt).toBeNumber()
    expect(await adapter.getBatch(id)).toEqual(expectedBatch(id, 'cancelling', counts(2)))

    fake.finish(id)
    const cancelled = await adapter.getBatch(id)
    expect(cancelled).toEqual(expectedBatch(id, 'cancelled', counts(2, 0, 0, 2)))
    expect(cancelled.times.cancelledAt).toBeNumber()
    const lines = await resultLines(await adapter.openResults(cancelled.resultRefs[0]!))
    expect(lines).toEqual([
      { custom_id: 'c-1', result: { type: 'canceled' } },
      { custom_id: 'c-2', result: { type: 'canceled' } },
    ])
  })

  test('a batch whose window ran out with nothing done is expired', async () => {
    fake.autoAdvance = false
    const { upstreamId: id } = await adapter.createBatch(createInput(spoolItems([item('e-1', 'late')]), 1))
    fake.expire(id)
    expect(await adapter.getBatch(id)).toEqual(expectedBatch(id, 'expired', counts(1, 0, 0, 0, 1)))
  })

  test('delete: refused before the end, done after it, repeat is a no-op', async () => {
    fake.autoAdvance = false
    const { upstreamId: id } = await adapter.createBatch(createInput(spoolItems([item('d-1', 'x')]), 1))
    const early = await rejection(adapter.deleteBatch(id))
    expect(early.kind).toBe('upstream')
    expect(early.details.upstreamStatus).toBe(400)
    expect(early.message).toContain('cannot be deleted while it is in_progress')

    fake.finish(id)
    await adapter.deleteBatch(id)
    expect(fake.batches.has(id)).toBe(false)
    await adapter.deleteBatch(id) // upstream 404: already gone is what we wanted
    const gone = await rejection(adapter.getBatch(id))
    expect([gone.kind, gone.details.upstreamStatus]).toEqual(['upstream', 404])
  })

  test('results are read from the configured base URL, never from results_url', async () => {
    const foreign: string[] = []
    const elsewhere = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        foreign.push(req.headers.get('x-api-key') ?? '')
        return new Response('{}\n')
      },
    })
    try {
      fake.autoAdvance = false
      const { upstreamId: id } = await adapter.createBatch(createInput(spoolItems([item('r-1', 'hi')]), 1))
      fake.finish(id)
      const body = { ...fake.batchObject(id), results_url: `http://127.0.0.1:${elsewhere.port}/steal` }
      fake.faults.add({ match: (r, u) => r.method === 'GET' && u.pathname.endsWith(id), status: 200, body })
      const batch = await adapter.getBatch(id)
      expect(batch.resultRefs).toEqual([{ format: 'anthropic-results', ref: id }])
      const lines = await resultLines(await adapter.openResults(batch.resultRefs[0]!))
      expect(lines.map((l) => l.custom_id)).toEqual(['r-1'])
      expect(foreign).toEqual([])
    } finally {
      elsewhere.stop(true)
    }
  })

  test('the create body is streamed from the spool: 20 000 items arrive, in order', async () => {
    fake.autoAdvance = false
    const n = 20_000
    const items = Array.from({ length: n }, (_, i) => item(`big-${i}`, `prompt number ${i}`))
    const before = fake.requests.length
    const { upstreamId: id, counts: c } = await adapter.createBatch(createInput(spoolItems(items), n))
    expect(c).toEqual(counts(n))
    const received = fake.batches.get(id)!.requests
    expect(received.length).toBe(n)
    expect(received[0]).toEqual(items[0] as never)
    expect(received[n - 1]).toEqual(items[n - 1] as never)
    // No Content-Length: the body went out chunked as it was read from disk.
    const post = fake.requests.slice(before).find((r) => r.method === 'POST')!
    expect(post.headers['content-length']).toBeUndefined()
    expect(post.headers['transfer-encoding']).toBe('chunked')
  })

  test('spool quirks: BOM, CRLF, blank lines and a missing final newline', async () => {
    fake.autoAdvance = false
    const text = `\uFEFF${JSON.stringify(item('q-1', 'a'))}\r\n\r\n\n${JSON.stringify(item('q-2', 'b'))}`
    const { upstreamId: id } = await adapter.createBatch(createInput(spool(text), 2))
    expect(fake.batches.get(id)!.requests.map((r) => r.custom_id)).toEqual(['q-1', 'q-2'])
  })

  test('an invalid request item surfaces as upstream 400 with Anthropic’s message', async () => {
    const bad = { custom_id: 'x-1', params: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] } }
    const err = await rejection(adapter.createBatch(createInput(spoolItems([bad]), 1)))
    expect([err.kind, err.details.upstreamStatus, err.message]).toEqual([
      'upstream',
      400,
      'requests.0.params.max_tokens: Field required',
    ])
  })
})

describe('files', () => {
  const meta = (filename: string, mimeType: string): UploadMeta => ({
    gatewayId: `file_${crypto.randomUUID()}`,
    filename,
    purpose: 'user',
    mimeType,
    dialect: 'anthropic',
    storage: null,
  })

  test('upload, content (not downloadable → 400), delete', async () => {
    const text = 'hello from the gateway\n'
    const m = meta('notes.txt', 'text/plain')
    const uploaded = await adapter.uploadFile(spool(text), m)
    const id = uploaded.location.upstreamId
    const stored = fake.files.get(id)!
    expect(uploaded).toEqual({
      location: { kind: 'upstream', upstreamId: id },
      bytes: Buffer.byteLength(text),
      createdAt: Math.floor(stored.created_at / 1000),
      expiresAt: null,
    })
    expect([stored.filename, stored.mime_type]).toEqual([`${m.gatewayId}.txt`, 'text/plain'])
    expect(await Bun.file(stored.path).text()).toBe(text)
    const upload = fake.requests.findLast((r) => r.method === 'POST' && r.path === '/v1/files')!
    expect(upload.headers['anthropic-beta']).toBe('files-api-2025-04-14')
    expect(upload.headers['x-api-key']).toBe(KEY)

    const err = await rejection(adapter.fileContent(uploaded.location))
    expect([err.kind, err.details.upstreamStatus]).toEqual(['upstream', 400])
    expect(err.message).toBe(`File ${id} is not downloadable; only files created by tools can be downloaded`)

    await adapter.deleteFile(uploaded.location)
    expect(fake.files.has(id)).toBe(false)
    await adapter.deleteFile(uploaded.location) // 404: already gone
  })

  test('downloadable files stream their bytes', async () => {
    const f = fake.addDownloadableFile('chart.csv', 'a,b\n1,2\n')
    const stream = await adapter.fileContent({ kind: 'upstream', upstreamId: f.id })
    expect(await new Response(stream).text()).toBe('a,b\n1,2\n')
  })
})

describe('error mapping', () => {
  const envelope = (type: string, message: string) => ({ type: 'error', error: { type, message } })
  const batchPath = (r: Request, u: URL) => r.method === 'GET' && u.pathname.startsWith('/v1/messages/batches/')
  const createPath = (r: Request, u: URL) => r.method === 'POST' && u.pathname === '/v1/messages/batches'

  test('a wrong key is upstream 401 with Anthropic’s message', async () => {
    const wrong = new AnthropicAdapter({ apiKey: 'sk-ant-wrong', baseUrl: fake.url }, POLICY)
    const err = await rejection(wrong.getBatch('msgbatch_x'))
    expect([err.kind, err.details.upstreamStatus, err.message]).toEqual(['upstream', 401, "anthropic refused the gateway's provider credentials: invalid x-api-key"])
    const create = await rejection(wrong.createBatch(createInput(spoolItems([item('k-1', 'x')]), 1)))
    expect(create.details.upstreamStatus).toBe(401)
  })

  test('429 and 500 on idempotent calls are retried', async () => {
    fake.autoAdvance = false
    const { upstreamId: id } = await adapter.createBatch(createInput(spoolItems([item('t-1', 'x')]), 1))
    fake.faults.add({ match: batchPath, status: 429, body: envelope('rate_limit_error', 'slow down'), times: 1 })
    fake.faults.add({ match: batchPath, status: 500, body: envelope('api_error', 'boom'), times: 1 })
    const before = fake.requests.length
    expect((await adapter.getBatch(id)).status).toBe('in_progress')
    expect(fake.requests.length - before).toBe(3)
  })

  test('persistent 500 surfaces after the retries', async () => {
    fake.faults.add({ match: batchPath, status: 500, body: envelope('api_error', 'boom'), times: 5 })
    const before = fake.requests.length
    const err = await rejection(adapter.getBatch('msgbatch_any'))
    expect([err.kind, err.details.upstreamStatus, err.message]).toEqual(['upstream', 500, 'boom'])
    expect(fake.requests.length - before).toBe(3)
  })

  test('create is never retried: 429 and 500 surface at once', async () => {
    for (const [status, type] of [
      [429, 'rate_limit_error'],
      [500, 'api_error'],
    ] as const) {
      fake.faults.add({ match: createPath, status, body: envelope(type, `no ${status}`), headers: { 'retry-after': '3' } })
      const batches = fake.batches.size
      const before = fake.requests.length
      const err = await rejection(adapter.createBatch(createInput(spoolItems([item('n-1', 'x')]), 1)))
      expect([err.kind, err.details.upstreamStatus, err.message]).toEqual(['upstream', status, `no ${status}`])
      expect(err.details.retryAfter).toBe(3)
      expect(fake.requests.length - before).toBe(1)
      expect(fake.batches.size).toBe(batches)
    }
  })

  test('an unreachable base URL is upstream_unreachable', async () => {
    const port = (() => {
      const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
      const p = s.port
      s.stop(true)
      return p
    })()
    const offline = new AnthropicAdapter({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}` }, { timeoutMs: 5000, retries: 0 })
    expect((await rejection(offline.getBatch('msgbatch_x'))).kind).toBe('upstream_unreachable')
    expect((await rejection(offline.createBatch(createInput(spoolItems([item('u-1', 'x')]), 1)))).kind).toBe(
      'upstream_unreachable',
    )
  })

  test('a slow answer is upstream_timeout', async () => {
    const impatient = new AnthropicAdapter({ apiKey: KEY, baseUrl: fake.url }, { timeoutMs: 100, retries: 0 })
    fake.faults.add({ match: batchPath, delayMs: 1000 })
    expect((await rejection(impatient.getBatch('msgbatch_x'))).kind).toBe('upstream_timeout')
  })
})
