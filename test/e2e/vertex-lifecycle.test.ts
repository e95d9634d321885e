// The vertex kind beyond the seed: a job cancelled while running keeps the rows it ran, a job that
// fails upstream fails the batch with its error, predictions split over several files, a 503 on
// a job read is retried and counted, a create interrupted by a crash is adopted at the next start,
// and one tenant's vertex batches are not another's.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { mintId } from '../../src/core/ids'
import { scrape, series } from '../ops/scrape'
import { type ConfigWorld, createInterruptedByCrash } from './config-world'
import { chatLine, errorOf, expectTenantsApart, jsonl, pollToEnd, readResults, uploadBatchFile } from './openai-seed'
import { closeFakes, type Fakes, MODEL, startFakes, vertexWorld } from './vertex-world'

const lastJob = (f: Fakes) => [...f.us.jobs.jobs.values()].at(-1)

describe('vertex job lifecycle through the OpenAI SDK', () => {
  let f: Fakes
  let world: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    // Two rows per predictions file: results must be read from every file under the directory.
    f = await startFakes({ rowsPerFile: 2 })
    world = await vertexWorld(f, { BATCHGATE_UPSTREAM_RETRIES: '2' })
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await closeFakes(f)
  })

  const upload = (...prompts: string[]) => uploadBatchFile(client, jsonl(...prompts.map((p, i) => chatLine(`r-${i + 1}`, p, MODEL))), { provider: 'vertex' })
  const create = (fileId: string) => client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' })

  test('predictions over several files are all read; every row maps back by key', async () => {
    const file = await upload('one', 'two', 'three', 'FAIL four', 'five')
    const { batch } = await pollToEnd(client, (await create(file.id)).id)
    expect(batch.status).toBe('completed')
    const dir = lastJob(f)?.outputDir as string
    const files = [...(f.us.gcs.buckets.get('acme-batches')?.keys() ?? [])].filter((n) => n.startsWith(dir.replace('gs://acme-batches/', '')))
    expect(files.length).toBe(3)
    expect(batch.request_counts).toEqual({ total: 5, completed: 4, failed: 1 })
    const { answers, errors } = await readResults(client, batch)
    expect(answers).toEqual({ 'r-1': 'Reply to: one', 'r-2': 'Reply to: two', 'r-3': 'Reply to: three', 'r-5': 'Reply to: five' })
    expect(Object.keys(errors)).toEqual(['r-4'])
  })

  test('an upload larger than a chunk goes up while it is converted, chunk by chunk, and runs', async () => {
    // ~10 MiB of OpenAI lines: more than one 8 MiB chunk of converted Gemini lines.
    const pad = 'x'.repeat(4000)
    const lines = Array.from({ length: 2600 }, (_, i) => chatLine(`big-${i}`, `${i} ${pad}`, MODEL))
    const seen = f.us.requests.length
    const file = await uploadBatchFile(client, jsonl(...lines), { provider: 'vertex' })
    const ranges = f.us.requests.slice(seen).map((r) => r.headers['content-range']).filter(Boolean)
    // The first chunk went up before the converter knew the size; the last one names it.
    expect(ranges[0]).toBe(`bytes 0-${8 * 1024 * 1024 - 1}/*`)
    expect(ranges.at(-1)).toMatch(/^bytes \d+-\d+\/\d+$/)
    const { batch } = await pollToEnd(client, (await create(file.id)).id)
    expect(batch.request_counts).toEqual({ total: 2600, completed: 2600, failed: 0 })
  })

  test('cancelled while running: the rows it ran are results, the others batch_cancelled', async () => {
    f.us.autoAdvance = false
    try {
      const file = await upload('first', 'second', 'third')
      const created = await create(file.id)
      const job = lastJob(f)
      if (!job) throw new Error('no job')
      f.us.jobs.advance(job)
      f.us.jobs.advance(job)
      expect(job.state).toBe('JOB_STATE_RUNNING')
      expect((await client.batches.cancel(created.id)).status).toBe('cancelling')
    } finally {
      f.us.autoAdvance = true
    }
    const { batch } = await pollToEnd(client, (await client.batches.list()).data[0]?.id as string)
    expect(batch.status).toBe('cancelled')
    expect(batch.request_counts).toEqual({ total: 3, completed: 1, failed: 2 })
    const { answers, errors } = await readResults(client, batch)
    expect(answers).toEqual({ 'r-1': 'Reply to: first' })
    expect(errors).toEqual({ 'r-2': { status_code: null, code: 'batch_cancelled' }, 'r-3': { status_code: null, code: 'batch_cancelled' } })
  })

  test('a job that fails upstream fails the batch with its error', async () => {
    const file = await upload('lost')
    f.us.autoAdvance = false
    const created = await create(file.id)
    // The input object disappears before the job reads it (a lifecycle rule, an operator).
    const job = lastJob(f)
    f.us.gcs.buckets.get('acme-batches')?.delete(job?.inputUri.replace('gs://acme-batches/', '') as string)
    f.us.autoAdvance = true
    const { batch } = await pollToEnd(client, created.id)
    expect(batch.status).toBe('failed')
    expect(batch.errors?.data?.[0]?.message).toContain('Failed to read the input file')
    expect(batch.errors?.data?.[0]?.code).toBe('invalid_argument')
  })

  test('a partner model (other input lines than Gemini) is refused before anything reaches Vertex', async () => {
    const file = await upload('x')
    const jobs = f.us.jobs.jobs.size
    const err = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'publishers/meta/models/llama-3.3-70b-instruct-maas' } as never))
    expect(err.status).toBe(400)
    expect(err.message).toContain('vertex instances run Gemini models')
    expect(f.us.jobs.jobs.size).toBe(jobs)
  })

  test('a 503 on a job read is retried, counted per instance and operation, and never seen by the client', async () => {
    const file = await upload('retry me')
    f.us.autoAdvance = false
    try {
      const created = await create(file.id)
      const name = lastJob(f)?.name as string
      f.us.faults.add({ status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } }, match: (r, u) => r.method === 'GET' && u.pathname === `/v1/${name}` })
      const reads = () => f.us.requests.filter((r) => r.method === 'GET' && r.path === `/v1/${name}`).length
      const before = reads()
      const key = series('batchgate_upstream_retries_total', { provider: 'vertex', operation: 'get_batch' })
      const retried = (await scrape(world.gw.url)).get(key) ?? 0
      expect((await client.batches.retrieve(created.id)).status).toBe('validating')
      expect(reads()).toBe(before + 2)
      expect((await scrape(world.gw.url)).get(key)).toBe(retried + 1)
    } finally {
      f.us.autoAdvance = true
    }
  })
})

describe('vertex: a create interrupted by a crash', () => {
  test('the job named after the gateway id is adopted at the next start and answers under that id', async () => {
    const f = await startFakes()
    const world = await vertexWorld(f)
    try {
      const c = new OpenAI({ baseURL: `${world.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const file = await uploadBatchFile(c, jsonl(chatLine('c-1', 'one', MODEL), chatLine('c-2', 'two', MODEL)), { provider: 'vertex-eu' })
      const stored = await world.gw.store.files.get(file.id, 'default')
      if (stored?.location.kind !== 'upstream') throw new Error('not an upstream file')
      const id = mintId('openaiBatch')
      const input = { kind: 'file' as const, location: stored.location }
      const { made, client: after } = await createInterruptedByCrash(world, { id, provider: 'vertex-eu', model: MODEL, requests: 2, input, inputFileId: file.id })

      expect((await world.gw.store.batches.get(id, 'default'))?.snapshot.upstreamId).toBe(made.upstreamId)
      const { batch } = await pollToEnd(after, id)
      expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
      expect(f.eu.jobs.jobs.size).toBe(1)
    } finally {
      await world.close()
      await closeFakes(f)
    }
  })
})

describe('tenants on a vertex instance', () => {
  test("one tenant's batches and files are not another's", async () => {
    const f = await startFakes()
    const world = await vertexWorld(f, { BATCHGATE_KEYS: 'alpha=key-alpha,beta=key-beta' })
    try {
      await expectTenantsApart(world.gw.url, 'vertex', MODEL)
      expect(f.us.jobs.jobs.size).toBe(1)
    } finally {
      await world.close()
      await closeFakes(f)
    }
  })
})
