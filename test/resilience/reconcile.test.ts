// Start-up reconciliation per provider (issue 7 §7), in-process: a crash between recording an
// intent and hearing the upstream is reproduced by recording the intent in the store and making
// the upstream call with the adapter directly, then restarting the gateway on the same data dir.
// Bedrock and Gemini find their objects by names derived from the gateway id, OpenAI by a
// metadata tag; Anthropic, which has neither, adopts only a single unmapped batch of the same
// size inside the create's time window, and keeps an ambiguous create as `unresolved`.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { loadConfig } from '../../src/config'
import { mintId } from '../../src/core/ids'
import type { ProviderName } from '../../src/core/provider-name'
import { buildRegistry, type Registry } from '../../src/providers/registry'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET, TEST_ROLE_ARN } from '../fakes/start'
import { failure } from './api-failure'

const TENANT = 'default'
const CLAUDE = 'claude-3-haiku-20240307'
const BEDROCK_MODEL = 'anthropic.claude-3-haiku-20240307-v1:0'

let fakes: AllFakes
let gw: Gateway
let registry: Registry

/** Built per call: a restart may move the gateway to another port. */
const client = () => new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open', maxRetries: 0 })
const now = () => Math.floor(Date.now() / 1000)

async function recordIntent(provider: ProviderName, requests: number, inputFileId: string | null = null): Promise<string> {
  const id = mintId('openaiBatch')
  await gw.store.batches.recordIntent({
    id,
    tenant: TENANT,
    provider,
    dialect: 'openai',
    endpoint: '/v1/chat/completions',
    inputFileId,
    completionWindow: '24h',
    metadata: null,
    createdAt: now(),
    idScheme: provider === 'bedrock' ? 'bedrock-escaped' : 'identity',
    intent: { model: null, requests },
  })
  return id
}

/** What the interrupted create sent: the adapter's own create, under the intent's gateway id. */
async function createAnthropicUpstream(gatewayId: string, requests: number): Promise<string> {
  const path = join(gw.dataDir, `${gatewayId}.items.jsonl`)
  const items = Array.from({ length: requests }, (_, i) => ({
    custom_id: `r${i}`,
    params: { model: CLAUDE, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
  }))
  writeFileSync(path, `${items.map((item) => JSON.stringify(item)).join('\n')}\n`)
  const made = await registry.get('anthropic').createBatch({
    gatewayId,
    endpoint: '/v1/messages',
    model: CLAUDE,
    completionWindowHours: 24,
    metadata: null,
    input: { kind: 'inline', source: { path, bytes: Bun.file(path).size }, count: requests },
    outputS3Uri: null,
    roleArn: null,
  })
  return made.upstreamId
}

const stateOf = (id: string) =>
  gw.store.db
    .query<{ state: string; upstream_id: string | null }, [string]>('SELECT state, upstream_id FROM batches WHERE id = ?')
    .get(id)

const chatLine = (customId: string, model: string) =>
  `${JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
  })}\n`

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway(fakes.env)
  registry = buildRegistry(loadConfig({ ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0' }))
})

afterAll(async () => {
  await gw.close()
  await fakes.close()
})

describe('interrupted creates', () => {
  test('bedrock: the job named after the gateway id is adopted and answers under that id', async () => {
    const file = await client().files.create({
      file: await toFile(Buffer.from(chatLine('b1', BEDROCK_MODEL)), 'in.jsonl'),
      purpose: 'batch',
      provider: 'bedrock',
    } as never)
    const location = (await gw.store.files.get(file.id, TENANT))?.location
    if (location?.kind !== 'upstream') throw new Error('bedrock file is not upstream')
    const id = await recordIntent('bedrock', 1, file.id)
    const made = await registry.get('bedrock').createBatch({
      gatewayId: id,
      endpoint: '/v1/chat/completions',
      model: BEDROCK_MODEL,
      completionWindowHours: 24,
      metadata: null,
      input: { kind: 'file', location },
      outputS3Uri: `s3://${TEST_BUCKET}/out/`,
      roleArn: TEST_ROLE_ARN,
    })

    await gw.restart()

    expect(stateOf(id)).toEqual({ state: 'ready', upstream_id: made.upstreamId })
    expect((await client().batches.retrieve(id)).input_file_id).toBe(file.id)
  })

  test('anthropic: the one unmapped batch of the same size made in the window is adopted', async () => {
    const id = await recordIntent('anthropic', 2)
    const upstreamId = await createAnthropicUpstream(id, 2)

    await gw.restart()

    expect(stateOf(id)).toEqual({ state: 'ready', upstream_id: upstreamId })
  })

  test('anthropic: two candidates are ambiguous, so neither create adopts but both are kept, unresolved; a mapped batch is never a candidate', async () => {
    const upstreamBefore = fakes.anthropic.batches.size
    const first = await recordIntent('anthropic', 3)
    const second = await recordIntent('anthropic', 3)
    const made = [await createAnthropicUpstream(first, 3), await createAnthropicUpstream(second, 3)]
    // Same size as an existing, mapped batch, and the create never reached the upstream.
    const mapped = await recordIntent('anthropic', 1)
    await gw.store.batches.finalize(mapped, await registry.get('anthropic').getBatch(await createAnthropicUpstream(mapped, 1)))
    const neverSent = await recordIntent('anthropic', 1)

    await gw.restart()

    // Kept visible for an operator (state + log), invisible to clients, and nothing deleted upstream.
    expect(stateOf(first)).toEqual({ state: 'unresolved', upstream_id: null })
    expect(stateOf(second)).toEqual({ state: 'unresolved', upstream_id: null })
    expect((await failure(client().batches.retrieve(first))).status).toBe(404)
    expect(stateOf(neverSent)).toBeNull()
    expect(stateOf(mapped)?.state).toBe('ready')
    expect(fakes.anthropic.batches.size).toBe(upstreamBefore + 3)
    for (const id of made) expect(fakes.anthropic.batches.has(id)).toBe(true)

    // Looked at again at the next start, and still never dropped nor duplicated.
    await gw.restart()
    expect(stateOf(first)?.state).toBe('unresolved')
    expect(stateOf(second)?.state).toBe('unresolved')
    expect(fakes.anthropic.batches.size).toBe(upstreamBefore + 3)
  })

  test('a failed lookup defers that provider (asked once) to the next start, which settles its intents', async () => {
    const ids = [await recordIntent('openai', 1), await recordIntent('openai', 1)]
    const listing = (req: Request, url: URL) => req.method === 'GET' && url.pathname === '/v1/batches'
    const lookups = () => fakes.openai.requests.filter((r) => r.method === 'GET' && r.path === '/v1/batches').length
    const down = { error: { message: 'down', type: 'server_error' } }
    fakes.openai.faults.add({ match: listing, status: 503, times: 10, body: down })
    const before = lookups()

    await gw.restart()
    expect(ids.map((id) => stateOf(id)?.state)).toEqual(['creating', 'creating'])
    expect(lookups() - before).toBe(1)
    expect((await failure(client().batches.retrieve(ids[0] as string))).status).toBe(404)

    fakes.openai.faults.clear()
    await gw.restart()
    expect(ids.map((id) => stateOf(id))).toEqual([null, null])
  })
})

describe('the OpenAI metadata tag', () => {
  const lastUpstream = () => [...fakes.openai.batches.values()].at(-1)

  test('carries the gateway id upstream, replaces a caller-sent batchgate_id, and clients never see it', async () => {
    const input = await toFile(Buffer.from(chatLine('o1', 'gpt-4o-mini')), 'in.jsonl')
    const file = await client().files.create({ file: input, purpose: 'batch' })
    const create = (metadata: Record<string, string>) =>
      client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata })

    const tagged = await create({ job: 'x', batchgate_id: 'batch_someone_else' })
    expect(tagged.metadata).toEqual({ job: 'x', batchgate_id: 'batch_someone_else' })
    expect(lastUpstream()?.metadata).toEqual({ job: 'x', batchgate_id: tagged.id })

    // Sixteen pairs leave no room for the tag: they are sent as they are.
    const full = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, `v${i}`]))
    await create(full)
    expect(lastUpstream()?.metadata).toEqual(full)
  })
})

describe('interrupted uploads', () => {
  test('gemini: the file named after the gateway id is deleted upstream and the pending row dropped', async () => {
    const id = mintId('openaiFile')
    const startedAt = now()
    await gw.store.files.recordPending({
      id,
      tenant: TENANT,
      provider: 'gemini',
      dialect: 'openai',
      purpose: 'batch',
      filename: 'in.jsonl',
      bytes: 3,
      mimeType: 'application/jsonl',
      startedAt,
      storage: null,
    })
    const path = join(gw.dataDir, `${id}.upload`)
    writeFileSync(path, '{}\n')
    const uploaded = await registry.get('gemini').uploadFile(
      { path, bytes: 3 },
      { gatewayId: id, filename: 'in.jsonl', purpose: 'batch', mimeType: 'application/jsonl', dialect: 'openai', storage: null },
    )
    const named = () => [...fakes.gemini.files.values()].filter((f) => f.displayName === id)
    expect(named().length).toBe(1)

    await gw.restart()

    expect(named()).toEqual([])
    expect(await gw.store.files.pendingUploads()).toEqual([])
    expect(uploaded.location.upstreamId).toMatch(/^files\//)
  })

  for (const provider of ['openai', 'anthropic'] as const) {
    test(`${provider}: the file named after the gateway id (its answer lost in the crash) is deleted upstream`, async () => {
      const id = mintId(provider === 'openai' ? 'openaiFile' : 'anthropicFile')
      const purpose = provider === 'openai' ? 'batch' : 'user'
      await gw.store.files.recordPending({
        id,
        tenant: TENANT,
        provider,
        dialect: provider === 'openai' ? 'openai' : 'anthropic',
        purpose,
        filename: 'notes.jsonl',
        bytes: 3,
        mimeType: 'application/jsonl',
        startedAt: now(),
        storage: null,
      })
      const path = join(gw.dataDir, `${id}.upload`)
      writeFileSync(path, '{}\n')
      const meta = { gatewayId: id, filename: 'notes.jsonl', purpose, mimeType: 'application/jsonl', dialect: 'openai', storage: null } as const
      const uploaded = await registry.get(provider).uploadFile({ path, bytes: 3 }, meta)
      const files: Map<string, unknown> = provider === 'openai' ? fakes.openai.files : fakes.anthropic.files
      expect(files.has(uploaded.location.upstreamId)).toBe(true)

      await gw.restart()

      expect(files.has(uploaded.location.upstreamId)).toBe(false)
      expect(await gw.store.files.pendingUploads()).toEqual([])
    })
  }

  test('an anthropic batch input in the blob store goes with its pending row, and unowned blobs go too', async () => {
    const id = mintId('openaiFile')
    await gw.store.files.recordPending({
      id,
      tenant: TENANT,
      provider: 'anthropic',
      dialect: 'openai',
      purpose: 'batch',
      filename: 'in.jsonl',
      bytes: 3,
      mimeType: 'application/jsonl',
      startedAt: now(),
      storage: null,
    })
    writeFileSync(gw.store.blobs.path(id, 'content'), '{}\n')
    writeFileSync(gw.store.blobs.path(mintId('openaiFile'), 'content'), '{}\n')

    await gw.restart()

    // Earlier uploads here keep `.ids` sidecars of ready files; no content blob may survive.
    expect((await gw.store.blobs.list()).filter((blob) => blob.kind === 'content')).toEqual([])
    expect(await gw.store.files.pendingUploads()).toEqual([])
  })
})
