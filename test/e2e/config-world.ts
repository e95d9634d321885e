// A gateway configured by a BATCHGATE_CONFIG file the test writes: named provider instances in
// front of the test's own fakes. `close()` stops the gateway and removes the file's directory.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
