// Virtual keys (issue 7 §1): with BATCHGATE_KEYS / BATCHGATE_KEYS_FILE set every dialect route
// needs a key — OpenAI `Authorization: Bearer`, Anthropic `x-api-key` or Bearer — and a missing or
// wrong one is a 401 in the caller's dialect, decided before the body is read. Without keys the
// gateway is open and says so at start.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveTenant } from '../../src/auth'
import type { Dialect } from '../../src/core/provider-name'
import { call, expectError, KEYS, multipart, startWorld, upstreamRequests, type World } from './world'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-keys-'))
const CAROL = 'bg-carol-from-the-keys-file'
// Many keys, as a keys file is meant for: lookup must stay one probe, not a scan.
const MANY = Array.from({ length: 5000 }, (_, i) => `tenant${i}=bg-generated-key-${String(i).padStart(6, '0')}`)
const keysFile = join(dir, 'keys')
writeFileSync(keysFile, ['# one tenant=secret per line', '', `carol=${CAROL}`, ...MANY].join('\n'))

let world: World
beforeAll(async () => {
  world = await startWorld({ BATCHGATE_KEYS_FILE: keysFile })
})
afterAll(async () => {
  await world.close()
  rmSync(dir, { recursive: true, force: true })
})

const unauthenticated = (dialect: Dialect) => ({
  status: 401,
  type: dialect === 'openai' ? 'invalid_request_error' : 'authentication_error',
})

const ROUTES: Array<[Dialect, string, string]> = [
  ['openai', 'GET', '/openai/v1/files'],
  ['openai', 'GET', '/openai/files/file-x/content'],
  ['openai', 'POST', '/openai/v1/batches'],
  ['openai', 'POST', '/openai/v1/batches/batch_x/cancel'],
  ['openai', 'DELETE', '/openai/v1/files/file-x'],
  ['anthropic', 'GET', '/anthropic/v1/files'],
  ['anthropic', 'POST', '/anthropic/v1/messages/batches'],
  ['anthropic', 'GET', '/anthropic/v1/messages/batches/msgbatch_x/results'],
  ['anthropic', 'DELETE', '/anthropic/v1/messages/batches/msgbatch_x'],
]

const sameLengthWrong = `${KEYS.alice.slice(0, -1)}${KEYS.alice.endsWith('0') ? '1' : '0'}`

describe('a missing or wrong key is a 401 in the caller dialect', () => {
  const cases: Array<[string, { key: string | null; keyHeader?: 'bearer' | 'x-api-key'; headers?: Record<string, string> }]> = [
    ['no key', { key: null }],
    ['an unknown key', { key: 'bg-nobody-0000000000' }],
    ['a key differing in its last character', { key: sameLengthWrong }],
    ['a key with a prefix of a real one', { key: KEYS.alice.slice(0, 8) }],
    ['an empty Bearer', { key: null, headers: { authorization: 'Bearer ' } }],
    ['Basic auth', { key: null, headers: { authorization: `Basic ${btoa(`alice:${KEYS.alice}`)}` } }],
    ['the key in the query string', { key: null, headers: {} }],
  ]
  for (const [dialect, method, path] of ROUTES) {
    test(`${dialect} ${method} ${path}`, async () => {
      for (const [name, init] of cases) {
        const url = name === 'the key in the query string' ? `${path}?key=${KEYS.alice}&api_key=${KEYS.alice}` : path
        const reply = await call(world.gw.url, url, { method, ...init })
        expectError(dialect, reply, unauthenticated(dialect))
        expect(reply.text, name).not.toContain(KEYS.alice)
      }
    })
  }

  test('the OpenAI dialect does not take x-api-key (its SDK only sends Bearer)', async () => {
    expectError('openai', await call(world.gw.url, '/openai/v1/files', { key: KEYS.alice, keyHeader: 'x-api-key' }), unauthenticated('openai'))
  })

  test('unknown routes under a dialect are 401 too: the route map is not shown to strangers', async () => {
    expectError('anthropic', await call(world.gw.url, '/anthropic/v1/nope', { key: null }), unauthenticated('anthropic'))
    expect((await call(world.gw.url, '/anthropic/v1/nope')).status).toBe(404)
  })
})

describe('the right key is accepted', () => {
  test('OpenAI Bearer; Anthropic x-api-key and Bearer; a key from the keys file', async () => {
    expect((await call(world.gw.url, '/openai/v1/files', { key: KEYS.alice })).status).toBe(200)
    expect((await call(world.gw.url, '/anthropic/v1/files', { key: KEYS.bob, keyHeader: 'x-api-key' })).status).toBe(200)
    expect((await call(world.gw.url, '/anthropic/v1/files', { key: KEYS.bob, keyHeader: 'bearer' })).status).toBe(200)
    expect((await call(world.gw.url, '/openai/v1/batches', { key: CAROL })).status).toBe(200)
    expect((await call(world.gw.url, '/openai/v1/batches', { key: 'bg-generated-key-004999' })).status).toBe(200)
  })

  test('/health and /openapi.json need no key', async () => {
    expect((await call(world.gw.url, '/health', { key: null })).status).toBe(200)
    expect((await call(world.gw.url, '/openapi.json', { key: null })).status).toBe(200)
  })

  test('resolveTenant maps each key to its tenant, and the scheme word is case-insensitive', () => {
    const keys = new Map([
      [KEYS.alice, 'alice'],
      [KEYS.bob, 'bob'],
    ])
    expect(resolveTenant(keys, new Headers({ authorization: `bearer ${KEYS.bob}` }), 'openai')).toBe('bob')
    expect(resolveTenant(keys, new Headers({ 'x-api-key': KEYS.alice }), 'anthropic')).toBe('alice')
    // x-api-key wins over Bearer in the Anthropic dialect, as Anthropic's SDK 0.x sends it.
    expect(resolveTenant(keys, new Headers({ 'x-api-key': KEYS.alice, authorization: `Bearer ${KEYS.bob}` }), 'anthropic')).toBe('alice')
    expect(resolveTenant(null, new Headers(), 'openai')).toBe('default')
  })
})

describe('the key is checked before the body is read', () => {
  test('an unauthenticated broken or oversized body is a 401, not a 400 or 413', async () => {
    const junk = await call(world.gw.url, '/openai/v1/batches', { key: null, body: '{not json', headers: { 'content-type': 'application/json' } })
    expectError('openai', junk, unauthenticated('openai'))
    const form = multipart([{ name: 'file', value: 'x'.repeat(256 * 1024), filename: 'a.txt' }])
    const upload = await call(world.gw.url, '/anthropic/v1/files', { key: 'bg-wrong-key-123', body: form.body, headers: form.headers })
    expectError('anthropic', upload, unauthenticated('anthropic'))
    expect(readdirSync(join(world.gw.dataDir, 'spool'))).toEqual([])
  })

  test('refused calls reach no provider', async () => {
    const before = upstreamRequests(world.fakes)
    await call(world.gw.url, '/anthropic/v1/messages/batches', { key: null, json: { requests: [] } })
    await call(world.gw.url, '/openai/v1/batches/batch_x/cancel', { key: 'bg-wrong-key-123', method: 'POST' })
    expect(upstreamRequests(world.fakes)).toEqual(before)
  })
})

describe('an open gateway', () => {
  test('takes calls without a key, as tenant default, and warns at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'batchgate-open-'))
    const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
      cwd: join(import.meta.dir, '../..'),
      env: { PATH: process.env.PATH, BATCHGATE_DATA_DIR: dataDir, BATCHGATE_HOST: '127.0.0.1', BATCHGATE_PORT: '0' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const stdout = await firstLine(proc.stdout)
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]
      expect(stdout).toContain('OPEN')
      const stderr = await firstLine(proc.stderr)
      expect(JSON.parse(stderr)).toMatchObject({ level: 'warn', msg: expect.stringContaining('BATCHGATE_KEYS is not set') })
      const reply = await call(`http://127.0.0.1:${port}`, '/openai/v1/files', { key: null })
      expect(reply.status).toBe(200)
    } finally {
      proc.kill()
      await proc.exited
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { done, value } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return text.split('\n')[0] as string
}
