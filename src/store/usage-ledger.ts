// Settled usage, written once per batch. Settlement is idempotent without a transaction: the
// per-model rows and the webhook events have keys derived from the batch id and are inserted
// with ON CONFLICT DO NOTHING, and the batch row's settled_at is set last, only where it is
// still null. A crash before that last step leaves a batch the watcher settles again (adding
// nothing twice); two instances racing both write the same keys and exactly one wins the
// final UPDATE — that one reports the settlement (metrics, log).

import type { BatchUsage, ModelUsage } from '../core/usage'
import { num, numOrNull, type SqlDb } from './sql'
import { insertOutboxEvent, type OutboxEvent } from './webhook-outbox'

/** One model's settled usage of one batch, as stored: the tally plus whose batch it was. */
export interface UsageRow extends ModelUsage {
  batchId: string
  tenant: string
  provider: string
  settledAt: number
}

export interface UsageQuery {
  /** null: every tenant (admin key). */
  tenants: string[] | null
  startTime: number
  endTime: number
  batchIds?: string[]
  models?: string[]
}

type Raw = Record<string, string | number | null>

export class UsageLedger {
  constructor(private readonly db: SqlDb) {}

  /** True when this call settled the batch; false when it had been settled already. */
  async settle(batch: { id: string; tenant: string; provider: string }, usage: BatchUsage, events: OutboxEvent[]): Promise<boolean> {
    for (const m of usage.models) {
      await this.db.run(
        `INSERT INTO batch_usage (batch_id, tenant, provider, model, settled_at, succeeded, errored, expired, cancelled,
           input_tokens, cached_tokens, output_tokens, reasoning_tokens, cost_usd)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id, model) DO NOTHING`,
        [batch.id, batch.tenant, batch.provider, m.model, usage.settledAt, m.succeeded, m.errored, m.expired, m.cancelled,
          m.inputTokens, m.cachedTokens, m.outputTokens, m.reasoningTokens, m.costUsd],
      )
    }
    for (const e of events) await insertOutboxEvent(this.db, e)
    const won = await this.db.run(
      `UPDATE batches SET settled_at = ?, usage = ?, watch_owner = NULL, watch_until = NULL WHERE id = ? AND settled_at IS NULL`,
      [usage.settledAt, JSON.stringify(usage), batch.id],
    )
    return won === 1
  }

  async rows(q: UsageQuery): Promise<UsageRow[]> {
    const where = ['settled_at >= ?', 'settled_at < ?']
    const args: Array<string | number> = [q.startTime, q.endTime]
    const within = (column: string, values: string[] | null | undefined) => {
      if (!values) return
      where.push(values.length === 0 ? '1 = 0' : `${column} IN (${values.map(() => '?').join(', ')})`)
      args.push(...values)
    }
    within('tenant', q.tenants)
    within('batch_id', q.batchIds)
    within('model', q.models)
    const rows = await this.db.all<Raw>(`SELECT * FROM batch_usage WHERE ${where.join(' AND ')} ORDER BY settled_at, batch_id, model`, args)
    return rows.map((r) => ({
      batchId: r.batch_id as string,
      tenant: r.tenant as string,
      provider: r.provider as string,
      model: r.model as string,
      settledAt: num(r.settled_at as number),
      succeeded: num(r.succeeded as number),
      errored: num(r.errored as number),
      expired: num(r.expired as number),
      cancelled: num(r.cancelled as number),
      inputTokens: num(r.input_tokens as number),
      cachedTokens: num(r.cached_tokens as number),
      outputTokens: num(r.output_tokens as number),
      reasoningTokens: num(r.reasoning_tokens as number),
      costUsd: numOrNull(r.cost_usd ?? null),
    }))
  }

  /** A tenant's settled spend and request count since `since` (unix s); unpriced rows add no spend. */
  async spentSince(tenant: string, since: number): Promise<{ usd: number; requests: number }> {
    const row = await this.db.get<{ usd: number | string | null; requests: number | string | null }>(
      `SELECT SUM(cost_usd) AS usd, SUM(succeeded + errored + expired + cancelled) AS requests
       FROM batch_usage WHERE tenant = ? AND settled_at >= ?`,
      [tenant, since],
    )
    return { usd: numOrNull(row?.usd ?? null) ?? 0, requests: numOrNull(row?.requests ?? null) ?? 0 }
  }

  /** Request totals of a tenant's batches created since `since` that have not been settled yet. */
  async inFlightRequests(tenant: string, since: number): Promise<number[]> {
    const rows = await this.db.all<{ snapshot: string | null }>(
      `SELECT snapshot FROM batches WHERE tenant = ? AND state = 'ready' AND settled_at IS NULL AND created_at >= ?`,
      [tenant, since],
    )
    return rows.map((r) => (JSON.parse(r.snapshot ?? 'null') as { counts?: { total?: number } } | null)?.counts?.total ?? 0)
  }
}
