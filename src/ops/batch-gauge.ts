// batchgate_batches{provider,status}: counted from the store when Prometheus scrapes, so the
// gauge is right across restarts and across instances sharing one database.

import { Gauge } from './prom'
import type { Store } from '../store/store'
import { registry } from './metrics'

let source: Store | null = null

/** The store the gauge reads; the latest app built wins (tests build several). */
export function watchBatches(store: Store): void {
  source = store
}

// A batch whose create is in flight has no snapshot yet: it counts as `creating`.
const QUERY = {
  sqlite: `SELECT provider, COALESCE(json_extract(snapshot, '$.status'), 'creating') AS status, COUNT(*) AS n
             FROM batches WHERE state <> 'deleted' GROUP BY 1, 2`,
  postgres: `SELECT provider, COALESCE(snapshot::json->>'status', 'creating') AS status, COUNT(*) AS n
               FROM batches WHERE state <> 'deleted' GROUP BY 1, 2`,
}

new Gauge({
  name: 'batchgate_batches',
  help: 'Batches the gateway knows (not deleted), by provider and last known status.',
  labelNames: ['provider', 'status'] as const,
  registers: [registry],
  async collect() {
    this.reset()
    const store = source
    if (!store) return
    try {
      const rows = await store.sql.all<{ provider: string; status: string; n: number | string }>(QUERY[store.sql.engine])
      for (const row of rows) this.set({ provider: row.provider, status: row.status }, Number(row.n))
    } catch {
      // A closed or unreachable store leaves the gauge empty rather than failing the scrape.
    }
  },
})
