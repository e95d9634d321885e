// Ownership (issue 7 §2): every file and batch belongs to the tenant that created it, and result
// files to their batch's tenant. Bob gets 404 — never 403 — on every route of both dialects for
// each of Alice's ids, sees none of them in any list or through any cursor, and changes nothing
// upstream; Alice, asking the same things, is answered.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Dialect } from '../../src/core/provider-name'
import { batchItem, batchLine, call, expectError, KEYS, multipart, type Reply, startWorld, upstreamRequests, type World } from './world'

let world: World

/** Alice's objects: a batch file, an OpenAI batch with output and error files, an Anthropic file and message batch. */
const alice = { batchFile: '', outputFile: '', errorFile: '', openaiBatch: '', anthropicFile: '', messageBatch: '' }
/** Bob's own objects, so his lists have something in them. */
const bob = { file: '', messageBatch: '' }

const chatLine = (id: string, prompt: string) => batchLine(id, { prompt })
const item = (id: string) => batchItem(id, { prompt: 'hello' })

const as = (key: string) => (path: string, init: Parameters<typeof call>[2] = {}) => call(world.gw.url, path, { key, ...init })
const asAlice = as(KEYS.alice)
const asBob = as(KEYS.bob)

async function ok(reply: Promise<Reply>): Promise<Record<string, unknown>> {
  const r = await reply
  expect(r.status, r.text.slice(0, 300)).toBe(200)
  return r.json as Record<string, unknown>
}

async function uploadOpenAI(key: string, content: string, filename: string) {
  const form = multipart([
    { name: 'purpose', value: 'batch' },
    { name: 'file', value: content, filename },
  ])
  return ok(call(world.gw.url, '/openai/v1/files', { key, body: form.body, headers: form.headers }))
}

async function uploadAnthropic(key: string, content: string, filename: string) {
  const form = multipart([{ name: 'file', value: content, filename }])
  return ok(call(world.gw.url, '/anthropic/v1/files', { key, body: form.body, headers: form.headers }))
}

beforeAll(async () => {
  world = await startWorld()
  const file = await uploadOpenAI(KEYS.alice, `${chatLine('ok-1', 'hello')}\n${chatLine('bad-1', 'FAIL this')}\n`, 'alice.jsonl')
  alice.batchFile = file.id as string
  const created = await ok(asAlice('/openai/v1/batches', { json: { input_file_id: alice.batchFile, endpoint: '/v1/chat/completions', completion_window: '24h' } }))
  alice.openaiBatch = created.id as string
  let batch = created
  for (let i = 0; i < 20 && batch.status !== 'completed'; i++) batch = await ok(asAlice(`/openai/v1/batches/${alice.openaiBatch}`))
  expect(batch.status).toBe('completed')
  alice.outputFile = batch.output_file_id as string
  alice.errorFile = batch.error_file_id as string
  expect(alice.outputFile).toMatch(/^file-/)
  expect(alice.errorFile).toMatch(/^file-/)

  alice.anthropicFile = (await uploadAnthropic(KEYS.alice, 'alice notes', 'alice.txt')).id as string
  const message = await ok(asAlice('/anthropic/v1/messages/batches', { json: { requests: [item('m-1')] } }))
  alice.messageBatch = message.id as string
  let ended = message
  for (let i = 0; i < 20 && ended.processing_status !== 'ended'; i++) ended = await ok(asAlice(`/anthropic/v1/messages/batches/${alice.messageBatch}`))
  expect(ended.processing_status).toBe('ended')

  bob.file = (await uploadAnthropic(KEYS.bob, 'bob notes', 'bob.txt')).id as string
  bob.messageBatch = ((await ok(asBob('/anthropic/v1/messages/batches', { json: { requests: [item('b-1')] } }))).id as string)
})
afterAll(async () => {
  await world.close()
})

interface Route {
  dialect: Dialect
  method: string
  path: (id: string) => string
  json?: (id: string) => unknown
}

const FILE_ROUTES: Route[] = [
  { dialect: 'openai', method: 'GET', path: (id) => `/openai/v1/files/${id}` },
  { dialect: 'openai', method: 'GET', path: (id) => `/openai/files/${id}/content` },
  { dialect: 'openai', method: 'DELETE', path: (id) => `/openai/v1/files/${id}` },
  {
    dialect: 'openai',
    method: 'POST',
    path: () => '/openai/v1/batches',
    json: (id) => ({ input_file_id: id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
  },
  { dialect: 'anthropic', method: 'GET', path: (id) => `/anthropic/v1/files/${id}` },
  { dialect: 'anthropic', method: 'GET', path: (id) => `/anthropic/v1/files/${id}/content?beta=true` },
  { dialect: 'anthropic', method: 'DELETE', path: (id) => `/anthropic/v1/files/${id}` },
]

const BATCH_ROUTES: Route[] = [
  { dialect: 'openai', method: 'GET', path: (id) => `/openai/v1/batches/${id}` },
  { dialect: 'openai', method: 'POST', path: (id) => `/openai/batches/${id}/cancel` },
  { dialect: 'anthropic', method: 'GET', path: (id) => `/anthropic/v1/messages/batches/${id}` },
  { dialect: 'anthropic', method: 'POST', path: (id) => `/anthropic/v1/messages/batches/${id}/cancel` },
  { dialect: 'anthropic', method: 'DELETE', path: (id) => `/anthropic/v1/messages/batches/${id}` },
  { dialect: 'anthropic', method: 'GET', path: (id) => `/anthropic/v1/messages/batches/${id}/results` },
]

const FILES = ['batchFile', 'outputFile', 'errorFile', 'anthropicFile'] as const
const BATCHES = ['openaiBatch', 'messageBatch'] as const

const notFound = (dialect: Dialect) => ({ status: 404, type: dialect === 'openai' ? 'invalid_request_error' : 'not_found_error' })

describe("another tenant's ids are unknown ids", () => {
  const matrix: Array<[string, Route, () => string]> = [
    ...FILES.flatMap((f) => FILE_ROUTES.map((r): [string, Route, () => string] => [f, r, () => alice[f]])),
    ...BATCHES.flatMap((b) => BATCH_ROUTES.map((r): [string, Route, () => string] => [b, r, () => alice[b]])),
  ]

  test(`bob gets 404 on all ${matrix.length} route × id pairs, and nothing moves upstream`, async () => {
    const before = upstreamRequests(world.fakes)
    for (const [what, route] of matrix) {
      const id = alice[what as keyof typeof alice]
      const reply = await asBob(route.path(id), { method: route.method, json: route.json?.(id) })
      expectError(route.dialect, reply, notFound(route.dialect))
      // The 404 reads exactly like the one for an id that never existed.
      const unknown = await asBob(route.path(`${id.slice(0, -4)}zzzz`), { method: route.method, json: route.json?.(`${id.slice(0, -4)}zzzz`) })
      expect(unknown.status).toBe(404)
      expect(reply.text.replace(/req_[0-9a-f]+/, '').replace(id, 'ID')).toBe(
        unknown.text.replace(/req_[0-9a-f]+/, '').replace(`${id.slice(0, -4)}zzzz`, 'ID'),
      )
    }
    expect(upstreamRequests(world.fakes)).toEqual(before)
  })

  test('the owner is answered on the same reads (the 404 is about ownership, not the id)', async () => {
    for (const f of ['batchFile', 'outputFile', 'errorFile'] as const) {
      expect((await asAlice(`/openai/v1/files/${alice[f]}`)).status).toBe(200)
      expect((await asAlice(`/openai/v1/files/${alice[f]}/content`)).status).toBe(200)
    }
    expect((await asAlice(`/anthropic/v1/files/${alice.anthropicFile}`)).status).toBe(200)
    expect((await asAlice(`/openai/v1/batches/${alice.openaiBatch}`)).status).toBe(200)
    expect((await asAlice(`/anthropic/v1/messages/batches/${alice.messageBatch}`)).status).toBe(200)
    const results = await asAlice(`/anthropic/v1/messages/batches/${alice.messageBatch}/results`)
    expect(results.status).toBe(200)
    expect(results.text).toContain('"custom_id":"m-1"')
  })

  test("result files belong to their batch's tenant", () => {
    for (const id of [alice.outputFile, alice.errorFile]) {
      const row = world.gw.store.db.query<{ tenant: string }, [string]>('SELECT tenant FROM files WHERE id = ?').get(id)
      expect(row?.tenant).toBe('alice')
    }
  })
})

describe('lists and cursors never show another tenant', () => {
  const aliceIds = () => Object.values(alice)

  async function listed(path: string, key: string = KEYS.bob): Promise<string[]> {
    const body = await ok(call(world.gw.url, path, { key }))
    return (body.data as Array<{ id: string }>).map((o) => o.id)
  }

  test("bob's lists hold only his objects, from every cursor alice's ids could give", async () => {
    const seen = new Set<string>()
    for (const cursor of ['', ...aliceIds()]) {
      for (const path of [
        `/openai/v1/files?after=${cursor}`,
        `/openai/v1/files?order=asc&after=${cursor}`,
        `/openai/v1/batches?after=${cursor}`,
        `/anthropic/v1/files?after_id=${cursor}`,
        `/anthropic/v1/files?before_id=${cursor}`,
        `/anthropic/v1/files?page=${cursor}`,
        `/anthropic/v1/messages/batches?after_id=${cursor}`,
        `/anthropic/v1/messages/batches?before_id=${cursor}`,
      ]) {
        for (const id of await listed(cursor ? path : path.replace(/[?&][a-z_]+=$/, ''))) seen.add(id)
      }
    }
    expect([...seen].sort()).toEqual([bob.file, bob.messageBatch].sort())
  })

  test('ids[] with alice\'s ids returns none of them', async () => {
    const query = [...aliceIds(), bob.file].map((id) => `ids[]=${id}`).join('&')
    expect(await listed(`/anthropic/v1/files?${query}`)).toEqual([bob.file])
  })

  test("alice's lists still hold all of her objects (bob's deletes and cancels did nothing)", async () => {
    const files = await listed('/openai/v1/files', KEYS.alice)
    for (const id of [alice.batchFile, alice.outputFile, alice.errorFile, alice.anthropicFile]) expect(files).toContain(id)
    expect(files).not.toContain(bob.file)
    expect(await listed('/openai/v1/batches', KEYS.alice)).toContain(alice.openaiBatch)
    expect(await listed('/anthropic/v1/messages/batches', KEYS.alice)).toEqual([alice.messageBatch])
  })
})
