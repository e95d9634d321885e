// The runner on its own (providers/emulated/runner.ts), over a run in a real store against the
// chat fake: a run kicked by a create (inside that request's context) outlives the request, so
// its work must not carry the request (log lines would name a request that answered long ago);
// and input lines are numbered as the upload counted them, whatever their line ends.

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { currentRequest, runInRequest } from '../../src/ops/context'
import { EmulatedRunner } from '../../src/providers/emulated/runner'
import { expandResult } from '../../src/convert/results/emulated-line'
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

test('a BOM, CRLF line ends, blank lines and no final newline: each request sent once, answered under its own custom_id', async () => {
  const fake = startChatFake()
  const store = openStore(join(dir, 'data-crlf'))
  try {
    const line = (i: number) => JSON.stringify({ custom_id: `r-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: `crlf ${i}` }] } })
    const input = join(dir, 'crlf.jsonl')
    writeFileSync(input, `\uFEFF${line(0)}\r\n\r\n${line(1)}\r\n   \n${line(2)}`)
    await store.blobs.put(input, 'batch_crlf', 'content')
    await store.emulated.create({ id: 'batch_crlf', provider: 'local', endpoint: '/v1/chat/completions', total: 3, model: 'm', createdAt: 1, expiresAt: 4_000_000_000 })
    const settings = { baseUrl: fake.url, apiKey: fake.apiKey, concurrency: 2, requestsPerMinute: null, tokensPerMinute: null, completionWindowSeconds: null, models: null, requestTimeoutMs: 5000 }
    const runner = new EmulatedRunner('local', settings, store, 3_600_000)
    runner.kick('batch_crlf')
    for (let i = 0; i < 200 && (await store.emulated.status('batch_crlf')) !== 'completed'; i++) await Bun.sleep(10)
    runner.stop()
    expect((await store.emulated.get('batch_crlf'))?.counts).toEqual({ succeeded: 3, errored: 0, expired: 0, canceled: 0 })
    expect([...fake.counts.entries()].sort()).toEqual([['crlf 0', 1], ['crlf 1', 1], ['crlf 2', 1]])
    const byId = new Map<string, number>()
    for await (const group of store.emulated.results('batch_crlf', 'output')) {
      for (const r of group) byId.set(JSON.parse(expandResult('batch_crlf', r.line, r.body)).custom_id, r.line)
    }
    expect(Object.fromEntries(byId)).toEqual({ 'r-0': 0, 'r-1': 1, 'r-2': 2 })
  } finally {
    await store.close()
    await fake.close()
  }
})
