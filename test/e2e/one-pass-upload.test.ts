// The one-pass upload (issue 12): when `purpose=batch` and the provider come before the file part
// (query, or earlier form fields — curl and the Python SDK send fields first), the part is
// validated and converted as it arrives, with no raw spool. It must store exactly what the
// spool-first path (file first, as the Node SDK sends it) stores, fail the same way on a bad
// line, and leave nothing behind either way.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { batchLine, call, KEYS, leftovers, MODELS, multipart, startWorld, type World } from '../security/world'

let world: World
beforeAll(async () => {
  world = await startWorld({ BATCHGATE_S3_BUCKETS: 'batchgate-test,batchgate-other' })
})
afterAll(async () => {
  await world.close()
})

type Provider = 'openai' | 'anthropic' | 'gemini' | 'bedrock'

/** Uploads `content` with purpose/provider either before the file (one pass) or after it (spooled). */
function upload(content: string, provider: Provider, order: 'fields-first' | 'file-first', query = '') {
  const fields = [
    { name: 'purpose', value: 'batch' },
    ...(query ? [] : [{ name: 'provider', value: provider }]),
  ]
  const file = { name: 'file', value: content, filename: 'in.jsonl' }
  const form = multipart(order === 'fields-first' ? [...fields, file] : [file, ...fields])
  return call(world.gw.url, `/openai/v1/files${query}`, { body: form.body, headers: form.headers })
}

async function content(id: string): Promise<string> {
  const res = await fetch(`${world.gw.url}/openai/v1/files/${id}/content`, { headers: { authorization: `Bearer ${KEYS.alice}` } })
  return res.text()
}

const lines = (provider: Provider, n: number) =>
  Array.from({ length: n }, (_, i) => batchLine(`id-${i}`, { model: MODELS[provider], prompt: `q ${i} ✓ ${'x'.repeat(i * 37)}` }))

describe('one-pass upload', () => {
  for (const provider of ['openai', 'anthropic', 'gemini', 'bedrock'] as const) {
    test(`${provider}: fields first stores what file first stores (content, bytes, facts)`, async () => {
      // CRLF, a blank line and no final newline: the kept formats must stay byte-exact.
      const text = `${lines(provider, 40).slice(0, 20).join('\r\n')}\r\n\r\n${lines(provider, 40).slice(20).join('\n')}`
      const streamed = await upload(text, provider, 'fields-first')
      const spooled = await upload(text, provider, 'file-first')
      const viaQuery = await upload(text, provider, 'fields-first', `?provider=${provider}`)
      for (const reply of [streamed, spooled, viaQuery]) expect(reply.status, reply.text).toBe(200)
      const [a, b, c] = [streamed, spooled, viaQuery].map((r) => r.json as { id: string; bytes: number })
      expect(a?.bytes).toBe(Buffer.byteLength(text))
      expect(b?.bytes).toBe(a?.bytes as number)
      expect(c?.bytes).toBe(a?.bytes as number)
      if (provider === 'gemini') {
        // Gemini never hands uploaded files back: compare what the fake stored, in upload order.
        const stored = [...world.fakes.gemini.files.values()].slice(-3)
        const texts = await Promise.all(stored.map((f) => world.fakes.gemini.readFileText(f.name)))
        expect(texts[0]).toBe(texts[1] as string)
        expect(texts[2]).toBe(texts[1] as string)
      } else {
        expect(await content(a?.id as string)).toBe(await content(b?.id as string))
        expect(await content(c?.id as string)).toBe(await content(b?.id as string))
      }
      const facts = [a, b].map((f) => world.gw.store.db.query<{ facts: string }, [string]>('SELECT facts FROM files WHERE id = ?').get(f?.id as string)?.facts)
      expect(facts[0]).toBe(facts[1] as string)
    })
  }

  test('a multi-megabyte part (many chunks, backpressure) converts the same either way', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => batchLine(`big-${i}`, { model: MODELS.bedrock, prompt: 'é'.repeat(400 + (i % 300)) })).join('\n')}\n`
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024)
    const streamed = await upload(text, 'bedrock', 'fields-first')
    const spooled = await upload(text, 'bedrock', 'file-first')
    expect(streamed.status, streamed.text).toBe(200)
    expect(spooled.status, spooled.text).toBe(200)
    const keys = world.fakes.s3.listKeys('batchgate-test').slice(-2)
    const objects = keys.map((k) => world.fakes.s3.store.object('batchgate-test', k))
    expect(objects.length).toBe(2)
    expect(objects[0]?.size).toBe(objects[1]?.size as number)
  })

  // Bedrock's output goes up part by part while it is converted (S3 multipart takes parts before
  // the size is known): these inputs convert to more than one 16 MiB part.
  const bigBedrock = (n: number) =>
    Array.from({ length: n }, (_, i) => batchLine(`p${i}`, { model: MODELS.bedrock, prompt: `${i} ${'ü'.repeat(1400)}` }))

  for (const order of ['fields-first', 'file-first'] as const) {
    test(`bedrock, ${order}: output uploaded while converted is stored whole, in order`, async () => {
      const text = `${bigBedrock(7_000).join('\n')}\n`
      const reply = await upload(text, 'bedrock', order)
      expect(reply.status, reply.text).toBe(200)
      const key = world.fakes.s3.listKeys('batchgate-test').find((k) => k.includes((reply.json as { id: string }).id)) as string
      const stored = await world.fakes.s3.getObjectText('batchgate-test', key)
      expect(world.fakes.s3.store.object('batchgate-test', key).etag).toMatch(/-[2-9]"$/)
      const records = stored.trimEnd().split('\n')
      expect(records.length).toBe(7_000)
      expect(records.map((r) => (JSON.parse(r) as { recordId: string }).recordId)).toEqual(Array.from({ length: 7_000 }, (_, i) => `p${i}`))
      expect(await content((reply.json as { id: string }).id)).toBe(stored)
      expect(world.fakes.s3.openMultipartUploads('batchgate-test')).toEqual([])
    })

    test(`bedrock, ${order}: a bad line after parts went up names its line; nothing stays upstream or here`, async () => {
      const bad = bigBedrock(7_000)
      bad[6_900] = '{"custom_id": "broken", "method": "POST"'
      const keysBefore = world.fakes.s3.listKeys('batchgate-test').length
      const requestsBefore = world.fakes.s3.requests.length
      const reply = await upload(bad.join('\n'), 'bedrock', order)
      expect(reply.status).toBe(400)
      expect(reply.text).toContain('line 6901')
      // The multipart upload began before the bad line was read, and was aborted.
      const calls = world.fakes.s3.requests.slice(requestsBefore).map((r) => `${r.method} ${r.query.includes('uploads') ? 'create' : r.query.includes('uploadId') ? 'upload' : ''}`)
      expect(calls[0]).toBe('POST create')
      expect(calls.at(-1)).toBe('DELETE upload')
      expect(world.fakes.s3.openMultipartUploads('batchgate-test')).toEqual([])
      expect(world.fakes.s3.listKeys('batchgate-test').length).toBe(keysBefore)
      expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
    })
  }

  test('bedrock: storage_config after the file moves the early upload to the bucket it names', async () => {
    const form = multipart([
      { name: 'purpose', value: 'batch' },
      { name: 'provider', value: 'bedrock' },
      { name: 'file', value: `${bigBedrock(7_000).join('\n')}\n`, filename: 'in.jsonl' },
      { name: 'storage_config[s3][bucket]', value: 'batchgate-other' },
    ])
    const keysBefore = world.fakes.s3.listKeys('batchgate-test').length
    const reply = await call(world.gw.url, '/openai/v1/files', { body: form.body, headers: form.headers })
    expect(reply.status, reply.text).toBe(200)
    const id = (reply.json as { id: string }).id
    expect(world.fakes.s3.listKeys('batchgate-other').some((k) => k.includes(id))).toBe(true)
    expect(world.fakes.s3.listKeys('batchgate-test').length).toBe(keysBefore)
    expect(world.fakes.s3.openMultipartUploads('batchgate-test')).toEqual([])
    expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
  })

  test('a bad line stops the streamed upload with its line number, and nothing is left', async () => {
    const good = lines('gemini', 30)
    good[22] = '{"custom_id": "broken", "method": "POST", "url": "/v1/chat/completions", "body": '
    const reply = await upload(good.join('\n'), 'gemini', 'fields-first')
    expect(reply.status).toBe(400)
    expect(reply.text).toContain('line 23')
    expect(leftovers(world.gw).spool).toEqual([])
  })

  test('a duplicate custom_id is found across the streamed file, naming both lines', async () => {
    const dup = lines('bedrock', 12)
    dup[9] = batchLine('id-3', { model: MODELS.bedrock })
    const reply = await upload(dup.join('\n'), 'bedrock', 'fields-first')
    expect(reply.status).toBe(400)
    expect(reply.text).toContain('line 10')
    expect(reply.text).toContain('line 4')
    expect(leftovers(world.gw).spool).toEqual([])
  })

  test('a provider field after the file that contradicts the one before it is refused, not misfiled', async () => {
    const form = multipart([
      { name: 'purpose', value: 'batch' },
      { name: 'file', value: lines('gemini', 3).join('\n'), filename: 'in.jsonl' },
      { name: 'provider', value: 'bedrock' },
    ])
    const reply = await call(world.gw.url, '/openai/v1/files?provider=gemini', { body: form.body, headers: form.headers })
    expect(reply.status).toBe(400)
    expect(reply.text).toContain('provider')
    expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
  })
})
