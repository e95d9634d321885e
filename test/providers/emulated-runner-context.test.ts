// A run kicked by a create (inside that request's context) outlives the request: its work must
// not carry the request (log lines would name a request that answered long ago).

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { currentRequest, runInRequest } from '../../src/ops/context'
import { EmulatedRunner } from '../../src/providers/emulated/runner'
import { openStore } from '../../src/store/store'
import { startChatFake } from '../fakes/chat-completions'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-runner-ctx-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('a run kicked from inside a request runs outside it', async () => {
  const fake = startChatFake()
  const store = openStore(join(dir, 'data'))
  try {
    const input = join(dir, 'in.jsonl')
    writeFileSync(input, `${[0, 1, 2].map((i) => JSON.stringify({ custom_id: `c-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: `p ${i}` }] } })).join('\n')}\n`)
    await store.blobs.put(input, 'batch_ctx', 'content')
    await store.emulated.create({ id: 'batch_ctx', provider: 'local', endpoint: '/v1/chat/completions', total: 3, model: 'm', createdAt: 1, expiresAt: 4_000_000_000 })
    const seen: unknown[] = []
    const record = store.emulated.recordMany.bind(store.emulated)
    store.emulated.recordMany = async (id, rows) => {
      seen.push(currentRequest())
      await record(id, rows)
    }
    const settings = { baseUrl: fake.url, apiKey: fake.apiKey, concurrency: 2, requestsPerMinute: null, tokensPerMinute: null, completionWindowSeconds: null, models: null, requestTimeoutMs: 5000 }
    const runner = new EmulatedRunner('local', settings, store, 3_600_000)
    runInRequest({ requestId: 'req_create' } as Parameters<typeof runInRequest>[0], () => runner.kick('batch_ctx'))
    for (let i = 0; i < 200 && (await store.emulated.status('batch_ctx')) !== 'completed'; i++) await Bun.sleep(10)
    runner.stop()
    expect(await store.emulated.status('batch_ctx')).toBe('completed')
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((ctx) => ctx === undefined)).toBe(true)
  } finally {
    await store.close()
    await fake.close()
  }
})
