// The OpenAI Uploads API through the official `openai` client's `uploads` resource (and raw HTTP
// where the SDK cannot go wrong on purpose): create, parts in any order, complete with part_ids
// order and md5, cancel, expiry — for every provider. A completed Upload is a normal gateway file
// (validated and converted like POST /files), and an expired or cancelled one keeps no bytes.

import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { chatLine, errorOf, jsonl, md5, openaiWorld, pollToEnd, readResults, slices } from './openai-seed'

const world = openaiWorld()

const MODELS = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-haiku-20240307',
  gemini: 'gemini-2.0-flash',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
} as const
type Provider = keyof typeof MODELS

async function createUpload(bytes: number, provider: Provider, extra: Record<string, unknown> = {}) {
  return world.client.uploads.create({
    filename: 'big.jsonl',
    purpose: 'batch',
    bytes,
    mime_type: 'application/jsonl',
    provider,
    ...extra,
  } as OpenAI.Uploads.UploadCreateParams)
}

async function addParts(uploadId: string, pieces: Buffer[]) {
  // Sent in parallel, as the API allows: the order comes from part_ids alone.
  const parts = await Promise.all(pieces.map(async (piece, i) => world.client.uploads.parts.create(uploadId, { data: await toFile(piece, `p${i}`) })))
  const mine = uploadParts.get(uploadId) ?? new Set()
  for (const part of parts) mine.add(part.id)
  uploadParts.set(uploadId, mine)
  return parts
}

// The parts' bytes are blobs named by the part id; the part rows say which upload each belongs to.
const uploadParts = new Map<string, Set<string>>()
async function partFiles(uploadId: string): Promise<string[]> {
  const mine = uploadParts.get(uploadId) ?? new Set()
  return (await world.gw.store.blobs.list()).filter((b) => b.kind === 'part' && mine.has(b.fileId)).map((b) => b.fileId)
}

describe('Uploads API through the openai SDK', () => {
  for (const provider of Object.keys(MODELS) as Provider[]) {
    test(`${provider}: three parts in part_ids order become a batch input that runs`, async () => {
      const model = MODELS[provider]
      const input = jsonl(...Array.from({ length: 9 }, (_, i) => chatLine(`r${i}`, `question ${i} ${'é'.repeat(i)}`, model)))
      const upload = await createUpload(Buffer.byteLength(input), provider)
      expect(upload).toMatchObject({ object: 'upload', status: 'pending', bytes: Buffer.byteLength(input), purpose: 'batch', file: null })
      expect(upload.id).toMatch(/^upload_/)
      expect(upload.expires_at - upload.created_at).toBe(3600)
      const parts = await addParts(upload.id, slices(input, 3))
      for (const part of parts) expect(part).toMatchObject({ object: 'upload.part', upload_id: upload.id })
      expect(parts.map((p) => p.id).every((id) => id.startsWith('part_'))).toBe(true)

      const done = await world.client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id), md5: md5(input) })
      expect(done.status).toBe('completed')
      expect(done.file?.id).toMatch(/^file-/)
      expect(done.file?.purpose).toBe('batch')
      expect(await partFiles(upload.id)).toEqual([])
      const file = await world.client.files.retrieve(done.file?.id as string, { query: { provider } } as never)
      expect(file.filename).toBe('big.jsonl')

      const created = await world.client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        provider,
        model,
      } as never)
      const { batch } = await pollToEnd(world.client, created.id, { provider })
      expect(batch.status).toBe('completed')
      const { answers } = await readResults(world.client, batch)
      expect(Object.keys(answers).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `r${i}`))
    })
  }

  test('part order is part_ids order, not the order parts arrived in', async () => {
    const lines = ['a', 'b', 'c', 'd'].map((id) => chatLine(id, `q-${id}`, MODELS.openai))
    const input = jsonl(...lines)
    const pieces = lines.map((l) => Buffer.from(`${l}\n`))
    const upload = await createUpload(Buffer.byteLength(input), 'openai')
    // Sent d, c, b, a; completed as a, b, c, d.
    const parts: OpenAI.Uploads.UploadPart[] = []
    for (const piece of [...pieces].reverse()) parts.push(await world.client.uploads.parts.create(upload.id, { data: await toFile(piece, 'p') }))
    const done = await world.client.uploads.complete(upload.id, { part_ids: [...parts].reverse().map((p) => p.id) })
    const content = await (await world.client.files.content(done.file?.id as string)).text()
    expect(content).toBe(input)
  })

  test('an md5 that does not match refuses the upload; it stays pending and can still complete', async () => {
    const input = jsonl(chatLine('m1', 'hello', MODELS.gemini))
    const upload = await createUpload(Buffer.byteLength(input), 'gemini')
    const parts = await addParts(upload.id, slices(input, 2))
    const ids = parts.map((p) => p.id)
    const err = await errorOf(world.client.uploads.complete(upload.id, { part_ids: ids, md5: md5('something else') }))
    expect(err.status).toBe(400)
    expect(err.message).toContain('md5')
    const done = await world.client.uploads.complete(upload.id, { part_ids: ids, md5: md5(input) })
    expect(done.status).toBe('completed')
  })

  test('byte total, unknown and repeated part ids are refused, naming part_ids', async () => {
    const input = jsonl(chatLine('t1', 'hello', MODELS.openai))
    const upload = await createUpload(Buffer.byteLength(input), 'openai')
    const parts = await addParts(upload.id, slices(input, 2))
    const [first, second] = parts.map((p) => p.id) as [string, string]
    for (const partIds of [[first], [first, 'part_nope'], [first, second, first]]) {
      const err = await errorOf(world.client.uploads.complete(upload.id, { part_ids: partIds }))
      expect(err.status).toBe(400)
      expect((err.error as { param?: string }).param).toBe('part_ids')
    }
  })

  test('an invalid line fails complete with its line number, across part boundaries', async () => {
    const input = jsonl(chatLine('x1', 'ok', MODELS.bedrock), '{"custom_id": "x2", "method": "POST"', chatLine('x3', 'ok', MODELS.bedrock))
    const upload = await createUpload(Buffer.byteLength(input), 'bedrock')
    const parts = await addParts(upload.id, slices(input, 5))
    const err = await errorOf(world.client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) }))
    expect(err.status).toBe(400)
    expect(err.message).toContain('line 2')
  })

  test('cancel drops the parts; the upload then refuses parts and complete', async () => {
    const input = jsonl(chatLine('c1', 'hello', MODELS.openai))
    const upload = await createUpload(Buffer.byteLength(input), 'openai')
    const parts = await addParts(upload.id, slices(input, 2))
    expect((await partFiles(upload.id)).length).toBe(2)
    const cancelled = await world.client.uploads.cancel(upload.id)
    expect(cancelled.status).toBe('cancelled')
    expect(await partFiles(upload.id)).toEqual([])
    const late = await errorOf(world.client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'p') }))
    expect(late.status).toBe(400)
    expect(late.message).toContain('cancelled')
    expect((await errorOf(world.client.uploads.complete(upload.id, { part_ids: parts.map((p) => p.id) }))).message).toContain('cancelled')
  })

  test('an expired upload keeps no bytes: found on access, and at start-up', async () => {
    const input = jsonl(chatLine('e1', 'hello', MODELS.openai))
    const onAccess = await createUpload(Buffer.byteLength(input), 'openai')
    const atStart = await createUpload(Buffer.byteLength(input), 'openai')
    await addParts(onAccess.id, slices(input, 2))
    await addParts(atStart.id, slices(input, 2))
    // An hour passes: the records say so.
    for (const id of [onAccess.id, atStart.id]) await world.gw.store.uploads.setExpiry(id, Math.floor(Date.now() / 1000) - 1)
    const err = await errorOf(world.client.uploads.complete(onAccess.id, { part_ids: ['part_x'] }))
    expect(err.status).toBe(400)
    expect(err.message).toContain('expired')
    expect(await partFiles(onAccess.id)).toEqual([])

    expect((await partFiles(atStart.id)).length).toBe(2)
    await world.gw.restart()
    world.client = new OpenAI({ baseURL: `${world.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
    expect(await partFiles(atStart.id)).toEqual([])
    expect((await world.gw.store.uploads.get(atStart.id))?.status).toBe('expired')
  })

  test('create refuses what the provider cannot take, and a bad purpose', async () => {
    const tooBig = await errorOf(createUpload(2048 * 1024 * 1024 + 1, 'gemini'))
    expect(tooBig.status).toBe(413)
    expect(tooBig.message).toContain('gemini')
    // OpenAI takes 512 MB per POST /files but 8 GB through its Uploads API, which the gateway
    // relays to (providers/openai/uploads-relay.ts): an Upload may declare more than a POST takes.
    const big = await world.client.uploads.create({ filename: 'big.jsonl', purpose: 'fine-tune', bytes: 600 * 1024 * 1024, mime_type: 'application/jsonl', provider: 'openai' } as never)
    expect(big).toMatchObject({ status: 'pending', bytes: 600 * 1024 * 1024 })
    await world.client.uploads.cancel(big.id)
    const overEight = await errorOf(createUpload(8192 * 1024 * 1024 + 1, 'openai'))
    expect(overEight.status).toBe(413)
    expect(overEight.message).toContain(`up to ${8192 * 1024 * 1024} bytes`)
    const purpose = await errorOf(createUpload(10, 'openai', { purpose: 'user_data' }))
    expect(purpose.status).toBe(400)
    expect((purpose.error as { param?: string }).param).toBe('purpose')
  })
})

describe('Uploads API over raw HTTP', () => {
  const post = (path: string, init: RequestInit = {}) => fetch(`${world.gw.url}/openai/v1${path}`, { method: 'POST', ...init })

  test('a part over 64 MB is a 413, a part in a field other than data a 400, an unknown upload a 404', async () => {
    const upload = (await (
      await post('/uploads', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'f.jsonl', purpose: 'batch', bytes: 100 * 1024 * 1024, mime_type: 'application/jsonl' }),
      })
    ).json()) as { id: string }
    const big = new FormData()
    big.append('data', new Blob([new Uint8Array(64 * 1024 * 1024 + 1)]), 'p')
    const tooBig = await post(`/uploads/${upload.id}/parts`, { body: big })
    expect(tooBig.status).toBe(413)
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toContain(String(64 * 1024 * 1024))

    const wrong = new FormData()
    wrong.append('file', new Blob(['x']), 'p')
    const misnamed = await post(`/uploads/${upload.id}/parts`, { body: wrong })
    expect(misnamed.status).toBe(400)
    expect(((await misnamed.json()) as { error: { message: string } }).error.message).toContain("'data'")

    const unknown = await post('/uploads/upload_nope/cancel')
    expect(unknown.status).toBe(404)
    expect(await partFiles(upload.id)).toEqual([])
    expect(readdirSync(join(world.gw.dataDir, 'spool'))).toEqual([])
  })
})
