// Start-up check that every provider name the store's files and batches point at still exists.
// Mappings store the instance name; renaming or removing `[providers.NAME]` while it owns objects
// would strand them (their upstream ids mean nothing to another account), so the gateway refuses
// to start and says which name and how many objects. The env names (openai, anthropic, gemini,
// bedrock) are exempt: unsetting their key has always meant "not configured right now", and their
// objects answer with that error until it is set again.

import { ENV_PROVIDERS } from './provider-name'

interface Counts {
  countByProvider(): Map<string, number> | Promise<Map<string, number>>
}

/** One line per missing instance; empty when every owner is configured. */
export async function missingOwners(store: { files: Counts; batches: Counts }, configured: readonly string[]): Promise<string[]> {
  const files = await store.files.countByProvider()
  const batches = await store.batches.countByProvider()
  const problems: string[] = []
  for (const name of new Set([...files.keys(), ...batches.keys()])) {
    if (configured.includes(name) || (ENV_PROVIDERS as readonly string[]).includes(name)) continue
    problems.push(
      `provider '${name}' still owns ${files.get(name) ?? 0} files and ${batches.get(name) ?? 0} batches in the store but is not ` +
        `configured; restore [providers.${name}] in BATCHGATE_CONFIG (renaming or removing an instance that owns objects is refused)`,
    )
  }
  return problems
}
