// Why the Gemini adapter keeps raw REST for some calls: each test shows what @google/genai (the
// version in package.json) cannot do that the adapter needs. If a future SDK can, the test fails
// and that call should move to the SDK (src/providers/gemini/sdk.ts).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GoogleGenAI } from '@google/genai'
import { startGeminiFake, type GeminiFake } from '../fakes/gemini'

let fake: GeminiFake
let ai: GoogleGenAI

beforeAll(() => {
  fake = startGeminiFake({ autoAdvance: false })
  ai = new GoogleGenAI({ apiKey: fake.apiKey, httpOptions: { baseUrl: fake.url, apiVersion: 'v1beta' } })
})
afterAll(async () => {
  await fake.close()
})

const rawOperation = async (name: string): Promise<Record<string, unknown>> =>
  (await (await fetch(`${fake.url}/v1beta/${name}`, { headers: { 'x-goog-api-key': fake.apiKey } })).json()) as Record<string, unknown>

describe('@google/genai cannot do what the adapter needs for', () => {
  test('batch get/list: the BatchJob drops batchStats and renames BATCH_STATE_* (so counts come from raw REST)', async () => {
    const job = await ai.batches.create({
      model: 'gemini-2.0-flash',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }],
      config: { displayName: 'limits' },
    })
    const raw = await rawOperation(job.name!)
    const meta = raw.metadata as Record<string, unknown>
    expect(meta.batchStats).toEqual({ requestCount: '1', pendingRequestCount: '1' })
    expect(meta.state).toBe('BATCH_STATE_PENDING')
    const viaSdk = (await ai.batches.get({ name: job.name! })) as unknown as Record<string, unknown>
    expect(JSON.stringify(viaSdk)).not.toContain('requestCount')
    expect(String(viaSdk.state)).toBe('JOB_STATE_PENDING')
  })

  test('upload: a stream (the spool file read as we go) is refused; only a Blob or a path is taken', async () => {
    const stream = new Blob(['{"a":1}\n']).stream()
    const upload = ai.files.upload({ file: stream as unknown as Blob, config: { mimeType: 'application/jsonl' } })
    await expect(upload).rejects.toThrow()
    // And nothing was stored upstream by the refused call.
    expect(fake.files.size).toBe(0)
  })

  test('download: the SDK writes the file to a path and hands back nothing to stream on', async () => {
    const line = JSON.stringify({ key: 'k1', request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } })
    const input = await ai.files.upload({ file: new Blob([`${line}\n`]), config: { mimeType: 'application/jsonl' } })
    const job = await ai.batches.create({ model: 'gemini-2.0-flash', src: input.name! })
    fake.autoAdvance = true
    let done = job
    while (String(done.state) !== 'JOB_STATE_SUCCEEDED') done = await ai.batches.get({ name: job.name! })
    const dir = mkdtempSync(join(tmpdir(), 'genai-dl-'))
    try {
      const path = join(dir, 'out.jsonl')
      const answer = await ai.files.download({ file: done.dest!.fileName!, downloadPath: path })
      expect(answer).toBeUndefined()
      expect(readFileSync(path, 'utf8')).toContain('"k1"')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
