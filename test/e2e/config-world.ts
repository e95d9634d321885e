// A gateway configured by a BATCHGATE_CONFIG file the test writes: named provider instances in
// front of the test's own fakes. `close()` stops the gateway and removes the file's directory.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { loadConfig } from '../../src/config'
import type { UpstreamBatch } from '../../src/core/batch'
import type { BatchInput } from '../../src/providers/provider'
import { buildRegistry } from '../../src/providers/registry'
import { type Gateway, startGateway } from './gateway'

export interface ConfigWorld {
  gw: Gateway
  /** Path of the config file. */
  config: string
  env: Record<string, string>
  close(): Promise<void>
}

/** `toml` is the file's text; `env` holds the variables its `*_env` settings name. */
export async function startConfigWorld(toml: string, env: Record<string, string> = {}): Promise<ConfigWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'batchgate-config-world-'))
  const config = join(dir, 'batchgate.toml')
  writeFileSync(config, toml)
  const fullEnv = { ...env, BATCHGATE_CONFIG: config }
  const gw = await startGateway(fullEnv)
  return {
    gw,
    config,
    env: fullEnv,
    close: async () => {
      await gw.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** `[providers.NAME]` with `kind`, `base_url` and the key read from `keyVar`. */
export function instanceToml(name: string, kind: string, baseUrl: string, keyVar: string, extra: Record<string, string | number> = {}): string {
  const lines = [`[providers.${name}]`, `kind = "${kind}"`, `base_url = "${baseUrl}"`, `api_key_env = "${keyVar}"`]
  for (const [k, v] of Object.entries(extra)) lines.push(`${k} = ${JSON.stringify(v)}`)
  return `${lines.join('\n')}\n`
}

/**
 * A create a crash interrupted: its intent recorded under `id`, the create itself sent straight
 * through a fresh adapter (it reached the provider, its answer never reached the store), then the
 * gateway restarted. Returns what the provider made and a client for the restarted gateway.
 */
export async function createInterruptedByCrash(
  world: ConfigWorld,
  c: { id: string; provider: string; model: string; requests: number; input: BatchInput; inputFileId: string | null },
): Promise<{ made: UpstreamBatch; client: OpenAI }> {
  const inputUpstreamId = c.input.kind === 'file' ? c.input.location.upstreamId : null
  const intent = { model: c.model, requests: c.requests, inputUpstreamId }
  const createdAt = Math.floor(Date.now() / 1000)
  await world.gw.store.batches.recordIntent({ id: c.id, tenant: 'default', provider: c.provider, dialect: 'openai', endpoint: '/v1/chat/completions', inputFileId: c.inputFileId, completionWindow: '24h', metadata: null, createdAt, idScheme: 'identity', intent })
  const adapters = buildRegistry(loadConfig({ ...world.env, BATCHGATE_UPSTREAM_RETRIES: '0' }))
  const made = await adapters.get(c.provider).createBatch({
    gatewayId: c.id,
    endpoint: '/v1/chat/completions',
    model: c.model,
    completionWindowHours: 24,
    metadata: null,
    input: c.input,
    outputS3Uri: null,
    roleArn: null,
  })
  await world.gw.restart()
  return { made, client: new OpenAI({ baseURL: `${world.gw.url}/openai`, apiKey: 'x', maxRetries: 0 }) }
}
