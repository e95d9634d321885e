// kind = "emulated" in BATCHGATE_CONFIG and the one-line BATCHGATE_EMULATED_URL (issue 17).

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-emulated-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function withFile(toml: string, env: Record<string, string> = {}) {
  const path = join(dir, `${crypto.randomUUID()}.toml`)
  writeFileSync(path, toml)
  return loadConfig({ ...env, BATCHGATE_CONFIG: path, BATCHGATE_DATA_DIR: dir })
}

function problemsOf(toml: string): string[] {
  try {
    withFile(toml)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('emulated instances', () => {
  test('every setting is read: limits, window, allowlist, key by reference', () => {
    const config = withFile(
      `[providers.vllm]
kind = "emulated"
base_url = "http://127.0.0.1:8000/v1/"
api_key_env = "VLLM_KEY"
concurrency = 64
requests_per_minute = 600
tokens_per_minute = 100000
completion_window = "2h"
models = ["qwen2.5", "llama3"]
`,
      { VLLM_KEY: 'k-123' },
    )
    const vllm = config.providers.get('vllm')
    expect(vllm?.kind).toBe('emulated')
    expect(vllm?.settings).toEqual({
      baseUrl: 'http://127.0.0.1:8000/v1',
      apiKey: 'k-123',
      concurrency: 64,
      requestsPerMinute: 600,
      tokensPerMinute: 100_000,
      completionWindowSeconds: 7200,
      models: ['qwen2.5', 'llama3'],
      requestTimeoutMs: 600_000,
    })
  })

  test('a missing base_url, a bad window and a zero concurrency are one line each', () => {
    const problems = problemsOf(`[providers.x]\nkind = "emulated"\ncompletion_window = "soon"\nconcurrency = 0\n`)
    expect(problems.some((p) => p.includes('providers.x.base_url') && p.includes('required'))).toBe(true)
    expect(problems.some((p) => p.includes('providers.x.completion_window'))).toBe(true)
    expect(problems.some((p) => p.includes('providers.x.concurrency'))).toBe(true)
  })

  test('BATCHGATE_EMULATED_URL alone configures provider `emulated` with no key', () => {
    const config = loadConfig({ BATCHGATE_EMULATED_URL: 'http://localhost:11434/v1', BATCHGATE_DATA_DIR: dir })
    const emulated = config.providers.get('emulated')
    expect(emulated?.kind).toBe('emulated')
    expect(emulated?.settings).toMatchObject({ baseUrl: 'http://localhost:11434/v1', apiKey: null })
  })
})
