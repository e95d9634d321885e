// Vertex AI batch prediction as a provider kind, two Google Cloud projects in one gateway:
// `vertex` (service-account key file, two allowed buckets) and `vertex-eu` (another project,
// location and bucket, with an access token read from a file). The OpenAI SDK seed runs through
// each; both Anthropic SDK generations run the full seed through `vertex-eu`. Each fake only ever
// sees its own project's token.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { problemsOf } from '../config/problems'
import { anthropicSdkSuite, API_KEY } from './anthropic-sdk-workflow'
import { type ConfigWorld, startConfigWorld } from './config-world'
import { closeFakes, EU_TOKEN, expectOwnTokensOnly, type Fakes, MODEL, startFakes, vertexToml } from './vertex-world'
import { chatLine, errorOf, expectCancelledBeforeRunning, jsonl, pollToEnd, readResults, uploadBatchFile, uploadThroughUploads } from './openai-seed'

describe('OpenAI SDK → vertex instances', () => {
  let f: Fakes
  let world: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    f = await startFakes()
    world = await startConfigWorld(vertexToml(f))
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await closeFakes(f)
  })

  for (const [name, side, bucket] of [['vertex', 'us', 'acme-batches'], ['vertex-eu', 'eu', 'acme-eu-batches']] as const) {
    test(`seed workflow through ${name}: GCS input, a Vertex job, predictions read back by key`, async () => {
      const fake = f[side]
      const input = jsonl(chatLine('v-1', 'What is 2+2?', MODEL), chatLine('v-2', 'FAIL here', MODEL))
      const file = await uploadBatchFile(client, input, { provider: name })
      // The object holds Gemini `{key, request}` lines, named after the gateway's file id.
      const stored = [...(fake.gcs.buckets.get(bucket)?.values() ?? [])].at(-1)
      expect(stored?.name).toMatch(/^batchgate-input\/file-[a-z0-9]+\.jsonl$/)
      const first = JSON.parse(new TextDecoder().decode(stored?.bytes).split('\n')[0] as string)
      expect(first.key).toBe('v-1')
      expect(first.request.contents).toEqual([{ role: 'user', parts: [{ text: 'What is 2+2?' }] }])

      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never)
      expect(batch.status).toBe('validating')
      const job = [...fake.jobs.jobs.values()].at(-1)
      expect(job?.displayName).toBe(batch.id)
      expect(job?.model).toBe(`publishers/google/models/${MODEL}`)
      expect(job?.outputPrefix).toBe(`gs://${bucket}/batchgate-output/${batch.id}`)
      const { batch: done, seen } = await pollToEnd(client, batch.id)
      expect(seen).toEqual(['validating', 'in_progress', 'completed'])
      expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
      // Vertex wrote the rows back to front; each maps back by its key.
      const results = await readResults(client, done)
      expect(results.answers).toEqual({ 'v-1': 'Reply to: What is 2+2?' })
      expect(Object.keys(results.errors)).toEqual(['v-2'])
      expect(results.errors['v-2']?.status_code).toBe(400)
      // As for Bedrock, the file's content is what the provider keeps: the converted lines.
      expect(await (await client.files.content(file.id)).text()).toBe(new TextDecoder().decode(stored?.bytes))
      expectOwnTokensOnly(fake)
    })
  }

  test('Uploads API: three parts completed in order become a Vertex batch input that runs', async () => {
    const input = jsonl(...Array.from({ length: 6 }, (_, i) => chatLine(`u-${i}`, `question ${i} ${'é'.repeat(i)}`, MODEL)))
    const file = await uploadThroughUploads(client, input, 'vertex-eu')
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never)
    const { batch: done } = await pollToEnd(client, batch.id)
    expect(done.request_counts).toEqual({ total: 6, completed: 6, failed: 0 })
    const results = await readResults(client, done)
    expect(results.answers).toEqual(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`u-${i}`, `Reply to: question ${i} ${'é'.repeat(i)}`])))
    expectOwnTokensOnly(f.eu)
  })

  test('the key file is exchanged once and its token cached; the other project never sees it', () => {
    expect(f.us.issuer.exchanges).toBe(1)
    expect(f.eu.issuer.exchanges).toBe(0)
    const usTokens = new Set(f.us.requests.map((r) => r.headers.authorization).filter(Boolean))
    for (const r of f.eu.requests) expect(usTokens.has(r.headers.authorization as string)).toBe(false)
    expect(f.us.requests.some((r) => r.headers.authorization === `Bearer ${EU_TOKEN}`)).toBe(false)
  })

  test('storage_config[gcs][bucket]: an allowed bucket is used, any other is refused before any upstream call', async () => {
    const extra = await uploadBatchFile(client, jsonl(chatLine('b-1', 'x', MODEL)), { provider: 'vertex', storage_config: { gcs: { bucket: 'acme-extra', prefix: 'team-a' } } })
    expect([...(f.us.gcs.buckets.get('acme-extra')?.keys() ?? [])]).toEqual([`team-a/${extra.id}.jsonl`])
    const before = f.us.requests.length
    const refused = await errorOf(uploadBatchFile(client, jsonl(chatLine('b-2', 'x', MODEL)), { provider: 'vertex', storage_config: { gcs: { bucket: 'acme-private' } } }))
    expect(refused.status).toBe(400)
    expect(refused.message).toContain("Bucket 'acme-private' is not one this gateway may use (providers.vertex.buckets)")
    // The eu instance's bucket is not on this instance's list either, and S3 settings are not Vertex's.
    expect((await errorOf(uploadBatchFile(client, jsonl(chatLine('b-3', 'x', MODEL)), { provider: 'vertex', storage_config: { gcs: { bucket: 'acme-eu-batches' } } }))).status).toBe(400)
    expect((await errorOf(uploadBatchFile(client, jsonl(chatLine('b-4', 'x', MODEL)), { provider: 'vertex', storage_config: { s3: { bucket: 'acme-extra' } } }))).status).toBe(400)
    expect(f.us.requests.length).toBe(before)
    expect(f.us.gcs.buckets.get('acme-private')?.size).toBe(0)
  })

  test('cancel: the job goes CANCELLING → CANCELLED and every request is in the error file', async () => {
    await expectCancelledBeforeRunning(client, f.us, 'vertex', MODEL)
    const job = [...f.us.jobs.jobs.values()].at(-1)
    expect(job?.state).toBe('JOB_STATE_CANCELLED')
  })

  test('a create whose answer is lost is adopted by its display name, not created twice', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('a-1', 'hello', MODEL)), { provider: 'vertex-eu' })
    const before = f.eu.jobs.jobs.size
    f.eu.faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'POST' && u.pathname.endsWith('/batchPredictionJobs') })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(f.eu.jobs.jobs.size).toBe(before + 1)
    const job = [...f.eu.jobs.jobs.values()].at(-1)
    expect((await world.gw.store.batches.get(batch.id, 'default'))?.snapshot.upstreamId).toBe(job?.name as string)
    expect(f.eu.requests.some((r) => r.method === 'GET' && r.query.includes('filter=display_name'))).toBe(true)
  })

  test('a refused key is reported as refused provider credentials without echoing anything of it', async () => {
    const bad = join(f.tokenDir, 'other-key.json')
    const key = JSON.parse(await Bun.file(f.us.keyFile).text()) as Record<string, string>
    // Another project's key (a valid RSA key the fake does not know for this account).
    writeFileSync(bad, JSON.stringify({ ...key, private_key: JSON.parse(await Bun.file(f.eu.keyFile).text()).private_key }))
    const wrong = await startConfigWorld(vertexToml(f).replace(f.us.keyFile, bad))
    try {
      const c = new OpenAI({ baseURL: `${wrong.gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const err = await errorOf(uploadBatchFile(c, jsonl(chatLine('w-1', 'x', MODEL)), { provider: 'vertex' }))
      expect(err.message).toContain("refused the gateway's provider credentials")
      expect(err.message).not.toContain('PRIVATE KEY')
    } finally {
      await wrong.close()
    }
  })
})

describe('vertex config errors', () => {
  test('each mistake is one line naming the field', async () => {
    const f = await startFakes()
    const dir = mkdtempSync(join(tmpdir(), 'vertex-config-'))
    try {
      const write = (body: string) => {
        const path = join(dir, `c${Math.random()}.toml`)
        writeFileSync(path, `[providers.v]\nkind = "vertex"\n${body}\n`)
        return problemsOf({ BATCHGATE_CONFIG: path })
      }
      const good = `project = "acme-prod"\nbucket = "acme-batches"\ncredentials_file = "${f.us.keyFile}"`
      expect(write(good)).toEqual([])
      expect(write('bucket = "acme-batches"\ntoken_file = "/t"').join('\n')).toContain('providers.v.project is required')
      expect(write('project = "acme-prod"\ntoken_file = "/t"').join('\n')).toContain('providers.v.bucket is required')
      expect(write(`${good}\ntoken_file = "/t"`).join('\n')).toContain('needs one of credentials_file')
      expect(write('project = "acme-prod"\nbucket = "acme-batches"\ncredentials_file = "/nope.json"').join('\n')).toContain("credentials_file names '/nope.json', which cannot be read")
      const notKey = join(dir, 'not-a-key.json')
      writeFileSync(notKey, JSON.stringify({ type: 'authorized_user', client_secret: 'shh' }))
      const lines = write(`project = "acme-prod"\nbucket = "acme-batches"\ncredentials_file = "${notKey}"`).join('\n')
      expect(lines).toContain('is not a service-account key')
      expect(lines).not.toContain('shh')
      expect(write(`${good}\nbuckets = ["Bad_Bucket!"]`).join('\n')).toContain("invalid bucket name 'Bad_Bucket!'")
      expect(write(`${good}\nlocation = "mars"`).join('\n')).toContain('providers.v.location')
      expect(write(`${good}\napi_key_env = "X"`).join('\n')).toContain('api_key_env')
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await closeFakes(f)
    }
  })
})

// Both Anthropic SDK generations, the full seed, through the second project's instance.
let suiteFakes: Fakes
anthropicSdkSuite({
  provider: 'vertex-eu',
  model: MODEL,
  upload: { name: 'batch_input.jsonl', content: jsonl(chatLine('request-1', 'Hello!', MODEL)), type: 'application/jsonl' },
  downloadable: true,
  world: async () => {
    suiteFakes = await startFakes()
    const world = await startConfigWorld(vertexToml(suiteFakes), { BATCHGATE_KEYS: `default=${API_KEY}` })
    return {
      gw: world.gw,
      close: async () => {
        await world.close()
        await closeFakes(suiteFakes)
      },
    }
  },
})
