// The kind each provider instance name had when it last started. Mappings store the instance
// name only; an upstream id means something to one kind of service (an OpenAI `batch_…` is
// nothing to Azure or Groq), so a name whose kind changed while it still owns objects would send
// their ids to the wrong service. Start-up compares the configured kinds with these rows
// (core/owned-instances.ts) and records them once the check passes.

import type { SqlDb } from './sql'

export class ProviderKinds {
  constructor(private readonly db: SqlDb) {}

  async all(): Promise<Map<string, string>> {
    const rows = await this.db.all<{ name: string; kind: string }>(`SELECT name, kind FROM provider_kinds`)
    return new Map(rows.map((r) => [r.name, r.kind]))
  }

  async record(name: string, kind: string, now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO provider_kinds (name, kind, recorded_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, recorded_at = excluded.recorded_at`,
      [name, kind, now],
    )
  }
}
