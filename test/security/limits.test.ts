// Limits (issue 7 §4): upload bytes per provider, JSONL line bytes, requests per batch per
// provider, inline requests and JSON body bytes. Each is met before anything goes upstream and
// answered with 413 in the caller's dialect, naming the limit; nothing is left in the spool.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import type { Dialect } from '../../src/core/provider-name'
import { batchItem, batchLine, call, expectError, leftovers, MODELS, multipart, type Reply, startWorld, upstreamRequests, type World } from './world'

const MiB = 1024 * 1024

describe('defaults', () => {
  test('are the spec limits table, and the caps only ever lower them', () => {
    const all = { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', GEMINI_API_KEY: 'k', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }
    const perProvider = (env: Record<string, string>, key: 'maxUploadBytes' | 'maxBatchRequests') =>
      Object.fromEntries([...loadConfig({ ...all, ...env }).providers].map(([name, i]) => [name, i.limits[key]]))
    expect(loadConfig({}).limits).toEqual({ maxLineBytes: 10 * MiB, maxInlineRequests: 100_000, maxJsonBodyBytes: 256 * MiB })
    expect(perProvider({}, 'maxUploadBytes')).toEqual({ openai: 512 * MiB, anthropic: 500 * MiB, gemini: 2048 * MiB, bedrock: 5120 * MiB })
    expect(perProvider({}, 'maxBatchRequests')).toEqual({ openai: 50_000, anthropic: 100_000, gemini: 1_000_000, bedrock: 1_000_000 })
    const caps = { BATCHGATE_MAX_UPLOAD_BYTES: String(1024 * MiB), BATCHGATE_MAX_BATCH_REQUESTS: '75000' }
    expect(perProvider(caps, 'maxUploadBytes')).toEqual({ openai: 512 * MiB, anthropic: 500 * MiB, gemini: 1024 * MiB, bedrock: 1024 * MiB })
    expect(perProvider(caps, 'maxBatchRequests')).toEqual({ openai: 50_000, anthropic: 75_000, gemini: 75_000, bedrock: 75_000 })
  })

  test('a bad cap is a start-up error naming the variable', () => {
    expect(() => loadConfig({ BATCHGATE_MAX_UPLOAD_BYTES: '-1' })).toThrow('BATCHGATE_MAX_UPLOAD_BYTES')
    expect(() => loadConfig({ BATCHGATE_MAX_BATCH_REQUESTS: 'lots' })).toThrow('BATCHGATE_MAX_BATCH_REQUESTS')
  })
})

const LIMITS = {
  BATCHGATE_MAX_UPLOAD_BYTES: '4096',
  BATCHGATE_MAX_LINE_BYTES: '1024',
  BATCHGATE_MAX_BATCH_REQUESTS: '3',
  BATCHGATE_MAX_INLINE_REQUESTS: '5',
  BATCHGATE_MAX_JSON_BODY_BYTES: '4096',
}

let world: World
let before: Record<string, number>

beforeAll(async () => {
  world = await startWorld(LIMITS)
  before = upstreamRequests(world.fakes)
})
afterAll(async () => {
  await world.close()
})

const line = (id: string, prompt = 'hi') => batchLine(id, { prompt })
const item = (id: string) => batchItem(id)

function upload(dialect: Dialect, content: string, fields: Record<string, string> = {}, query = '') {
  const parts = [
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
    { name: 'file', value: content, filename: 'in.jsonl' },
  ]
  const form = multipart(dialect === 'openai' ? [{ name: 'purpose', value: 'batch' }, ...parts] : parts)
  return call(world.gw.url, `/${dialect}/v1/files${query}`, { body: form.body, headers: form.headers })
}

const tooLarge = (dialect: Dialect, names: string) => ({
  status: 413,
  type: dialect === 'openai' ? 'invalid_request_error' : 'request_too_large',
  names,
})

function expectLimit(dialect: Dialect, reply: Reply, names: string) {
  expectError(dialect, reply, tooLarge(dialect, names))
  if (dialect === 'openai') expect((reply.json as { error: { code: string } }).error.code).toMatch(/limit_exceeded|line_too_long/)
}

describe('each limit is a 413 naming it, before anything goes upstream', () => {
  const big = `${line('a', 'x'.repeat(900))}\n`.repeat(5)

  test('upload bytes: OpenAI dialect, provider in a form field after the file', async () => {
    expectLimit('openai', await upload('openai', big, { provider: 'gemini' }), '4096')
  })

  test('upload bytes: OpenAI dialect, provider in the query (cut while streaming)', async () => {
    expectLimit('openai', await upload('openai', big, {}, '?provider=openai'), '4096')
  })

  test('upload bytes: Anthropic dialect', async () => {
    expectLimit('anthropic', await upload('anthropic', 'x'.repeat(5000)), '4096')
  })

  test('line bytes: the line is named', async () => {
    const reply = await upload('openai', `${line('a')}\n${line('b', 'y'.repeat(1100))}\n`)
    expectLimit('openai', reply, 'line 2')
    expect(reply.text).toContain('1024')
  })

  test('requests per batch, uploaded file', async () => {
    const reply = await upload('openai', ['a', 'b', 'c', 'd'].map((id) => line(id)).join('\n'))
    expectLimit('openai', reply, 'at most 3')
  })

  for (const provider of ['anthropic', 'openai', 'gemini'] as const) {
    test(`requests per batch, inline requests for ${provider}`, async () => {
      const model = MODELS[provider]
      const requests = ['a', 'b', 'c', 'd'].map((id) => ({ ...item(id), params: { ...item(id).params, model } }))
      const reply = await call(world.gw.url, '/anthropic/v1/messages/batches', {
        json: { requests },
        headers: { 'x-model-provider': provider },
      })
      expectLimit('anthropic', reply, 'at most 3')
    })
  }

  test('inline requests, both dialects', async () => {
    const requests = ['a', 'b', 'c', 'd', 'e', 'f'].map(item)
    expectLimit('anthropic', await call(world.gw.url, '/anthropic/v1/messages/batches', { json: { requests } }), 'BATCHGATE_MAX_INLINE_REQUESTS')
    const reply = await call(world.gw.url, '/openai/v1/batches', {
      json: { input_file_id: '', endpoint: '/v1/chat/completions', completion_window: '24h', provider: 'anthropic', requests },
    })
    expectLimit('openai', reply, 'requests')
  })

  test('JSON body bytes, declared by Content-Length', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => item(`r${i}`))
    const body = JSON.stringify({ requests })
    expect(body.length).toBeGreaterThan(4096)
    expectLimit('anthropic', await call(world.gw.url, '/anthropic/v1/messages/batches', { json: { requests } }), 'BATCHGATE_MAX_JSON_BODY_BYTES')
    const reply = await call(world.gw.url, '/openai/v1/batches', {
      json: { input_file_id: 'x'.repeat(5000), endpoint: '/v1/chat/completions', completion_window: '24h' },
    })
    expectLimit('openai', reply, 'BATCHGATE_MAX_JSON_BODY_BYTES')
  })

  test('JSON body bytes, chunked with no Content-Length: reading stops at the limit', async () => {
    let sent = 0
    const chunk = new TextEncoder().encode(`{"requests":[${'{"custom_id":"a"},'.repeat(60)}`)
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Up to 1 MiB unless the gateway stops reading first.
        if (sent > MiB) return controller.close()
        sent += chunk.byteLength
        controller.enqueue(chunk)
      },
    })
    const res = await fetch(`${world.gw.url}/anthropic/v1/messages/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'bg-alice-5f0c9e21d7a4' },
      body,
      duplex: 'half',
    } as RequestInit)
    const text = await res.text()
    expectLimit('anthropic', { status: res.status, text, json: JSON.parse(text) }, 'BATCHGATE_MAX_JSON_BODY_BYTES')
  })

  test('afterwards: nothing went upstream, nothing was stored, the spool is empty', () => {
    expect(upstreamRequests(world.fakes)).toEqual(before)
    expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
    expect(world.gw.store.db.query('SELECT id FROM files UNION ALL SELECT id FROM batches').all()).toEqual([])
  })
})

describe('just under each limit is accepted', () => {
  test('three requests, a 1000-byte line, a 4 KiB JSON body', async () => {
    const three = ['a', 'b', 'c'].map((id) => line(id)).join('\n')
    expect((await upload('openai', three)).status).toBe(200)
    const long = line('l', 'z'.repeat(1024 - line('l', '').length))
    expect(Buffer.byteLength(long)).toBe(1024)
    expect((await upload('openai', `${long}\n`)).status).toBe(200)
    const reply = await call(world.gw.url, '/anthropic/v1/messages/batches', { json: { requests: ['a', 'b', 'c'].map(item) } })
    expect(reply.status, reply.text).toBe(200)
  })
})
