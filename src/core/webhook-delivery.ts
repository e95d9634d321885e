// Delivers the webhook outbox at least once: each due row is leased, signed per Standard
// Webhooks (webhook-id = the row id, stable across retries; a fresh webhook-timestamp per attempt,
// since receivers reject old timestamps) and POSTed. A 2xx marks it delivered; anything else is
// retried with exponential backoff and full jitter from BATCHGATE_WEBHOOK_RETRY_BASE_MS, for up
// to 72 hours after the event. A crash mid-delivery leaves the lease to run out (or, on a single
// instance, to be released at start), and the row is sent again.

import { Webhook } from 'standardwebhooks'
import type { Config } from '../config'
import { log } from '../log'
import type { Store } from '../store/store'
import type { OutboxRow } from '../store/webhook-outbox'
import { webhookSecret } from './webhook-events'

export const WEBHOOK_GIVE_UP_MS = 72 * 3600 * 1000
const ATTEMPT_TIMEOUT_MS = 15_000

export type DeliveryOutcome = 'delivered' | 'failed' | 'gave_up'

export interface DeliveryOptions {
  owner: string
  /** How long a claimed row stays with this instance; longer than one attempt's timeout. */
  leaseMs?: number
  onAttempt?: (outcome: DeliveryOutcome) => void
  fetch?: typeof fetch
}

export class WebhookDelivery {
  private readonly leaseMs: number
  private readonly send: typeof fetch

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly opts: DeliveryOptions,
  ) {
    this.leaseMs = opts.leaseMs ?? 4 * ATTEMPT_TIMEOUT_MS
    this.send = opts.fetch ?? fetch
  }

  private readonly inflight = new Set<Promise<void>>()

  /**
   * Starts delivering what is due now and returns without waiting: one slow endpoint must hold
   * up neither the watcher nor other endpoints. Rows in flight stay leased, so no tick claims
   * them twice. Returns how many rows were claimed.
   */
  async tick(now = Date.now()): Promise<number> {
    const rows = await this.store.outbox.claimDue(this.opts.owner, now, this.leaseMs, 32)
    for (const row of rows) {
      const attempt: Promise<void> = this.deliver(row)
        .catch((err) => log('error', 'webhook delivery failed unexpectedly', { webhook_id: row.id, err: String(err) }))
        .finally(() => this.inflight.delete(attempt))
      this.inflight.add(attempt)
    }
    return rows.length
  }

  /** Waits for the attempts in flight (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight])
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const attempt = row.attempts + 1
    const secret = webhookSecret(this.config, row)
    if (secret === null) {
      await this.finish(row, attempt, 'endpoint no longer configured', true)
      return
    }
    let error: string
    try {
      const sentAt = new Date()
      const signature = new Webhook(secret).sign(row.id, sentAt, row.payload)
      const res = await this.send(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'batchgate-webhooks',
          'webhook-id': row.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: row.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      })
      // The body is not ours to read; release the connection.
      await res.body?.cancel().catch(() => undefined)
      if (res.status >= 200 && res.status < 300) {
        await this.store.outbox.delivered(row.id, this.opts.owner, Date.now())
        log('info', 'webhook delivered', { webhook_id: row.id, batch: row.batchId, attempt, status: res.status })
        this.opts.onAttempt?.('delivered')
        return
      }
      error = `endpoint answered ${res.status}`
    } catch (err) {
      error = `endpoint unreachable: ${(err as Error).message}`
    }
    await this.finish(row, attempt, error, false)
  }

  private async finish(row: OutboxRow, attempt: number, error: string, giveUp: boolean): Promise<void> {
    const now = Date.now()
    const next = now + retryDelayMs(this.config.reporting.webhookRetryBaseMs, attempt)
    const gaveUp = giveUp || next > row.createdAt + WEBHOOK_GIVE_UP_MS
    await this.store.outbox.failed(row.id, this.opts.owner, now, gaveUp ? null : next, error)
    log(gaveUp ? 'error' : 'warn', gaveUp ? 'webhook given up' : 'webhook attempt failed', {
      webhook_id: row.id,
      batch: row.batchId,
      attempt,
      error,
      ...(gaveUp ? {} : { next_attempt_at: new Date(next).toISOString() }),
    })
    this.opts.onAttempt?.(gaveUp ? 'gave_up' : 'failed')
  }
}

/**
 * Delay before attempt `failed + 1`: base · 2^(failed−1), capped at 6 h, stretched by a random
 * [1, 1.5)× so receivers coming back up are not hit by every retry at once — and the first retry
 * never comes before the base delay.
 */
export function retryDelayMs(baseMs: number, failed: number, random = Math.random()): number {
  const step = Math.min(baseMs * 2 ** Math.max(0, failed - 1), 6 * 3600 * 1000)
  return Math.round(step * (1 + random / 2))
}
