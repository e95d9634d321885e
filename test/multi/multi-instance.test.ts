// Several gateway processes on one PostgreSQL (a real server the tests start) with blobs in the
// S3 fake: every SDK call goes to the next instance in turn, instances are killed with SIGKILL
// in the middle of an upload and of a create, and the survivors must finish what the dead one
// left — exactly once, never while its owner is still alive — and page lists stay stable while
// instances come and go.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { SQL } from 'bun'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { sharedPostgres } from '../pg/server'
import { type SpawnedGateway, spawnGateway, waitFor } from '../resilience/spawned-gateway'

const TTL_MS = 1500
const CLAUDE = 'claude-3-haiku-20240307'
const GEMINI = 'gemini-2.0-flash'
const BEDROCK = 'anthropic.claude-3-haiku-20240307-v1:0'

let fakes: AllFakes
let dbUrl: string
let db: SQL
let env: Record<string, string>
const dirs: string[] = []
const live: SpawnedGateway[] = []

const chatLine = (id: string, model = 'gpt-4o-mini', prompt = `prompt ${id}`) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: prompt }], max_tokens: 20 } })
const item = (id: string) => ({ custom_id: id, params: { model: CLAUDE, max_tokens: 20, messages: [{ role: 'user' as const, content: `hi ${id}` }] } })

async function spawn(): Promise<SpawnedGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'batchgate-multi-'))
  dirs.push(dataDir)
  const gw = await spawnGateway({ ...env, BATCHGATE_DATA_DIR: dataDir })
  live.push(gw)
  return gw
}

async function kill9(gw: SpawnedGateway): Promise<void> {
  live.splice(live.indexOf(gw), 1)
  gw.proc.kill('SIGKILL')
  await gw.exited
}

/** Sends each call to the next live instance, whatever host the SDK meant. */
const served = new Map<string, number>()
function roundRobin(): typeof fetch {
  let next = 0
  return ((input: string | URL | Request, init?: RequestInit) => {
    const target = live[next++ % live.length]
    if (!target) throw new Error('no live instance')
    const url = new URL(input instanceof Request ? input.url : String(input))
    const to = new URL(target.url)
    url.host = to.host
    served.set(target.url, (served.get(target.url) ?? 0) + 1)
    return fetch(url, input instanceof Request ? new Request(url.href, input) : init)
  }) as typeof fetch
}

const openai = () => new OpenAI({ baseURL: 'http://gateway.invalid/openai', apiKey: 'open', maxRetries: 0, fetch: roundRobin() })
const anthropic = () => new Anthropic({ baseURL: 'http://gateway.invalid/anthropic', apiKey: 'open', maxRetries: 0, fetch: roundRobin() })

async function upload(client: OpenAI, content: string, extra: Record<string, unknown> = {}) {
  return client.files.create({ file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: 'batch', ...extra } as never)
}

async function pollOpenAI(client: OpenAI, id: string) {
  for (let i = 0; i < 60; i++) {
    const b = await client.batches.retrieve(id)
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return b
    await Bun.sleep(20)
  }
  throw new Error(`batch ${id} did not end`)
}

beforeAll(async () => {
  fakes = startAllFakes()
  dbUrl = await (await sharedPostgres()).freshDatabase('multi')
  db = new SQL(dbUrl, { max: 2 })
  env = {
    ...fakes.env,
    BATCHGATE_DATABASE_URL: dbUrl,
    BATCHGATE_BLOB_URL: `s3://${TEST_BUCKET}/gateway-blobs`,
    BATCHGATE_LEASE_TTL_MS: String(TTL_MS),
    BATCHGATE_UPSTREAM_RETRIES: '0',
    // A dead instance's held upstream call may land this long after it started (see the kill tests).
    BATCHGATE_UPSTREAM_TIMEOUT_MS: '5000',
  }
  await Promise.all([spawn(), spawn(), spawn()])
}, 30_000)

afterAll(async () => {
  for (const gw of [...live]) {
    gw.proc.kill('SIGTERM')
    await gw.exited
  }
  await db?.close()
  await fakes?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('three instances on one PostgreSQL', () => {
  test('seed workflows through both SDKs, every call answered by the next instance', async () => {
    const oa = openai()
    served.clear()
    // Kept by the gateway (Anthropic has no input files): the bytes go to the bucket, so the
    // instance that creates the batch can read what another one stored.
    const kept = await upload(oa, `${chatLine('k1', CLAUDE, 'first')}\n${chatLine('k2', CLAUDE, 'FAIL second')}\n`, { provider: 'anthropic' })
    expect(await (await oa.files.content(kept.id)).text()).toContain('"custom_id":"k1"')
    const viaAnthropic = await oa.batches.create({ input_file_id: kept.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const ended = await pollOpenAI(oa, viaAnthropic.id)
    expect(ended.status).toBe('completed')
    const out = await (await oa.files.content(ended.output_file_id as string)).text()
    expect(out).toContain('Reply to: first')
    expect(await (await oa.files.content(ended.error_file_id as string)).text()).toContain('"custom_id":"k2"')

    // OpenAI to OpenAI, and Gemini (converted input; custom_ids kept in the bucket).
    const file = await upload(oa, `${chatLine('o1')}\n`)
    const direct = await pollOpenAI(oa, (await oa.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(direct.request_counts).toEqual({ total: 1, completed: 1, failed: 0 })
    const gfile = await upload(oa, `${chatLine('g1', GEMINI)}\n${chatLine('g2', GEMINI)}\n`, { provider: 'gemini' })
    const gem = await pollOpenAI(oa, (await oa.batches.create({ input_file_id: gfile.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: GEMINI } as never)).id)
    expect(gem.request_counts?.completed).toBe(2)
    expect((await oa.files.list()).data.map((f) => f.id)).toEqual(expect.arrayContaining([kept.id, file.id, gfile.id]))
    // A kept file no batch uses is deleted with its bucket object, whichever instance is asked.
    const spare = await upload(oa, `${chatLine('s1', CLAUDE)}\n`, { provider: 'anthropic' })
    expect(fakes.s3.hasObject(TEST_BUCKET, `gateway-blobs/${spare.id}.jsonl`)).toBe(true)
    expect((await oa.files.delete(spare.id)).deleted).toBe(true)
    expect(fakes.s3.hasObject(TEST_BUCKET, `gateway-blobs/${spare.id}.jsonl`)).toBe(false)

    // The Anthropic SDK seed: inline requests, poll, results, list.
    const an = anthropic()
    const created = await an.messages.batches.create({ requests: [item('a1'), item('a2')] })
    let batch = created
    for (let i = 0; i < 60 && batch.processing_status !== 'ended'; i++) batch = await an.messages.batches.retrieve(created.id)
    expect(batch.processing_status).toBe('ended')
    const results: string[] = []
    for await (const line of await an.messages.batches.results(created.id)) results.push(`${line.custom_id}:${line.result.type}`)
    expect(results.sort()).toEqual(['a1:succeeded', 'a2:succeeded'])
    const listed: string[] = []
    for await (const b of an.messages.batches.list({ limit: 1 })) listed.push(b.id)
    expect(listed).toContain(created.id)
    // Every instance took part.
    expect([...served.values()].filter((n) => n >= 3).length).toBe(3)
  }, 30_000)

  test('Uploads API: create on A, parts on B and C, complete on A: a normal file whose batch completes', async () => {
    while (live.length < 3) await spawn()
    const [a, b, c] = live.slice(0, 3).map((gw) => new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })) as [OpenAI, OpenAI, OpenAI]
    const lines = ['u1', 'u2', 'u3', 'u4'].map((id) => `${chatLine(id, CLAUDE, `upload ${id}`)}\n`)
    const input = lines.join('')
    const created = await a.uploads.create({ filename: 'multi.jsonl', purpose: 'batch', bytes: Buffer.byteLength(input), mime_type: 'application/jsonl', provider: 'anthropic' } as never)
    // Sent out of order and to different instances; part_ids alone gives the order.
    const p3 = await b.uploads.parts.create(created.id, { data: await toFile(Buffer.from(lines.slice(2).join("")), 'p3') })
    const p1 = await c.uploads.parts.create(created.id, { data: await toFile(Buffer.from(lines[0] as string), 'p1') })
    const p2 = await b.uploads.parts.create(created.id, { data: await toFile(Buffer.from(lines[1] as string), 'p2') })
    for (const part of [p1, p2, p3]) expect(fakes.s3.hasObject(TEST_BUCKET, `gateway-blobs/${part.id}.part`)).toBe(true)

    const md5 = new Bun.CryptoHasher('md5').update(input).digest('hex')
    const done = await a.uploads.complete(created.id, { part_ids: [p1.id, p2.id, p3.id], md5 })
    expect(done.status).toBe('completed')
    const fileId = done.file?.id as string
    expect(fileId).toMatch(/^file-/)
    // The parts are gone from the bucket; the file is an ordinary one on every instance.
    for (const part of [p1, p2, p3]) expect(fakes.s3.hasObject(TEST_BUCKET, `gateway-blobs/${part.id}.part`)).toBe(false)
    expect(await (await c.files.content(fileId)).text()).toBe(input)
    const late = await b.uploads.parts.create(created.id, { data: await toFile(Buffer.from('x'), 'late') }).catch((e: unknown) => e)
    expect((late as { status?: number }).status).toBe(400)

    const batch = await pollOpenAI(openai(), (await b.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(batch.status).toBe('completed')
    expect(batch.request_counts).toEqual({ total: 4, completed: 4, failed: 0 })
    const out = await (await a.files.content(batch.output_file_id as string)).text()
    for (const id of ['u1', 'u2', 'u3', 'u4']) expect(out).toContain(`"custom_id":"${id}"`)
  })

  test('64 concurrent creates spread over the instances: 64 batches, each made upstream once', async () => {
    const an = anthropic()
    const before = fakes.anthropic.batches.size
    const made = await Promise.all(Array.from({ length: 64 }, (_, i) => an.messages.batches.create({ requests: [item(`c${i}`)] })))
    const ids = made.map((b) => b.id)
    expect(new Set(ids).size).toBe(64)
    expect(fakes.anthropic.batches.size - before).toBe(64)
    const rows = await db.unsafe(`SELECT COUNT(*)::int AS n FROM batches WHERE id = ANY($1) AND state = 'ready'`, [ids])
    expect(rows[0].n).toBe(64)
  }, 30_000)

  test('pagination is stable while instances come and go', async () => {
    const oa = openai()
    const file = await upload(oa, `${chatLine('p1')}\n`)
    const created: string[] = []
    for (let i = 0; i < 12; i++) {
      created.push((await oa.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    }
    const all: string[] = []
    for await (const b of oa.batches.list({ limit: 100 })) all.push(b.id)
    const seen: string[] = []
    let page = await oa.batches.list({ limit: 5 })
    let step = 0
    for (;;) {
      seen.push(...page.data.map((b) => b.id))
      // One instance leaves and a new one joins while the walk goes on.
      if (step === 1) await kill9(live[0] as SpawnedGateway)
      if (step === 2) await spawn()
      step++
      if (!page.hasNextPage()) break
      page = await page.getNextPage()
    }
    expect(seen).toEqual(all)
    expect(seen).toEqual(expect.arrayContaining(created))
    expect(new Set(seen).size).toBe(seen.length)
  }, 30_000)

  test('kill -9 mid-create: a live instance adopts the batch exactly once, and only after the lease expired', async () => {
    const victim = live[0] as SpawnedGateway
    const direct = new OpenAI({ baseURL: `${victim.url}/openai`, apiKey: 'open', maxRetries: 0 })
    const file = await upload(direct, `${chatLine('h1')}\n`)
    const upstreamBefore = fakes.openai.batches.size
    // The upstream holds the create, then makes it: the victim dies before hearing back.
    fakes.openai.faults.add({ match: (req, url) => req.method === 'POST' && url.pathname === '/v1/batches', delayMs: 3000 })
    const held = direct.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e)
    let intent: { id: string; owner: string } | undefined
    await waitFor('the create intent', async () => {
      ;[intent] = await db.unsafe(`SELECT id, owner FROM batches WHERE state = 'creating'`)
      return intent !== undefined
    })
    // While its owner lives, nobody else touches it: two sweeps later it is still the victim's.
    await Bun.sleep(TTL_MS * 0.8)
    expect((await db.unsafe(`SELECT owner FROM batches WHERE id = $1`, [intent?.id]))[0].owner).toBe(intent?.owner)
    const killedAt = Date.now()
    await kill9(victim)
    expect(await held).toBeInstanceOf(Error)
    await waitFor('the held create to be made upstream', () => fakes.openai.batches.size === upstreamBefore + 1)
    await waitFor('a live instance to adopt it', async () => (await db.unsafe(`SELECT state FROM batches WHERE id = $1`, [intent?.id]))[0]?.state === 'ready', 10_000)
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(TTL_MS * 0.5)
    const adopted = await openai().batches.retrieve(intent?.id as string)
    expect(adopted.input_file_id).toBe(file.id)
    // Exactly once: one upstream batch carries the id, one row maps it, no second create was sent.
    const upstream = [...fakes.openai.batches.values()].filter((b) => b.metadata?.batchgate_id === intent?.id)
    expect(upstream.length).toBe(1)
    expect((await db.unsafe(`SELECT COUNT(*)::int AS n FROM batches WHERE upstream_id = $1`, [upstream[0]?.id]))[0].n).toBe(1)
    expect(fakes.openai.batches.size).toBe(upstreamBefore + 1)
    await spawn()
  }, 30_000)

  test('kill -9 mid-upload: a live instance removes what the upload left in S3 and drops the row', async () => {
    const victim = live[0] as SpawnedGateway
    const direct = new OpenAI({ baseURL: `${victim.url}/openai`, apiKey: 'open', maxRetries: 0 })
    fakes.s3.faults.add({ match: (req, url) => req.method === 'PUT' && url.pathname.includes('/batchgate-input/'), delayMs: 1000 })
    const held = upload(direct, `${chatLine('b1', BEDROCK)}\n`, { provider: 'bedrock' }).catch((e: unknown) => e)
    let pending: { id: string } | undefined
    await waitFor('the pending upload and its S3 PUT', async () => {
      ;[pending] = await db.unsafe(`SELECT id FROM files WHERE state = 'pending'`)
      return pending !== undefined && fakes.s3.requests.some((r) => r.method === 'PUT' && r.path.includes(`${pending?.id}`))
    })
    await kill9(victim)
    expect(await held).toBeInstanceOf(Error)
    const key = `batchgate-input/${pending?.id}.jsonl`
    await waitFor('the held object to land in S3', () => fakes.s3.hasObject(TEST_BUCKET, key))
    await waitFor('a live instance to clean it up', async () => (await db.unsafe(`SELECT id FROM files WHERE id = $1`, [pending?.id])).length === 0, 10_000)
    expect(fakes.s3.hasObject(TEST_BUCKET, key)).toBe(false)
    const gone = await openai().files.retrieve(pending?.id as string).catch((e: { status?: number }) => e.status)
    expect(gone).toBe(404)
  }, 30_000)
})
