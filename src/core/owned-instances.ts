// Start-up check that every provider name the store's files and batches point at still exists,
// with the kind it had. Mappings store the instance name; renaming or removing `[providers.NAME]`
// while it owns objects would strand them, and changing its `kind` would send their upstream ids
// to another kind of service (an OpenAI `batch_…` means nothing to Azure or Groq) — so the
// gateway refuses to start and says which name and how many objects. The env names (openai,
// anthropic, gemini, bedrock) are exempt from the missing check: unsetting their key has always
// meant "not configured right now", and their objects answer with that error until it is set
// again. Once the check passes the configured kinds are recorded for the next start.

import { ENV_PROVIDERS } from './provider-name'

interface Counts {
  countByProvider(): Map<string, number> | Promise<Map<string, number>>
}

interface Kinds {
  all(): Promise<Map<string, string>>
  record(name: string, kind: string): Promise<void>
}

export interface ConfiguredInstance {
  name: string
  kind: string
}

/**
 * One line per missing instance and per instance whose kind changed while it owns objects; empty
 * when the configuration can take over the store. Records the configured kinds when it is empty.
 */
export async function ownerProblems(
  store: { files: Counts; batches: Counts; kinds: Kinds },
  configured: readonly ConfiguredInstance[],
): Promise<string[]> {
  const files = await store.files.countByProvider()
  const batches = await store.batches.countByProvider()
  const owns = (name: string) => `${files.get(name) ?? 0} files and ${batches.get(name) ?? 0} batches`
  const owners = new Set([...files.keys(), ...batches.keys()])
  const recorded = await store.kinds.all()
  const problems: string[] = []
  for (const name of owners) {
    if (configured.some((c) => c.name === name) || (ENV_PROVIDERS as readonly string[]).includes(name)) continue
    problems.push(
      `provider '${name}' still owns ${owns(name)} in the store but is not ` +
        `configured; restore [providers.${name}] in BATCHGATE_CONFIG (renaming or removing an instance that owns objects is refused)`,
    )
  }
  for (const { name, kind } of configured) {
    const before = recorded.get(name)
    if (before === undefined || before === kind || !owners.has(name)) continue
    problems.push(
      `provider '${name}' was kind '${before}' and still owns ${owns(name)} in the store, but is now configured as kind '${kind}'; ` +
        `restore kind = "${before}", or give the '${kind}' instance a new name (an instance's kind cannot change while it owns objects)`,
    )
  }
  if (problems.length === 0) for (const { name, kind } of configured) if (recorded.get(name) !== kind) await store.kinds.record(name, kind)
  return problems
}
