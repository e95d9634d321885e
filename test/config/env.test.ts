import { describe, expect, test } from 'bun:test'
import { configuredProviders, loadConfig } from '../../src/config'
import { problemsOf } from './problems'


describe('loadConfig', () => {
  test('defaults: open gateway on 8080, ./data, no providers', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ host: '0.0.0.0', port: 8080, dataDir: './data', keys: null, publicUrl: null })
    expect(configuredProviders(c)).toEqual([])
    // Spooled uploads convert in the request's thread unless an operator gives them workers.
    expect(c.convertWorkers).toBe(1)
    expect(loadConfig({ BATCHGATE_CONVERT_WORKERS: '4' }).convertWorkers).toBe(4)
  })

  test('a provider is configured by its credentials, base URLs default to the real services', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-1', GEMINI_API_KEY: 'g', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'S', AWS_REGION: 'eu-west-1' })
    expect(configuredProviders(c)).toEqual(['openai', 'gemini', 'bedrock'])
    expect(c.providers.get('openai')).toMatchObject({ kind: 'openai', settings: { baseUrl: 'https://api.openai.com/v1' } })
    expect(c.providers.get('bedrock')).toMatchObject({ kind: 'bedrock', settings: { baseUrl: 'https://bedrock.eu-west-1.amazonaws.com', s3Endpoint: null } })
  })

  test('virtual keys map secrets to tenants', () => {
    const c = loadConfig({ BATCHGATE_KEYS: 'team-a=secret-aaaa,team-b=secret-bbbb' })
    expect([...(c.keys ?? new Map()).entries()]).toEqual([
      ['secret-aaaa', 'team-a'],
      ['secret-bbbb', 'team-b'],
    ])
  })

  const bad: Array<[string, Record<string, string>, string]> = [
    ['non-numeric port', { BATCHGATE_PORT: 'abc' }, 'BATCHGATE_PORT'],
    ['port out of range', { BATCHGATE_PORT: '70000' }, 'BATCHGATE_PORT'],
    ['base URL that is not http(s)', { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'ftp://x' }, 'OPENAI_BASE_URL'],
    ['half of the AWS credentials', { AWS_ACCESS_KEY_ID: 'AK' }, 'AWS_SECRET_ACCESS_KEY'],
    ['a role that is not an IAM role ARN', { BEDROCK_ROLE_ARN: 'role/x' }, 'BEDROCK_ROLE_ARN'],
    ['an invalid bucket name', { BEDROCK_S3_BUCKET: 'Bad_Bucket' }, 'BEDROCK_S3_BUCKET'],
    ['a key entry without tenant', { BATCHGATE_KEYS: 'justasecretvalue' }, 'virtual key #1'],
    ['a short secret', { BATCHGATE_KEYS: 'a=short' }, 'virtual key #1'],
    ['a malformed region', { AWS_REGION: 'mars' }, 'AWS_REGION'],
    ['conversion workers out of range', { BATCHGATE_CONVERT_WORKERS: '0' }, 'BATCHGATE_CONVERT_WORKERS'],
  ]
  for (const [name, env, mentions] of bad) {
    test(`rejects ${name}, naming the variable`, () => {
      const problems = problemsOf(env)
      expect(problems.length).toBeGreaterThan(0)
      expect(problems.join('\n')).toContain(mentions)
    })
  }

  test('every bad variable is reported at once, and secrets are never echoed', () => {
    const problems = problemsOf({ BATCHGATE_PORT: 'x', BATCHGATE_KEYS: 'a=tiny', AWS_REGION: 'nowhere' })
    const text = problems.join(' ')
    for (const name of ['BATCHGATE_PORT', 'virtual key #1', 'AWS_REGION']) expect(text).toContain(name)
    expect(text).not.toContain('tiny')
  })
})

describe('batchgate process', () => {
  test('invalid config prints one line per problem and exits non-zero', async () => {
    const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', BATCHGATE_PORT: 'abc', BATCHGATE_MAX_LINE_BYTES: 'lots' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).not.toBe(0)
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toContain('BATCHGATE_PORT')
    expect(lines[1]).toContain('BATCHGATE_MAX_LINE_BYTES')
  })
})
