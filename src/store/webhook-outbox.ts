// The durable webhook outbox: one row per event and endpoint, written at settlement, delivered at
// least once. The row id is the Standard Webhooks `webhook-id`, so it stays the same across
// retries and a receiver can de-duplicate on it.

import { num, type SqlDb } from './sql'

export interface OutboxEvent {
  id: string
  eventId: string
  batchId: string
  tenant: string
  target: 'global' | 'tenant'
  url: string
  payload: string
  createdAt: number
}

export interface OutboxRow extends OutboxEvent {
  attempts: number
}

export async function insertOutboxEvent(db: SqlDb, e: OutboxEvent): Promise<void> {
  await db.run(
    `INSERT INTO webhook_outbox (id, event_id, batch_id, tenant, target, url, payload, created_at, next_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    [e.id, e.eventId, e.batchId, e.tenant, e.target, e.url, e.payload, e.createdAt, e.createdAt],
  )
}

const PENDING = `delivered_at IS NULL AND gave_up_at IS NULL`
const FREE = `(lease_until IS NULL OR lease_until < ?)`

export class WebhookOutbox {
  constructor(private readonly db: SqlDb) {}

  /** Claims due rows for `leaseMs`; a holder that dies leaves them claimable once the lease ends. */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.all<Record<string, string | number>>(
      `UPDATE webhook_outbox SET owner = ?, lease_until = ?
       WHERE ${PENDING} AND ${FREE} AND id IN (
         SELECT id FROM webhook_outbox WHERE ${PENDING} AND next_at <= ? AND ${FREE}
         ORDER BY next_at LIMIT ?)
       RETURNING *`,
      [owner, now + leaseMs, now, now, now, limit],
    )
    return rows.map((r) => ({
      id: r.id as string,
      eventId: r.event_id as string,
      batchId: r.batch_id as string,
      tenant: r.tenant as string,
      target: r.target as OutboxEvent['target'],
      url: r.url as string,
      payload: r.payload as string,
      createdAt: num(r.created_at as number),
      attempts: num(r.attempts as number),
    }))
  }

  async delivered(id: string, owner: string, at: number): Promise<void> {
    await this.db.run(
      `UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, owner = NULL, lease_until = NULL, last_error = NULL
       WHERE id = ? AND owner = ?`,
      [at, id, owner],
    )
  }

  /** A failed attempt: due again at `nextAt`, or given up when that is null. */
  async failed(id: string, owner: string, at: number, nextAt: number | null, error: string): Promise<void> {
    await this.db.run(
      `UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?, owner = NULL, lease_until = NULL,
         next_at = ?, gave_up_at = ?
       WHERE id = ? AND owner = ?`,
      [error, nextAt ?? at, nextAt === null ? at : null, id, owner],
    )
  }

  async pending(): Promise<number> {
    const row = await this.db.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM webhook_outbox WHERE ${PENDING}`)
    return num(row?.n ?? 0)
  }
}
