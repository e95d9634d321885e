// Graceful shutdown of the real process (issue 7 §8): on SIGTERM or SIGINT the gateway stops
// accepting connections, lets the request in flight finish, closes SQLite cleanly (the WAL is
// checkpointed away) and exits 0.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { type OpenAIFake, startOpenAIFake } from '../fakes/openai'
import { rows, spawnGateway, waitFor } from './spawned-gateway'

let fake: OpenAIFake
const dirs: string[] = []

const line = JSON.stringify({
  custom_id: 'a',
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
})

function env(): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'batchgate-shutdown-'))
  dirs.push(dataDir)
  return { BATCHGATE_DATA_DIR: dataDir, OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: `${fake.url}/v1` }
}

/** A clean close checkpoints the WAL into the database and removes it (or leaves it empty). */
const walIsClean = (dataDir: string) => {
  const wal = join(dataDir, 'batchgate.sqlite-wal')
  return !existsSync(wal) || statSync(wal).size === 0
}

beforeAll(() => {
  fake = startOpenAIFake({ autoAdvance: false })
})

afterAll(async () => {
  await fake.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('graceful shutdown', () => {
  test('SIGTERM lets the in-flight request finish, refuses new connections, closes the database and exits 0', async () => {
    const e = env()
    const gw = await spawnGateway(e)
    const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line}\n`), 'in.jsonl'), purpose: 'batch' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    // The refresh of this batch upstream takes 800 ms.
    fake.faults.add({ match: (req, url) => req.method === 'GET' && url.pathname.startsWith('/v1/batches/'), delayMs: 800 })
    const seen = fake.requests.length
    const inFlight = client.batches.retrieve(batch.id)
    await waitFor('the refresh to reach the fake', () => fake.requests.slice(seen).some((r) => r.method === 'GET'))

    const signalledAt = performance.now()
    gw.proc.kill('SIGTERM')
    await waitFor('the shutdown to begin', () => gw.output().includes('shutting down'))
    const refused = await fetch(`${gw.url}/health`).then(
      () => false,
      () => true,
    )

    expect((await inFlight).id).toBe(batch.id)
    expect(await gw.exited).toBe(0)
    expect(refused).toBe(true)
    // Exited once the request was done, not at the 10 s grace limit.
    expect(performance.now() - signalledAt).toBeLessThan(3000)
    expect(walIsClean(e.BATCHGATE_DATA_DIR as string)).toBe(true)
    const ready = rows<{ id: string }>(e.BATCHGATE_DATA_DIR as string, `SELECT id FROM batches WHERE state = 'ready'`)
    expect(ready).toEqual([{ id: batch.id }])
  })

  test('SIGINT on an idle gateway exits 0 at once and the data survives a restart', async () => {
    const e = env()
    const gw = await spawnGateway(e)
    const client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line}\n`), 'in.jsonl'), purpose: 'batch' })

    gw.proc.kill('SIGINT')

    expect(await gw.exited).toBe(0)
    expect(walIsClean(e.BATCHGATE_DATA_DIR as string)).toBe(true)
    const again = await spawnGateway(e)
    try {
      const client2 = new OpenAI({ baseURL: `${again.url}/openai`, apiKey: 'open', maxRetries: 0 })
      expect((await client2.files.retrieve(file.id)).filename).toBe('in.jsonl')
    } finally {
      again.proc.kill('SIGTERM')
      expect(await again.exited).toBe(0)
    }
  })
})
