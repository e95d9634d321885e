// Validate before any side effect (issue 11 class 7): every reason a batch create can be refused,
// on every provider, in both dialects, is found before the first upstream call. A refused create
// sends nothing upstream (each fake's request log is unchanged), leaves no row, spool file or blob
// behind, and lists no new file in either dialect.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Dialect, EnvProviderName as ProviderName } from '../../src/core/provider-name'
import { batchItem, batchLine, call, type ExpectedError, expectError, leftovers, MODELS, multipart, startWorld, upstreamRequests, type World } from './world'

const PROVIDERS: ProviderName[] = ['openai', 'anthropic', 'gemini', 'bedrock']
const MAX_INLINE = 5

interface Refusal {
  name: string
  dialect: Dialect
  /** Only these providers (default: all four). */
  only?: ProviderName[]
  body: (p: ProviderName, fileId: string) => unknown
  want: ExpectedError
}

const bad = (names?: string): ExpectedError => ({ status: 400, type: 'invalid_request_error', names })
const items = (n: number, model: string, other?: string) =>
  Array.from({ length: n }, (_, i) => batchItem(`r-${i}`, { params: { model: i === n - 1 && other ? other : model } }))
const otherModel: Record<ProviderName, string> = {
  openai: 'gpt-4o',
  anthropic: 'claude-3-5-haiku-20241022',
  gemini: 'gemini-1.5-flash',
  bedrock: 'anthropic.claude-3-5-haiku-20241022-v1:0',
}
const fileCreate = (fileId: string, fields: Record<string, unknown>) => ({
  input_file_id: fileId,
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
  ...fields,
})
const modelFor = (p: ProviderName) => (p === 'gemini' || p === 'bedrock' ? { model: MODELS[p] } : {})

const REFUSALS: Refusal[] = [
  // ── Anthropic dialect: inline requests, converted (and for three providers uploaded) by the gateway ──
  { name: 'requests name two models', dialect: 'anthropic', only: ['gemini', 'bedrock'], body: (p) => ({ requests: items(3, MODELS[p], otherModel[p]) }), want: bad('model') },
  { name: 'no requests', dialect: 'anthropic', body: () => ({ requests: [] }), want: bad('requests') },
  { name: 'more requests than the inline limit', dialect: 'anthropic', body: (p) => ({ requests: items(MAX_INLINE + 1, MODELS[p]) }), want: { status: 413, type: 'request_too_large' } },
  {
    name: 'a duplicate custom_id after valid requests',
    dialect: 'anthropic',
    body: (p) => ({ requests: [...items(2, MODELS[p]), batchItem('r-0', { params: { model: MODELS[p] } })] }),
    want: bad('requests.2.custom_id'),
  },
  {
    name: 'a custom_id breaking the pattern',
    dialect: 'anthropic',
    body: (p) => ({ requests: [...items(2, MODELS[p]), batchItem('has space', { params: { model: MODELS[p] } })] }),
    want: bad('custom_id'),
  },
  {
    name: 'a request without max_tokens',
    dialect: 'anthropic',
    body: (p) => ({ requests: [...items(2, MODELS[p]), { custom_id: 'last', params: { model: MODELS[p], messages: [{ role: 'user', content: 'x' }] } }] }),
    want: bad('max_tokens'),
  },
  // ── OpenAI dialect: an uploaded input file (uploaded before the counting starts) ──
  { name: 'completion_window out of range', dialect: 'openai', body: (p, id) => fileCreate(id, { ...modelFor(p), completion_window: '1000h' }), want: bad('completion_window') },
  { name: 'endpoint unlike the file’s lines', dialect: 'openai', body: (p, id) => fileCreate(id, { ...modelFor(p), endpoint: '/v1/embeddings' }), want: bad('endpoint') },
  { name: 'no model for a one-model provider', dialect: 'openai', only: ['gemini', 'bedrock'], body: (_p, id) => fileCreate(id, {}), want: bad('model') },
  { name: 'output bucket outside the allowlist', dialect: 'openai', only: ['bedrock'], body: (p, id) => fileCreate(id, { ...modelFor(p), output_s3_uri: 's3://not-allowed-bucket/out/' }), want: bad('output_s3_uri') },
  { name: 'unknown input_file_id', dialect: 'openai', body: (p) => fileCreate('file-00000000000000000000000000', modelFor(p)), want: { status: 404, type: 'invalid_request_error', names: 'input_file_id' } },
  {
    name: 'metadata with 17 keys',
    dialect: 'openai',
    body: (p, id) => fileCreate(id, { ...modelFor(p), metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }),
    want: bad('metadata'),
  },
]

let world: World
const inputFiles = new Map<ProviderName, string>()

beforeAll(async () => {
  world = await startWorld({ BATCHGATE_MAX_INLINE_REQUESTS: String(MAX_INLINE) })
  for (const p of PROVIDERS) {
    const form = multipart([
      { name: 'purpose', value: 'batch' },
      { name: 'provider', value: p },
      { name: 'file', value: `${batchLine('f-1', { model: MODELS[p] })}\n`, filename: 'in.jsonl' },
    ])
    const res = await call(world.gw.url, '/openai/v1/files', { body: form.body, headers: form.headers })
    expect(res.status, res.text).toBe(200)
    inputFiles.set(p, (res.json as { id: string }).id)
  }
})

afterAll(async () => {
  await world.close()
})

async function listedFiles(p: ProviderName): Promise<string[]> {
  const openai = await call(world.gw.url, `/openai/v1/files?provider=${p}&limit=100`)
  const anthropic = await call(world.gw.url, '/anthropic/v1/files?limit=100', { headers: { 'x-model-provider': p, 'anthropic-beta': 'files-api-2025-04-14' } })
  const ids = (r: typeof openai) => (r.json as { data: Array<{ id: string }> }).data.map((f) => f.id)
  return [...ids(openai), ...ids(anthropic)].sort()
}

describe('a refused create leaves nothing behind, locally or upstream', () => {
  for (const refusal of REFUSALS) {
    for (const p of refusal.only ?? PROVIDERS) {
      test(`${refusal.dialect} → ${p}: ${refusal.name}`, async () => {
        const before = { upstream: upstreamRequests(world.fakes), listed: await listedFiles(p) }
        const reply =
          refusal.dialect === 'openai'
            ? await call(world.gw.url, `/openai/v1/batches?provider=${p}`, { json: refusal.body(p, inputFiles.get(p) as string) })
            : await call(world.gw.url, '/anthropic/v1/messages/batches', { headers: { 'x-model-provider': p }, json: refusal.body(p, '') })
        expectError(refusal.dialect, reply, refusal.want)
        expect(upstreamRequests(world.fakes)).toEqual(before.upstream)
        expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
        expect(await listedFiles(p)).toEqual(before.listed)
        const batches = world.gw.store.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM batches').get()
        expect(batches?.n).toBe(0)
      })
    }
  }
})

describe('a create the upstream refuses takes the input the gateway made for it along', () => {
  for (const p of ['openai', 'gemini', 'bedrock'] as const) {
    test(`anthropic → ${p}: the converted input is deleted upstream and locally`, async () => {
      const filesOf = () =>
        p === 'openai' ? world.fakes.openai.countFiles() : p === 'gemini' ? world.fakes.gemini.files.size : world.fakes.s3.listKeys('batchgate-test').length
      const before = { files: filesOf(), listed: await listedFiles(p) }
      const createPath: Record<typeof p, (u: URL) => boolean> = {
        openai: (u) => u.pathname === '/v1/batches',
        gemini: (u) => u.pathname.endsWith(':batchGenerateContent'),
        bedrock: (u) => u.pathname === '/model-invocation-job',
      }
      const fake = world.fakes[p]
      fake.faults.add({
        match: (r, u) => r.method === 'POST' && createPath[p](u),
        status: 400,
        body: { error: { message: 'refused by the fake', type: 'invalid_request_error', code: 400, status: 'INVALID_ARGUMENT' } },
      })
      const reply = await call(world.gw.url, '/anthropic/v1/messages/batches', {
        headers: { 'x-model-provider': p },
        json: { requests: [batchItem('r-0', { params: { model: MODELS[p] } })] },
      })
      expect(reply.status).toBe(400)
      expect(filesOf()).toBe(before.files)
      expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
      expect(await listedFiles(p)).toEqual(before.listed)
    })
  }
})
