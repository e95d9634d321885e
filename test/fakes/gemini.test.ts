// Proves the Gemini fake with the official @google/genai client (no retryOptions → no retries),
// plus raw-fetch checks of wire details the SDK hides (batchStats, BATCH_STATE_*, errors).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiError, GoogleGenAI } from '@google/genai'
import type { BatchJob, File as GenAIFile } from '@google/genai'
import { startGeminiFake } from './gemini'
import type { GeminiFake } from './gemini'

const KEY = 'gemini-test-key'
let fake: GeminiFake
let ai: GoogleGenAI
let tmp: string

beforeAll(() => {
  fake = startGeminiFake()
  // @google/genai 3.x defaults to apiVersion v1; the Batch API and this fake live on v1beta.
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url, apiVersion: 'v1beta' } })
  tmp = mkdtempSync(join(tmpdir(), 'gemini-fake-test-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(tmp, { recursive: true, force: true })
})

type Obj = Record<string, unknown>
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Obj; headers: Headers }> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, json: text ? (JSON.parse(text) as Obj) : {}, headers: res.headers }
}
const errOf = (r: { json: Obj }): Obj => r.json.error as Obj
const metaOf = (op: Obj): Obj => op.metadata as Obj

function jsonl(lines: unknown[]): Blob {
  return new Blob([lines.map((l) => JSON.stringify(l)).join('\n') + '\n'], { type: 'application/jsonl' })
}
const userMsg = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] })

async function uploadJsonl(lines: unknown[], displayName = 'in'): Promise<GenAIFile> {
  return ai.files.upload({ file: jsonl(lines), config: { mimeType: 'application/jsonl', displayName } })
}

async function expectApiError(p: Promise<unknown>, status: number, text: string): Promise<void> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(status)
    expect((err as ApiError).message).toContain(text)
    return
  }
  throw new Error('expected an ApiError')
}

describe('files', () => {
  test('upload, get, list with paging, delete via the SDK', async () => {
    const f = await uploadJsonl([{ key: 'a', request: userMsg('hi') }], 'first')
    expect(f.name).toMatch(/^files\/[a-z0-9]+$/)
    expect(f.displayName).toBe('first')
    expect(f.mimeType).toBe('application/jsonl')
    expect(String(f.state)).toBe('ACTIVE')
    expect(String(f.source)).toBe('UPLOADED')
    const size = Number(f.sizeBytes)
    expect(typeof f.sizeBytes).toBe('string')
    expect(size).toBeGreaterThan(10)
    expect(Date.parse(f.expirationTime!) - Date.parse(f.createTime!)).toBe(48 * 3600 * 1000)
    expect(f.uri).toBe(`${fake.url}/v1beta/files/${f.name!.slice(6)}`)

    const got = await ai.files.get({ name: f.name! })
    expect(got.sizeBytes).toBe(f.sizeBytes)
    expect(got.sha256Hash).toBe(createHash('sha256').update(await fake.readFile(f.name!)).digest('base64'))

    for (let i = 0; i < 3; i++) await uploadJsonl([{ key: `k${i}`, request: userMsg('x') }], `more${i}`)
    const pager = await ai.files.list({ config: { pageSize: 2 } })
    expect(pager.page.length).toBe(2)
    const names: string[] = []
    for await (const file of pager) names.push(file.name!)
    expect(names).toContain(f.name!)
    expect(new Set(names).size).toBe(names.length)

    await ai.files.delete({ name: f.name! })
    await expectApiError(ai.files.get({ name: f.name! }), 404, 'NOT_FOUND')
  })

  test('multi-chunk upload (8 MiB SDK chunks) lands intact on disk', async () => {
    const bytes = new Uint8Array(9 * 1024 * 1024 + 123)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251
    const before = fake.requests.length
    const f = await ai.files.upload({ file: new Blob([bytes], { type: 'application/octet-stream' }) })
    expect(f.sizeBytes).toBe(String(bytes.length))
    const chunks = fake.requests.slice(before).filter((r) => r.query.includes('upload_id='))
    expect(chunks.map((c) => c.headers['x-goog-upload-command'])).toEqual(['upload', 'upload, finalize'])
    expect(chunks.map((c) => c.headers['x-goog-upload-offset'])).toEqual(['0', String(8 * 1024 * 1024)])
    const stored = await fake.readFile(f.name!)
    expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  test('raw resumable protocol: headers, wrong offset, missing and mismatched declared length', async () => {
    const start = await raw('POST', '/upload/v1beta/files', { file: { display_name: 'raw', mime_type: 'text/plain' } }, {
      'X-Goog-Upload-Protocol': 'resumable',
      'X-Goog-Upload-Command': 'start',
      'X-Goog-Upload-Header-Content-Length': '10',
    })
    expect(start.status).toBe(200)
    expect(start.headers.get('x-goog-upload-status')).toBe('active')
    const session = start.headers.get('x-goog-upload-url')!
    expect(session.startsWith(`${fake.url}/upload/v1beta/files?upload_id=`)).toBe(true)
    const chunk = (cmd: string, offset: number, body: string) =>
      fetch(session, { method: 'POST', headers: { 'X-Goog-Upload-Command': cmd, 'X-Goog-Upload-Offset': String(offset) }, body })

    const c1 = await chunk('upload', 0, 'hello')
    expect(c1.status).toBe(200)
    expect(c1.headers.get('x-goog-upload-status')).toBe('active')
    const bad = await chunk('upload', 3, 'xx')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as Obj).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' })
    // Finalizing at 9 bytes contradicts the declared 10.
    const short = await chunk('upload, finalize', 5, 'wrld')
    expect(short.status).toBe(400)
    // The 4 bytes that arrived are kept; the next offset is 9.
    const fin = await chunk('upload, finalize', 9, '!')
    expect(fin.status).toBe(200)
    expect(fin.headers.get('x-goog-upload-status')).toBe('final')
    const file = ((await fin.json()) as { file: Obj }).file
    expect(file).toMatchObject({ displayName: 'raw', mimeType: 'text/plain', sizeBytes: '10', state: 'ACTIVE', source: 'UPLOADED' })
    expect(await fake.readFileText(file.name as string)).toBe('hellowrld!')

    // No declared length at all is accepted.
    const s2 = await raw('POST', '/upload/v1beta/files', {}, { 'X-Goog-Upload-Protocol': 'resumable', 'X-Goog-Upload-Command': 'start' })
    const fin2 = await fetch(s2.headers.get('x-goog-upload-url')!, {
      method: 'POST',
      headers: { 'X-Goog-Upload-Command': 'upload, finalize', 'X-Goog-Upload-Offset': '0' },
      body: 'abc',
    })
    expect(fin2.headers.get('x-goog-upload-status')).toBe('final')
    expect(((await fin2.json()) as { file: Obj }).file.sizeBytes).toBe('3')
  })

  test('uploaded files cannot be downloaded', async () => {
    const f = await uploadJsonl([{ key: 'a', request: userMsg('hi') }])
    const r = await raw('GET', `/v1beta/files/${f.name!.slice(6)}:download?alt=media`)
    expect(r.status).toBe(400)
    expect(errOf(r).status).toBe('INVALID_ARGUMENT')
  })
})

describe('batches', () => {
  test('file batch: PENDING → RUNNING → SUCCEEDED, responses file downloadable', async () => {
    const input = await uploadJsonl([
      { key: 'r1', request: { contents: [{ parts: [{ text: 'Describe photosynthesis.' }] }], generationConfig: { temperature: 0.7 } } },
      { key: 'r2', request: { ...userMsg('please FAIL'), systemInstruction: { parts: [{ text: 'be brief' }] } } },
      {
        key: 'r3',
        request: {
          contents: [
            { role: 'user', parts: [{ text: 'first' }] },
            { role: 'model', parts: [{ text: 'ok' }] },
            { role: 'user', parts: [{ text: 'one two' }, { text: 'three four' }] },
          ],
          generationConfig: { maxOutputTokens: 3 },
        },
      },
    ])
    const job = await ai.batches.create({ model: 'gemini-2.0-flash', src: input.name!, config: { displayName: 'file-job' } })
    expect(job.name).toMatch(/^batches\/[a-z0-9]+$/)
    expect(String(job.state)).toBe('JOB_STATE_PENDING')
    expect(job.model).toBe('models/gemini-2.0-flash')
    expect(job.displayName).toBe('file-job')

    const seen: string[] = [String(job.state)]
    let cur: BatchJob = job
    while (!['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED'].includes(String(cur.state))) {
      cur = await ai.batches.get({ name: job.name! })
      seen.push(String(cur.state))
    }
    expect(seen).toEqual(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED'])
    expect(cur.endTime).toBeDefined()
    const outName = cur.dest!.fileName!
    expect(outName).toMatch(/^files\//)

    const outFile = await ai.files.get({ name: outName })
    expect(String(outFile.source)).toBe('GENERATED')
    const dl = join(tmp, 'out.jsonl')
    await ai.files.download({ file: outName, downloadPath: dl })
    const lines = readFileSync(dl, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Obj)
    expect(lines.map((l) => l.key)).toEqual(['r1', 'r2', 'r3'])
    expect(lines[0]).toEqual({
      key: 'r1',
      response: {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Reply to: Describe photosynthesis.' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 4, totalTokenCount: 6 },
        modelVersion: 'gemini-2.0-flash',
      },
    })
    expect(lines[1]).toMatchObject({ key: 'r2', error: { code: 400, status: 'INVALID_ARGUMENT' } })
    expect((lines[1]!.error as Obj).message).toContain('FAIL')
    const r3 = (lines[2]!.response as { candidates: { finishReason: string; content: { parts: { text: string }[] } }[] }).candidates[0]!
    expect(r3.finishReason).toBe('MAX_TOKENS')
    expect(r3.content.parts[0]!.text).toBe('Reply to: one')

    // Both download paths serve the same bytes.
    const alt = await fetch(`${fake.url}/download/v1beta/files/${outName.slice(6)}:download?alt=media&key=${KEY}`)
    expect(alt.status).toBe(200)
    expect(await alt.text()).toBe(readFileSync(dl, 'utf8'))

    // Wire details the SDK hides.
    const op = await raw('GET', `/v1beta/${job.name}`)
    const md = metaOf(op.json)
    expect(md['@type']).toBe('type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch')
    expect(md.state).toBe('BATCH_STATE_SUCCEEDED')
    expect(md.batchStats).toEqual({ requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' })
    expect(md.inputConfig).toEqual({ fileName: input.name })
    expect(md.output).toEqual({ responsesFile: outName })
    expect(op.json.done).toBe(true)
    expect(op.json.response).toEqual({
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput',
      responsesFile: outName,
    })
  })

  test('inline batch: responses in input order with metadata; raw batchStats while pending', async () => {
    const job = await ai.batches.create({
      model: 'gemini-2.0-flash',
      src: [
        { contents: [{ role: 'user', parts: [{ text: 'alpha' }] }], metadata: { key: 'a' }, config: { temperature: 0.5, systemInstruction: 'be brief' } },
        { contents: [{ role: 'user', parts: [{ text: 'FAIL now' }] }], metadata: { key: 'b' } },
        { contents: [{ role: 'user', parts: [{ text: 'gamma' }] }], metadata: { key: 'c' }, config: { candidateCount: 2 } },
      ],
      config: { displayName: 'inline-job' },
    })
    const pending = metaOf(fake.operation(job.name!))
    expect(pending.state).toBe('BATCH_STATE_PENDING')
    expect(pending.batchStats).toEqual({ requestCount: '3', pendingRequestCount: '3' })
    expect(fake.operation(job.name!).done).toBeUndefined()

    await ai.batches.get({ name: job.name! })
    const done = await ai.batches.get({ name: job.name! })
    expect(String(done.state)).toBe('JOB_STATE_SUCCEEDED')
    const rs = done.dest!.inlinedResponses!
    expect(rs.map((r) => (r.metadata as Obj).key)).toEqual(['a', 'b', 'c'])
    expect(rs[0]!.response!.candidates![0]!.content!.parts![0]!.text).toBe('Reply to: alpha')
    expect(rs[0]!.response!.usageMetadata!.promptTokenCount).toBe(3)
    expect(rs[1]!.response).toBeUndefined()
    expect(rs[1]!.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' })
    expect(rs[2]!.response!.candidates!.map((c) => c.index)).toEqual([0, 1])

    const op = (await raw('GET', `/v1beta/${job.name}`)).json
    expect((metaOf(op).output as Obj).inlinedResponses).toBeDefined()
    expect((op.response as Obj).inlinedResponses).toEqual((metaOf(op).output as Obj).inlinedResponses as Obj)
  })

  test('snake_case body and the input_config.requests.file_name variant', async () => {
    const input = await uploadJsonl([{ key: 'x', request: userMsg('snake') }])
    const r = await raw('POST', '/v1beta/models/gemini-2.5-flash:batchGenerateContent', {
      batch: { display_name: 'snake', input_config: { requests: { file_name: input.name } }, priority: '5' },
    })
    expect(r.status).toBe(200)
    expect(metaOf(r.json)).toMatchObject({ displayName: 'snake', priority: '5', state: 'BATCH_STATE_PENDING', model: 'models/gemini-2.5-flash' })
    await fake.finish(r.json.name as string)
    const out = (metaOf(fake.operation(r.json.name as string)).output as Obj).responsesFile as string
    expect(await fake.readFileText(out)).toContain('Reply to: snake')
  })

  test('list, cancel, delete, expire and fail with autoAdvance off', async () => {
    fake.autoAdvance = false
    try {
      const mk = (name: string) => ai.batches.create({ model: 'gemini-2.0-flash', src: [{ contents: 'hello ' + name }], config: { displayName: name } })
      const a = await mk('a')
      const b = await mk('b')
      const c = await mk('c')
      expect(String((await ai.batches.get({ name: a.name! })).state)).toBe('JOB_STATE_PENDING')

      const pager = await ai.batches.list({ config: { pageSize: 2 } })
      expect(pager.page.length).toBe(2)
      const listed: string[] = []
      for await (const j of pager) listed.push(j.name!)
      expect(listed).toEqual(expect.arrayContaining([a.name!, b.name!, c.name!]))

      await ai.batches.cancel({ name: a.name! })
      const ca = await ai.batches.get({ name: a.name! })
      expect(String(ca.state)).toBe('JOB_STATE_CANCELLED')
      expect(ca.dest).toBeUndefined()
      const rawA = (await raw('GET', `/v1beta/${a.name}`)).json
      expect(rawA.done).toBe(true)
      expect(metaOf(rawA).state).toBe('BATCH_STATE_CANCELLED')
      expect(rawA.response).toBeUndefined()
      await expectApiError(ai.batches.cancel({ name: a.name! }), 400, 'FAILED_PRECONDITION')

      await fake.expire(b.name!)
      expect(String((await ai.batches.get({ name: b.name! })).state)).toBe('JOB_STATE_EXPIRED')

      await fake.fail(c.name!, 'backend exploded')
      const fc = (await raw('GET', `/v1beta/${c.name}`)).json
      expect(metaOf(fc).state).toBe('BATCH_STATE_FAILED')
      expect(fc.error).toEqual({ code: 13, message: 'backend exploded', details: [] })

      await ai.batches.delete({ name: b.name! })
      await expectApiError(ai.batches.get({ name: b.name! }), 404, 'NOT_FOUND')
      const after: string[] = []
      for await (const j of await ai.batches.list({ config: { pageSize: 100 } })) after.push(j.name!)
      expect(after).not.toContain(b.name!)
    } finally {
      fake.autoAdvance = true
    }
  })

  test('a bad JSONL line makes the batch FAILED with an Operation error', async () => {
    const f = await ai.files.upload({
      file: new Blob([`${JSON.stringify({ key: 'ok', request: userMsg('fine') })}\nnot json\n`], { type: 'application/jsonl' }),
    })
    const job = await ai.batches.create({ model: 'gemini-2.0-flash', src: f.name! })
    const next = await ai.batches.get({ name: job.name! })
    expect(String(next.state)).toBe('JOB_STATE_FAILED')
    const op = (await raw('GET', `/v1beta/${job.name}`)).json
    expect(op.done).toBe(true)
    expect((op.error as Obj).code).toBe(3)
    expect((op.error as Obj).message).toContain('line 2')
    expect(op.response).toBeUndefined()
  })
})

describe('negative cases', () => {
  test('wrong key → 400 API_KEY_INVALID; missing key → 403; ?key= works', async () => {
    const bad = new GoogleGenAI({ apiKey: 'nope', httpOptions: { baseUrl: fake.url, apiVersion: 'v1beta' } })
    await expectApiError(bad.files.list(), 400, 'API key not valid')
    await expectApiError(bad.batches.list(), 400, 'API_KEY_INVALID')

    const missing = await fetch(`${fake.url}/v1beta/batches`)
    expect(missing.status).toBe(403)
    expect(((await missing.json()) as Obj).error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', details: [] })

    const viaQuery = await fetch(`${fake.url}/v1beta/files?key=${KEY}`)
    expect(viaQuery.status).toBe(200)

    const upload = await fetch(`${fake.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'nope', 'X-Goog-Upload-Protocol': 'resumable', 'X-Goog-Upload-Command': 'start' },
      body: '{}',
    })
    expect(upload.status).toBe(400)
    expect(upload.headers.get('x-goog-upload-url')).toBeNull()
  })

  test('unknown request fields are rejected like the proto JSON parser', async () => {
    const r = await raw('POST', '/v1beta/models/gemini-2.0-flash:batchGenerateContent', {
      batch: { displayName: 'x', inputConfig: { requests: { requests: [{ request: { ...userMsg('hi'), temprature: 1 } }] } } },
    })
    expect(r.status).toBe(400)
    expect(errOf(r)).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' })
    expect(errOf(r).message).toBe(
      `Invalid JSON payload received. Unknown name "temprature" at 'batch.input_config.requests.requests[0].request': Cannot find field.`,
    )

    const gc = await raw('POST', '/v1beta/models/gemini-2.0-flash:batchGenerateContent', {
      batch: { inputConfig: { requests: { requests: [{ request: { ...userMsg('hi'), generationConfig: { maxTokens: 5 } } }] } } },
    })
    expect(gc.status).toBe(400)
    expect(errOf(gc).message).toContain('Unknown name "maxTokens"')

    const empty = await raw('POST', '/v1beta/models/gemini-2.0-flash:batchGenerateContent', {
      batch: { inputConfig: { requests: { requests: [{ request: { contents: [] } }] } } },
    })
    expect(empty.status).toBe(400)
    expect(errOf(empty).message).toContain('contents is not specified')

    const noFile = await raw('POST', '/v1beta/models/gemini-2.0-flash:batchGenerateContent', {
      batch: { inputConfig: { fileName: 'files/doesnotexist' } },
    })
    expect(noFile.status).toBe(404)
    expect(errOf(noFile).status).toBe('NOT_FOUND')

    const notJson = await raw('POST', '/v1beta/models/gemini-2.0-flash:batchGenerateContent', '{oops')
    expect(notJson.status).toBe(400)
    expect(errOf(notJson).message).toContain('Invalid JSON payload received.')
  })

  test('unknown batch → 404 Google envelope', async () => {
    const r = await raw('GET', '/v1beta/batches/nosuchbatch')
    expect(r.status).toBe(404)
    expect(errOf(r)).toEqual({ code: 404, message: 'Batch batches/nosuchbatch not found.', status: 'NOT_FOUND', details: [] })
  })
})
