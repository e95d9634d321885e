// The webhook a batch sends when it ends, in OpenAI's event shape so the official SDK's
// `webhooks.unwrap()` reads it: {object:"event", id:"evt_…", type:"batch.<status>", created_at,
// data:{id}}. Anthropic-dialect batches send the same types with their msgbatch_ ids
// (docs/webhooks.md). Which endpoints get it: the tenant's own, else the global one.

import type { Config } from '../config'
import type { OutboxEvent } from '../store/webhook-outbox'
import type { BatchStatus, StoredBatch } from './batch'
import { ID_PREFIX } from './ids'

export type BatchEventType = 'batch.completed' | 'batch.failed' | 'batch.expired' | 'batch.cancelled'

const EVENT_TYPES: Partial<Record<BatchStatus, BatchEventType>> = {
  completed: 'batch.completed',
  failed: 'batch.failed',
  expired: 'batch.expired',
  cancelled: 'batch.cancelled',
}

export interface WebhookTarget {
  target: OutboxEvent['target']
  url: string
  secret: string
}

/** Where a tenant's events go: its own endpoint from BATCHGATE_CONFIG, else the global one. */
export function webhookTargets(config: Config, tenant: string): WebhookTarget[] {
  const own = config.tenants.get(tenant)?.webhook
  if (own) return [{ target: 'tenant', ...own }]
  const global = config.reporting.webhook
  return global ? [{ target: 'global', ...global }] : []
}

/** The secret that signs a row now; null when that endpoint is no longer configured. */
export function webhookSecret(config: Config, row: Pick<OutboxEvent, 'target' | 'tenant' | 'url'>): string | null {
  return webhookTargets(config, row.tenant).find((t) => t.target === row.target && t.url === row.url)?.secret ?? null
}

export function batchEvent(batch: StoredBatch, target: WebhookTarget, at: number): OutboxEvent {
  const type = EVENT_TYPES[batch.snapshot.status]
  if (!type) throw new Error(`batch ${batch.id} has not ended (${batch.snapshot.status})`)
  // Ids derived from the batch: a second settlement (crash, another instance) makes the same
  // rows, which the outbox then ignores (store/usage-ledger.ts).
  const eventId = `${ID_PREFIX.event}${digest(batch.id)}`
  return {
    id: `${ID_PREFIX.webhook}${digest(`${batch.id}|${target.target}|${target.url}`)}`,
    eventId,
    batchId: batch.id,
    tenant: batch.tenant,
    target: target.target,
    url: target.url,
    payload: JSON.stringify({ object: 'event', id: eventId, type, created_at: at, data: { id: batch.id } }),
    createdAt: at * 1000,
  }
}

const digest = (text: string): string => new Bun.CryptoHasher('sha256').update(text).digest('hex').slice(0, 32)
