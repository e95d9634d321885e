// Files above OpenAI's per-POST limit go up through OpenAI's Uploads API (create, parts, complete
// with the part ids in order), driven here against the OpenAI fake with small sizes: the fake's
// POST /files takes at most 1 MiB, the adapter relays above 1 MiB in 256 KiB parts, three in
// flight. The bytes arrive exact and in order; a part that fails cancels the Upload upstream.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatewayError } from '../../src/errors'
import { OPENAI_SHAPE, OpenAIAdapter } from '../../src/providers/openai/adapter'
import type { UploadMeta, UploadSource } from '../../src/providers/provider'
import { type OpenAIFake, startOpenAIFake } from '../fakes/openai'

const KEY = 'sk-relay-test'
const KiB = 1024
const RELAY = { aboveBytes: 1024 * KiB, partBytes: 256 * KiB, inFlight: 3 }
let fake: OpenAIFake
let dir: string

const adapter = (retries = 0) =>
  new OpenAIAdapter({ apiKey: KEY, baseUrl: `${fake.url}/v1` }, { timeoutMs: 5000, retries }, {}, { ...OPENAI_SHAPE, relay: RELAY })

beforeAll(() => {
  fake = startOpenAIFake({ apiKey: KEY, maxFileBytes: 1024 * KiB })
  dir = mkdtempSync(join(tmpdir(), 'openai-relay-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  fake.faults.clear()
  fake.requests.length = 0
})

/** A file of `bytes` where every 4-byte word differs, so a part out of place changes the hash. */
function spool(bytes: number): UploadSource & { sha: string } {
  const data = Buffer.alloc(bytes)
  for (let i = 0; i + 4 <= bytes; i += 4) data.writeUInt32LE(i, i)
  const path = join(dir, crypto.randomUUID())
  writeFileSync(path, data)
  return { path, bytes, sha: createHash('sha256').update(data).digest('hex') }
}

const meta = (gatewayId: string, purpose: UploadMeta['purpose'] = 'fine-tune'): UploadMeta => ({
  gatewayId,
  filename: 'train.jsonl',
  purpose,
  mimeType: 'application/jsonl',
  dialect: 'openai',
  storage: null,
  expiresAfterSeconds: null,
})

const posts = (suffix: RegExp) => fake.requests.filter((r) => r.method === 'POST' && suffix.test(r.path)).length

describe('uploads over the per-POST limit', () => {
  test('go up as ordered parts and arrive byte for byte; the file keeps the gateway name', async () => {
    const source = spool(2.5 * 1024 * KiB)
    const file = await adapter().uploadFile(source, meta('file-relay1'))
    if (file.location.kind !== 'upstream') throw new Error('expected an upstream file')
    const stored = fake.files.get(file.location.upstreamId)
    expect(stored?.filename).toBe('file-relay1.jsonl')
    expect(file.bytes).toBe(source.bytes)
    expect(createHash('sha256').update(readFileSync(stored?.path as string)).digest('hex')).toBe(source.sha)
    expect(posts(/\/v1\/uploads$/)).toBe(1)
    expect(posts(/\/parts$/)).toBe(10)
    expect(posts(/\/complete$/)).toBe(1)
    expect(posts(/\/v1\/files$/)).toBe(0)
    expect(fake.uploads().at(-1)).toMatchObject({ status: 'completed', bytes: source.bytes, purpose: 'fine-tune' })
  })

  test('a file at the limit still goes through POST /files', async () => {
    const source = spool(1024 * KiB)
    const file = await adapter().uploadFile(source, meta('file-relay2'))
    expect(file.bytes).toBe(source.bytes)
    expect(posts(/\/v1\/files$/)).toBe(1)
    expect(posts(/\/v1\/uploads$/)).toBe(0)
  })

  test('a part refused once is sent again (a repeated part is only an unused part)', async () => {
    fake.faults.add({ match: (req, url) => req.method === 'POST' && url.pathname.endsWith('/parts'), status: 503, body: { error: { message: 'busy' } } })
    const source = spool(1.5 * 1024 * KiB)
    const file = await adapter(2).uploadFile(source, meta('file-relay3'))
    if (file.location.kind !== 'upstream') throw new Error('expected an upstream file')
    const stored = fake.files.get(file.location.upstreamId)
    expect(createHash('sha256').update(readFileSync(stored?.path as string)).digest('hex')).toBe(source.sha)
    expect(posts(/\/parts$/)).toBe(7)
  })

  test('a part that keeps failing cancels the Upload upstream and fails the upload', async () => {
    const filesBefore = fake.countFiles()
    fake.faults.add({
      match: (req, url) => req.method === 'POST' && url.pathname.endsWith('/parts'),
      status: 400,
      body: { error: { message: 'Part is too large', type: 'invalid_request_error', param: 'data', code: null } },
    })
    const error = await adapter().uploadFile(spool(2 * 1024 * KiB), meta('file-relay4')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).message).toContain('Part is too large')
    expect(fake.uploads().at(-1)?.status).toBe('cancelled')
    expect(posts(/\/cancel$/)).toBe(1)
    expect(fake.countFiles()).toBe(filesBefore)
  })

  test('a failed part lets the parts already sending finish before the Upload is cancelled (nothing left in flight)', async () => {
    const isPart = (req: Request, url: URL) => req.method === 'POST' && url.pathname.endsWith('/parts')
    let handled = 0
    fake.faults.add({ match: isPart, status: 400, body: { error: { message: 'Part is too large', type: 'invalid_request_error', param: 'data', code: null } } })
    // The two parts sent beside it are answered late; an after-handler hook that never fires counts them.
    fake.faults.add({ match: isPart, delayMs: 300, times: 2 })
    fake.faults.add({ afterHandler: true, times: 1000, match: (req, url) => (isPart(req, url) && handled++, false) })
    const error = await adapter().uploadFile(spool(2 * 1024 * KiB), meta('file-relay6')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect(posts(/\/parts$/)).toBe(3)
    expect(handled).toBe(2)
    expect(fake.uploads().at(-1)?.status).toBe('cancelled')
  })

  test('a purpose the Uploads API does not take is refused before any upstream call', async () => {
    const error = await adapter().uploadFile(spool(1.5 * 1024 * KiB), meta('file-relay5', 'user_data')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).message).toContain("does not take purpose 'user_data'")
    expect(fake.requests).toHaveLength(0)
  })
})
