// The store contract, run against both engines: whatever the gateway relies on (paging order,
// cursors, tenant scoping, id semantics, adoption, the intent lifecycle, claims and leases) must
// hold identically on SQLite and on PostgreSQL. PostgreSQL is a real server started by the
// tests (test/pg/server.ts).

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { UpstreamBatch } from '../../src/core/batch'
import type { StoredFile } from '../../src/core/file'
import { mintId } from '../../src/core/ids'
import { openDatabase, schemaVersion } from '../../src/store/db'
import { LocalBlobStore } from '../../src/store/local-blobs'
import { MIGRATIONS } from '../../src/store/migrations'
import type { PgDb } from '../../src/store/pg-db'
import { postgresSchemaVersion } from '../../src/store/pg-migrate'
import { openPostgresStore, openStore, type Store } from '../../src/store/store'
import { sharedPostgres } from '../pg/server'

const dirs: string[] = []
const stores: Store[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchgate-store-'))
  dirs.push(dir)
  return dir
}

afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

type Engine = 'sqlite' | 'postgres'

/** Two stores on one database: `a` and `b` act as two instances (one is enough on SQLite). */
async function open(engine: Engine, ttlMs = 30_000): Promise<{ a: Store; b: Store }> {
  if (engine === 'sqlite') {
    const a = openStore(tempDir(), ttlMs)
    stores.push(a)
    return { a, b: a }
  }
  const url = await (await sharedPostgres()).freshDatabase('contract')
  const a = await openPostgresStore(url, new LocalBlobStore(tempDir()), ttlMs)
  const b = await openPostgresStore(url, new LocalBlobStore(tempDir()), ttlMs)
  stores.push(a, b)
  return { a, b }
}

const file = (id: string, tenant: string, bytes = 1): StoredFile => ({
  id,
  tenant,
  provider: 'openai',
  dialect: 'openai',
  location: { kind: 'upstream', upstreamId: `up-${id}` },
  purpose: 'batch',
  filename: 'f.jsonl',
  bytes,
  mimeType: 'application/jsonl',
  createdAt: 1_700_000_000,
  expiresAt: null,
  facts: { format: 'openai-batch', lines: 3 },
})

const snapshot = (upstreamId: string) =>
  ({ upstreamId, status: 'in_progress', counts: { total: 1, succeeded: 0, errored: 0, canceled: 0, expired: 0, processing: 1 }, resultRefs: [] }) as unknown as UpstreamBatch

const intent = (id: string) => ({
  id,
  tenant: 't',
  provider: 'openai' as const,
  dialect: 'openai' as const,
  endpoint: '/v1/chat/completions',
  inputFileId: null,
  completionWindow: '24h',
  metadata: { k: 'v' },
  createdAt: 1_700_000_000,
  idScheme: 'identity' as const,
  intent: { requests: 2 },
})

async function seeded(store: Store, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    // Ids minted in one millisecond still sort in minting order (core/ids.ts).
    const id = mintId('openaiFile')
    ids.push(id)
    await store.files.adopt(file(id, i % 2 === 0 ? 'a' : 'b'), `key-${id}`)
  }
  return ids
}

async function walk(store: Store, tenant: string, order: 'asc' | 'desc', limit: number): Promise<string[]> {
  const seen: string[] = []
  let after: string | undefined
  for (;;) {
    const page = await store.files.list(tenant, {}, { limit, after, order })
    seen.push(...page.items.map((f) => f.id))
    if (!page.hasMore) return seen
    after = page.items.at(-1)?.id
  }
}

describe.each(['sqlite', 'postgres'] as const)('store contract on %s', (engine) => {
  test('a fresh database is migrated to the latest schema version', async () => {
    if (engine === 'sqlite') {
      expect(schemaVersion(openDatabase(':memory:'))).toBe(MIGRATIONS.length)
      return
    }
    const { a } = await open(engine)
    expect(await postgresSchemaVersion((a.sql as PgDb).raw)).toBe(MIGRATIONS.length)
  })

  test('paging walks a tenant’s rows in both orders, each exactly once, never another tenant’s', async () => {
    const { a } = await open(engine)
    const ids = await seeded(a, 11)
    const mine = ids.filter((_, i) => i % 2 === 0)
    expect(await walk(a, 'a', 'desc', 2)).toEqual([...mine].reverse())
    expect(await walk(a, 'a', 'asc', 4)).toEqual(mine)
    expect(await walk(a, 'nobody', 'desc', 2)).toEqual([])
  })

  test('a before cursor pages backwards and keeps the page in list order', async () => {
    const { a } = await open(engine)
    const ids = await seeded(a, 6)
    const mine = ids.filter((_, i) => i % 2 === 0).reverse() // [newest … oldest]
    const page = await a.files.list('a', {}, { limit: 1, before: mine[2], order: 'desc' })
    expect(page.items.map((f) => f.id)).toEqual([mine[1] as string])
    expect(page.hasMore).toBe(true)
  })

  test('ids differing only in _ and - order bytewise, as SQLite does', async () => {
    const { a } = await open(engine)
    const ids = ['file-a_b', 'file-a-c', 'file-a_a', 'file-aZ', 'file-a0']
    for (const id of ids) await a.files.adopt(file(id, 't'), `k-${id}`)
    const listed = (await a.files.list('t', {}, { limit: 10, order: 'asc' })).items.map((f) => f.id)
    expect(listed).toEqual([...ids].sort())
  })

  test('rows come back with the same types: numbers as numbers, JSON as objects', async () => {
    const { a } = await open(engine)
    const id = mintId('openaiFile')
    const big = 5 * 1024 ** 3 // above int4: Bedrock takes 5 GiB objects
    await a.files.adopt({ ...file(id, 't', big), expiresAt: 1_800_000_000 }, `k-${id}`)
    const got = await a.files.get(id, 't')
    expect(got).toEqual({ ...file(id, 't', big), expiresAt: 1_800_000_000 })
    expect(typeof got?.bytes).toBe('number')
  })

  test('adopting one upstream object from two instances at once yields one gateway id', async () => {
    const { a, b } = await open(engine)
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).files.adopt(file(mintId('openaiFile'), 't'), 'same-key')),
    )
    expect(new Set(results.map((f) => f.id)).size).toBe(1)
  })

  test('a pending upload is invisible until completed, and a pending row can be dropped', async () => {
    const { a } = await open(engine)
    const id = mintId('openaiFile')
    await a.files.recordPending({
      id,
      tenant: 't',
      provider: 'openai',
      dialect: 'openai',
      purpose: 'batch',
      filename: 'f.jsonl',
      bytes: 3,
      mimeType: 'application/jsonl',
      startedAt: 1_700_000_000,
      storage: null,
    })
    expect(await a.files.get(id, 't')).toBeNull()
    expect(await a.files.exists(id)).toBe(true)
    expect((await a.files.pendingUploads()).map((p) => [p.id, p.owner])).toEqual([[id, a.instanceId]])
    await a.files.complete(file(id, 't'))
    expect((await a.files.get(id, 't'))?.facts.lines).toBe(3)
    await a.files.dropPending(id) // never a ready row
    expect(await a.files.get(id, 't')).not.toBeNull()
    expect(await a.files.delete(id, 'other')).toBe(false)
    expect(await a.files.delete(id, 't')).toBe(true)
  })

  test('a batch intent is invisible until finalized; abandon only removes intents', async () => {
    const { a } = await open(engine)
    const id = mintId('openaiBatch')
    await a.batches.recordIntent(intent(id))
    expect(await a.batches.get(id, 't')).toBeNull()
    expect(await a.batches.pendingCreates()).toEqual([
      { id, provider: 'openai', state: 'creating', intent: { requests: 2 }, createdAt: 1_700_000_000, owner: a.instanceId },
    ])
    await a.batches.finalize(id, snapshot('up-1'))
    await a.batches.abandon(id)
    const got = await a.batches.get(id, 't')
    expect(got?.upstreamId).toBe('up-1')
    expect(got?.metadata).toEqual({ k: 'v' })
    expect(await a.batches.isMapped('openai', 'up-1')).toBe(true)
    await a.batches.markCancelRequested(id, 5)
    await a.batches.markCancelRequested(id, 9)
    expect((await a.batches.get(id, 't'))?.cancelRequestedAt).toBe(5)
    expect((await a.batches.list('t', { limit: 5, order: 'desc' })).items.map((b) => b.id)).toEqual([id])
  })

  test('of two instances claiming one orphaned intent, exactly one wins', async () => {
    const { a, b } = await open(engine)
    const id = mintId('openaiBatch')
    await a.batches.recordIntent(intent(id))
    const wins = await Promise.all([a.batches.claimIntent(id, a.instanceId, 'x'), b.batches.claimIntent(id, a.instanceId, 'y')])
    expect(wins.filter(Boolean).length).toBe(1)
  })

  test('a lease has one holder until it expires or is released', async () => {
    const { a, b } = await open(engine)
    const now = Date.now()
    expect(await a.leases.acquire('job', 1000, now)).toBe(true)
    expect(await a.leases.acquire('job', 1000, now + 10)).toBe(true) // renewal
    if (a !== b) {
      expect(await b.leases.acquire('job', 1000, now + 500)).toBe(false)
      expect(await b.leases.acquire('job', 1000, now + 1011)).toBe(true) // expired: taken over
      expect(await a.leases.holderOf('job', now + 1020)).toBe(b.instanceId)
      await b.leases.release('job')
    } else {
      await a.leases.release('job')
    }
    expect(await a.leases.holderOf('job', now + 1020)).toBeNull()
    // While a job runs under the lease, the other instance does not get it; afterwards it does.
    const inside = await a.leases.withLease('once', 5000, () => b.leases.withLease('once', 5000, async () => 'b'))
    expect(inside).toBe(a === b ? 'b' : null)
    expect(await b.leases.withLease('once', 5000, async () => 'b')).toBe('b')
  })
  test('emulated counts move with the recorded rows: duplicates never count, each run its own', async () => {
    const { a, b } = await open(engine)
    const run = (id: string) => ({ id, provider: 'local', endpoint: '/v1/chat/completions', total: 10, model: null, createdAt: 1, expiresAt: 99 })
    await a.emulated.create(run('batch_one'))
    await a.emulated.create(run('batch_two'))
    const row = (line: number, outcome: 'succeeded' | 'errored' | 'expired' | 'canceled') => ({ line, outcome, body: `{"l":${line}}` })
    await a.emulated.recordMany('batch_one', [row(0, 'succeeded'), row(1, 'succeeded'), row(2, 'errored')])
    // A repeated line (an in-flight request answered twice) keeps its first answer and counts once.
    await b.emulated.recordMany('batch_one', [row(1, 'errored'), row(3, 'expired')])
    await b.emulated.record('batch_one', row(0, 'canceled'))
    await b.emulated.record('batch_one', row(4, 'canceled'))
    await a.emulated.record('batch_two', row(0, 'errored'))
    expect(await b.emulated.counts('batch_one')).toEqual({ succeeded: 2, errored: 1, expired: 1, canceled: 1 })
    expect((await a.emulated.get('batch_one'))?.counts).toEqual({ succeeded: 2, errored: 1, expired: 1, canceled: 1 })
    expect(await a.emulated.counts('batch_two')).toEqual({ succeeded: 0, errored: 1, expired: 0, canceled: 0 })
    const output: string[] = []
    for await (const group of a.emulated.results('batch_one', 'output')) output.push(...group.map((r) => r.body))
    expect(output.sort()).toEqual(['{"l":0}', '{"l":1}'])
    expect(await a.emulated.counts('batch_missing')).toEqual({ succeeded: 0, errored: 0, expired: 0, canceled: 0 })
  })
})

describe('postgres only', () => {
  test('instances migrating one database at the same moment do not race', async () => {
    const url = await (await sharedPostgres()).freshDatabase('race')
    const opened = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url, new LocalBlobStore(tempDir()))))
    stores.push(...opened)
    expect(await postgresSchemaVersion((opened[0]?.sql as PgDb).raw)).toBe(MIGRATIONS.length)
  })

  test('an instance is live while it heartbeats, gone after the TTL or a clean close', async () => {
    const url = await (await sharedPostgres()).freshDatabase('live')
    const a = await openPostgresStore(url, new LocalBlobStore(tempDir()), 60_000)
    const b = await openPostgresStore(url, new LocalBlobStore(tempDir()), 60_000)
    stores.push(b)
    expect((await b.liveOwners()).has(a.instanceId)).toBe(true)
    expect((await b.instances.live(Date.now() + 61_000)).has(a.instanceId)).toBe(false)
    await a.close()
    expect((await b.liveOwners()).has(a.instanceId)).toBe(false)
  })
})
