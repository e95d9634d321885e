// BATCHGATE_CONFIG: the TOML file with [tenants.NAME] and [providers.NAME]. Valid files become
// instances and keys; every mistake is one line naming the file and the setting, secrets are
// only read by reference and never echoed.

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configuredProviders, loadConfig } from '../../src/config'
import { problemsOf } from './problems'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let seq = 0

function file(toml: string): string {
  const path = join(dir, `batchgate-${++seq}.toml`)
  writeFileSync(path, toml)
  return path
}


const SEVERAL = `
[tenants.team-a]
key_env = "TEAM_A_KEY"

[tenants.team-b]
key_file = "${join(dir, 'team-b.key')}"

[providers.openai-us]
kind = "openai"
api_key_env = "OPENAI_US_KEY"

[providers.openai-eu]
kind = "openai"
base_url = "https://eu.api.openai.com/v1/"
api_key_file = "${join(dir, 'openai-eu.key')}"
max_batch_requests = 1000
default_model = "gpt-4o-mini"

[providers.bedrock-eu]
kind = "bedrock"
region = "eu-west-1"
access_key_id_env = "EU_AWS_KEY"
secret_access_key_env = "EU_AWS_SECRET"
role_arn = "arn:aws:iam::123456789012:role/Batch"
bucket = "eu-batches"
buckets = ["eu-batches", "eu-results"]
`

describe('BATCHGATE_CONFIG', () => {
  writeFileSync(join(dir, 'team-b.key'), 'team-b-secret-value\n')
  writeFileSync(join(dir, 'openai-eu.key'), 'sk-eu-from-file\n')
  const env = {
    BATCHGATE_CONFIG: file(SEVERAL),
    TEAM_A_KEY: 'team-a-secret-value',
    OPENAI_US_KEY: 'sk-us',
    EU_AWS_KEY: 'AKIDEU',
    EU_AWS_SECRET: 'eu-secret',
  }

  test('several instances of a kind, each with its own credentials, URL, limits and buckets', () => {
    const c = loadConfig({ ...env, OPENAI_API_KEY: 'sk-env' })
    expect(configuredProviders(c)).toEqual(['openai', 'openai-us', 'openai-eu', 'bedrock-eu'])
    expect(c.providers.get('openai-us')).toMatchObject({ kind: 'openai', settings: { apiKey: 'sk-us', baseUrl: 'https://api.openai.com/v1' } })
    expect(c.providers.get('openai-eu')).toMatchObject({
      kind: 'openai',
      defaultModel: 'gpt-4o-mini',
      limits: { maxBatchRequests: 1000, maxUploadBytes: 512 * 1024 * 1024 },
      // The file's trailing newline is not part of the key; the URL's trailing slash is dropped.
      settings: { apiKey: 'sk-eu-from-file', baseUrl: 'https://eu.api.openai.com/v1' },
    })
    expect(c.providers.get('bedrock-eu')).toMatchObject({
      kind: 'bedrock',
      settings: {
        region: 'eu-west-1',
        baseUrl: 'https://bedrock.eu-west-1.amazonaws.com',
        defaultBucket: 'eu-batches',
        buckets: ['eu-batches', 'eu-results'],
        accessKeyId: 'AKIDEU',
        secretAccessKey: 'eu-secret',
      },
    })
  })

  test('tenants add their keys to BATCHGATE_KEYS', () => {
    const c = loadConfig({ ...env, BATCHGATE_KEYS: 'ops=ops-secret-value' })
    expect(Object.fromEntries(c.keys ?? [])).toEqual({
      'ops-secret-value': 'ops',
      'team-a-secret-value': 'team-a',
      'team-b-secret-value': 'team-b',
    })
    expect([...c.tenants.keys()]).toEqual(['team-a', 'team-b'])
  })

  test('a tenant without its own key may take it from BATCHGATE_KEYS', () => {
    const c = loadConfig({ BATCHGATE_CONFIG: file('[tenants.ops]\n'), BATCHGATE_KEYS: 'ops=ops-secret-value' })
    expect(c.keys?.get('ops-secret-value')).toBe('ops')
    expect(problemsOf({ BATCHGATE_CONFIG: file('[tenants.ops]\n') })).toEqual([expect.stringContaining('tenants.ops has no key')])
  })

  test('a file instance named like an env one replaces it', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-env', K: 'sk-file', BATCHGATE_CONFIG: file('[providers.openai]\nkind = "openai"\napi_key_env = "K"\n') })
    expect(c.providers.get('openai')?.settings).toMatchObject({ apiKey: 'sk-file' })
  })

  test('the env caps lower every instance, and an instance may lower its own further', () => {
    const toml = '[providers.a]\nkind = "gemini"\napi_key_env = "K"\nmax_upload_bytes = 2000\n[providers.b]\nkind = "gemini"\napi_key_env = "K"\n'
    const c = loadConfig({ K: 'g', BATCHGATE_CONFIG: file(toml), BATCHGATE_MAX_UPLOAD_BYTES: '5000' })
    expect(c.providers.get('a')?.limits.maxUploadBytes).toBe(2000)
    expect(c.providers.get('b')?.limits.maxUploadBytes).toBe(5000)
  })

  const bad: Array<[string, string, Record<string, string>, string]> = [
    ['a missing file', '', { BATCHGATE_CONFIG: join(dir, 'nope.toml') }, "BATCHGATE_CONFIG names '"],
    ['TOML that does not parse', 'ok = 1\n[providers.x\n', {}, "not valid TOML: Expected ']'"],
    ['an unknown section', '[webhooks.x]\nurl = "http://x"\n', {}, 'webhooks is not a known section'],
    ['a provider without kind', '[providers.x]\napi_key_env = "K"\n', { K: 'k' }, 'providers.x.kind is required'],
    ['a kind this build does not speak', '[providers.x]\nkind = "watsonx"\n', {}, 'providers.x.kind must be one of openai, azure-openai, anthropic'],
    ['an inline secret', '[providers.x]\nkind = "openai"\napi_key = "sk-inline-secret"\n', {}, 'providers.x.api_key must not hold a secret inline'],
    ['no credentials', '[providers.x]\nkind = "anthropic"\n', {}, 'providers.x needs api_key_env or api_key_file'],
    ['a key variable that is not set', '[providers.x]\nkind = "openai"\napi_key_env = "NOT_SET_ANYWHERE"\n', {}, 'providers.x.api_key_env names NOT_SET_ANYWHERE, which is not set'],
    ['an unreadable key file', '[providers.x]\nkind = "openai"\napi_key_file = "/nonexistent/key"\n', {}, "providers.x.api_key_file names '/nonexistent/key', which cannot be read"],
    ['both _env and _file', `[providers.x]\nkind = "openai"\napi_key_env = "K"\napi_key_file = "${join(dir, 'team-b.key')}"\n`, { K: 'k' }, 'providers.x sets both api_key_env and api_key_file'],
    ['a misspelt setting', '[providers.x]\nkind = "openai"\napi_key_env = "K"\nbase_ulr = "http://x"\n', { K: 'k' }, 'providers.x.base_ulr is not a known setting'],
    ['a setting of another kind', '[providers.x]\nkind = "openai"\napi_key_env = "K"\nregion = "eu-west-1"\n', { K: 'k' }, 'providers.x.region is not a known setting'],
    ['a base URL that is not http(s)', '[providers.x]\nkind = "openai"\napi_key_env = "K"\nbase_url = "ftp://x"\n', { K: 'k' }, 'providers.x.base_url must be an http(s) URL'],
    ['a limit above the kind\'s own', '[providers.x]\nkind = "openai"\napi_key_env = "K"\nmax_batch_requests = 60000\n', { K: 'k' }, 'providers.x.max_batch_requests must be an integer from 1 to 50000'],
    ['an upper-case provider name', '[providers.Prod]\nkind = "openai"\napi_key_env = "K"\n', { K: 'k' }, 'providers.Prod has an invalid provider name'],
    ['a bad bucket in the allowlist', '[providers.x]\nkind = "bedrock"\naccess_key_id_env = "K"\nsecret_access_key_env = "K"\nbuckets = ["Bad_Bucket"]\n', { K: 'k' }, "providers.x.buckets has an invalid bucket name 'Bad_Bucket'"],
    ['a role that is not an IAM role', '[providers.x]\nkind = "bedrock"\naccess_key_id_env = "K"\nsecret_access_key_env = "K"\nrole_arn = "role/x"\n', { K: 'k' }, 'providers.x.role_arn must be an IAM role ARN'],
    ['a short tenant key', '[tenants.a]\nkey_env = "K"\n', { K: 'short' }, 'tenants.a key must be at least 8 characters'],
    ['two tenants with one key', '[tenants.a]\nkey_env = "K"\n[tenants.b]\nkey_env = "K"\n', { K: 'shared-secret-value' }, "tenants.b repeats another tenant's key"],
  ]
  for (const [name, toml, extraEnv, mentions] of bad) {
    test(`rejects ${name}, in one line naming the file and setting`, () => {
      const path = file(toml)
      const problems = problemsOf({ BATCHGATE_CONFIG: path, ...extraEnv })
      expect(problems.join('\n')).toContain(mentions)
      for (const p of problems) expect(p).not.toContain('\n')
      if (extraEnv.BATCHGATE_CONFIG === undefined && mentions !== "BATCHGATE_CONFIG names '") expect(problems[0]).toStartWith(`${path}: `)
    })
  }

  test('every problem of a file is reported at once, and no secret is echoed', () => {
    const toml = '[providers.x]\nkind = "openai"\napi_key = "sk-inline-secret"\n[providers.y]\nkind = "groqq"\n[tenants.t]\nkey_env = "T"\n'
    const problems = problemsOf({ BATCHGATE_CONFIG: file(toml), T: 'tiny' })
    expect(problems.length).toBeGreaterThanOrEqual(3)
    const text = problems.join('\n')
    for (const needle of ['providers.x.api_key', 'providers.y.kind', 'tenants.t']) expect(text).toContain(needle)
    expect(text).not.toContain('sk-inline-secret')
    expect(text).not.toContain('tiny')
  })
})
