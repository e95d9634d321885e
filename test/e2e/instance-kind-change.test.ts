// An instance name keeps its kind while it owns objects. Mappings store the instance name only,
// so `[providers.acme] kind = "openai"` re-configured as `kind = "groq"` would send the OpenAI
// file ids it owns to Groq: the real entry point refuses to start, one line naming the name, both
// kinds and what it owns. The same name back at its old kind starts; a new name takes the new kind.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type OpenAIFake, startOpenAIFake } from '../fakes/openai'
import { rows, spawnGateway } from '../resilience/spawned-gateway'
import { chatLine, jsonl, uploadBatchFile } from './openai-seed'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-kind-change-'))
const dataDir = join(dir, 'data')
let fake: OpenAIFake

function config(name: string, kind: 'openai' | 'groq', extra = ''): string {
  const path = join(dir, `${name}-${kind}.toml`)
  writeFileSync(path, `[providers.${name}]\nkind = "${kind}"\nbase_url = "${fake.url}/v1"\napi_key_env = "ACME_KEY"\n${extra}`)
  return path
}

const env = (configPath: string) => ({ BATCHGATE_DATA_DIR: dataDir, BATCHGATE_CONFIG: configPath, ACME_KEY: 'sk-acme' })

async function startAndRefuse(configPath: string): Promise<string[]> {
  const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', BATCHGATE_PORT: '0', BATCHGATE_HOST: '127.0.0.1', ...env(configPath) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  expect(code).toBe(1)
  return stderr.trim().split('\n')
}

beforeAll(async () => {
  fake = startOpenAIFake({ apiKey: 'sk-acme' })
  // First start: acme is an OpenAI account and uploads one file through it.
  const gw = await spawnGateway(env(config('acme', 'openai')))
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
    const file = await uploadBatchFile(client, jsonl(chatLine('r1', 'Hi', 'gpt-4o-mini')), { provider: 'acme' })
    expect(file.id).toStartWith('file-')
  } finally {
    gw.proc.kill('SIGTERM')
    await gw.exited
  }
})

afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('an instance that owns objects keeps its kind', () => {
  test('the kind it started with is recorded', () => {
    expect(rows<{ name: string; kind: string }>(dataDir, `SELECT name, kind FROM provider_kinds`)).toEqual([{ name: 'acme', kind: 'openai' }])
  })

  test('the same name as another kind: refused at start, one line naming both kinds', async () => {
    const lines = await startAndRefuse(config('acme', 'groq'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("provider 'acme' was kind 'openai' and still owns 1 files and 0 batches")
    expect(lines[0]).toContain("now configured as kind 'groq'")
    // Nothing was recorded by the refused start.
    expect(rows<{ kind: string }>(dataDir, `SELECT kind FROM provider_kinds WHERE name = 'acme'`)).toEqual([{ kind: 'openai' }])
  })

  test('its old kind again, plus the new kind under a new name: starts, and records the new name', async () => {
    const both = config('acme', 'openai', `\n[providers.acme-groq]\nkind = "groq"\nbase_url = "${fake.url}/openai/v1"\napi_key_env = "ACME_KEY"\n`)
    const gw = await spawnGateway(env(both))
    gw.proc.kill('SIGTERM')
    await gw.exited
    expect(rows<{ name: string; kind: string }>(dataDir, `SELECT name, kind FROM provider_kinds ORDER BY name`)).toEqual([
      { name: 'acme', kind: 'openai' },
      { name: 'acme-groq', kind: 'groq' },
    ])
  })
})
