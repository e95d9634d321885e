// Azure OpenAI as a provider kind: two resources in one gateway, `azure-eu` with its resource key
// and `azure-us` with a Microsoft Entra token read from a file, against two Azure fakes that
// require `api-version` and their own credentials. The OpenAI SDK seed runs through both with
// deployment names as `model`; the Anthropic SDK workflows (both generations) through `azure-us`.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type AzureFake, startAzureFake } from '../fakes/azure'
import { anthropicSdkSuite, API_KEY } from './anthropic-sdk-workflow'
import { type ConfigWorld, startConfigWorld } from './config-world'
import { chatLine, errorOf, expectCancelledBeforeRunning, expectSeedCompleted, jsonl, uploadBatchFile } from './openai-seed'

const DEPLOYMENT = 'gpt-4o-mini-batch'
type Fakes = { 'azure-eu': AzureFake; 'azure-us': AzureFake }

function startFakes(): Fakes {
  return {
    'azure-eu': startAzureFake({ apiKey: 'azure-eu-resource-key-0001' }),
    'azure-us': startAzureFake({ apiKey: 'azure-us-resource-key-0002', bearerToken: 'entra-token-us' }),
  }
}

/** The gateway's config: azure-eu by key, azure-us by an Entra token file (written here). */
async function azureWorld(fakes: Fakes, tokenFile: string, env: Record<string, string> = {}): Promise<ConfigWorld> {
  const toml = [
    '[providers.azure-eu]',
    'kind = "azure-openai"',
    `base_url = "${fakes['azure-eu'].url}"`,
    'api_key_env = "AZURE_EU_KEY"',
    '',
    '[providers.azure-us]',
    'kind = "azure-openai"',
    `base_url = "${fakes['azure-us'].url}"`,
    'api_version = "2025-03-01-preview"',
    `token_file = "${tokenFile}"`,
    '',
  ].join('\n')
  return startConfigWorld(toml, { AZURE_EU_KEY: fakes['azure-eu'].apiKey, ...env })
}

const dir = mkdtempSync(join(tmpdir(), 'batchgate-azure-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('OpenAI SDK → azure-openai instances', () => {
  let fakes: Fakes
  let world: ConfigWorld
  let client: OpenAI
  const tokenFile = join(dir, 'entra-token')
  beforeAll(async () => {
    fakes = startFakes()
    writeFileSync(tokenFile, `${fakes['azure-us'].bearerToken}\n`)
    world = await azureWorld(fakes, tokenFile)
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await Promise.all(Object.values(fakes).map((f) => f.close()))
  })

  for (const name of ['azure-eu', 'azure-us'] as const) {
    test(`seed workflow through ${name}, deployment name as model; ids alone afterwards`, async () => {
      const input = jsonl(chatLine('z-1', 'What is 2+2?', DEPLOYMENT), chatLine('z-2', 'FAIL here', DEPLOYMENT))
      const file = await uploadBatchFile(client, input, { provider: name })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      // The client sees its own endpoint; Azure got its own spelling.
      expect(batch.endpoint).toBe('/v1/chat/completions')
      expect([...fakes[name].batches.values()].at(-1)?.endpoint).toBe('/chat/completions')
      expect((await world.gw.store.batches.get(batch.id, 'default'))?.provider).toBe(name)

      await expectSeedCompleted(client, batch.id, { id: file.id, input }, { id: 'z-1', prompt: 'What is 2+2?' }, 'z-2')

      // Every call carried the api-version and this resource's own credential, never the other's.
      const version = name === 'azure-eu' ? '2024-10-21' : '2025-03-01-preview'
      for (const r of fakes[name].requests) {
        expect(new URLSearchParams(r.query).get('api-version')).toBe(version)
        if (name === 'azure-eu') expect(r.headers['api-key']).toBe(fakes[name].apiKey)
        else expect(r.headers.authorization).toBe(`Bearer ${fakes[name].bearerToken}`)
      }
    })
  }

  test('a refreshed Entra token file is used without a restart', async () => {
    writeFileSync(tokenFile, 'expired-token\n')
    const refused = await errorOf(uploadBatchFile(client, jsonl(chatLine('t-1', 'x', DEPLOYMENT)), { provider: 'azure-us' }))
    expect(refused.message).toContain("refused the gateway's provider credentials")
    writeFileSync(tokenFile, `${fakes['azure-us'].bearerToken}\n`)
    const file = await uploadBatchFile(client, jsonl(chatLine('t-1', 'x', DEPLOYMENT)), { provider: 'azure-us' })
    expect(file.id).toMatch(/^file-/)
  })

  test('cancel: cancelled, every request in the error file', async () => {
    await expectCancelledBeforeRunning(client, fakes['azure-eu'], 'azure-eu', DEPLOYMENT)
  })

  test('only 24h windows and chat completions, refused before anything reaches Azure', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('w-1', 'x', DEPLOYMENT)), { provider: 'azure-eu' })
    const before = fakes['azure-eu'].batches.size
    const window = await errorOf(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '48h' as '24h' }))
    expect(window.status).toBe(400)
    expect(window.error).toMatchObject({ param: 'completion_window' })
    expect(fakes['azure-eu'].batches.size).toBe(before)
  })

  test('a lost create answer is adopted by the gateway id in metadata', async () => {
    const file = await uploadBatchFile(client, jsonl(chatLine('a-1', 'hello', DEPLOYMENT)), { provider: 'azure-eu' })
    const before = fakes['azure-eu'].batches.size
    fakes['azure-eu'].faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'POST' && u.pathname === '/openai/batches' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(fakes['azure-eu'].batches.size).toBe(before + 1)
    const upstream = [...fakes['azure-eu'].batches.values()].at(-1)
    expect((await world.gw.store.batches.get(batch.id, 'default'))?.snapshot.upstreamId).toBe(upstream?.id as string)
  })
})

describe('azure-openai config', () => {
  test('base_url and one credential are required, and the api_version is checked', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config')
    const path = join(dir, 'bad.toml')
    writeFileSync(path, '[providers.az]\nkind = "azure-openai"\napi_version = "latest"\n')
    let problems: string[] = []
    try {
      loadConfig({ BATCHGATE_CONFIG: path })
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems
    }
    const text = problems.join('\n')
    expect(text).toContain('providers.az.base_url is required for azure-openai')
    expect(text).toContain('providers.az.api_version must look like 2024-10-21')
    expect(text).toContain('providers.az needs one of api_key_env, api_key_file (resource key) or token_file')
  })
})

const suite: { fakes?: Fakes } = {}
anthropicSdkSuite({
  provider: 'azure-us',
  model: DEPLOYMENT,
  upload: { name: 'batch_input.jsonl', content: jsonl(chatLine('request-1', 'Hello!', DEPLOYMENT)), type: 'application/jsonl' },
  downloadable: true,
  world: async () => {
    suite.fakes = startFakes()
    const tokenFile = join(dir, 'suite-token')
    writeFileSync(tokenFile, suite.fakes['azure-us'].bearerToken)
    const world = await azureWorld(suite.fakes, tokenFile, { BATCHGATE_KEYS: `default=${API_KEY}` })
    return {
      gw: world.gw,
      close: async () => {
        await world.close()
        await Promise.all(Object.values(suite.fakes ?? {}).map((f) => f.close()))
      },
    }
  },
})
