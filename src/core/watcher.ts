// The background loop that makes batches report back without a client polling (issue 15). Each
// tick it leases the unsettled batches that are due (store/batch-watch.ts), polls each one's
// provider, and settles those that ended; the others are due again after a jittered backoff that
// starts at BATCHGATE_WATCH_INTERVAL_MS and grows to 5 minutes, never sooner than a retry-after
// the provider sent. A provider that answered 429 is left alone until its retry-after passed.
// State lives in the store, so a restart picks up where the last run was.

import type { Config } from '../config'
import { GatewayError } from '../errors'
import { log } from '../log'
import type { Store } from '../store/store'
import type { WatchedBatch } from '../store/batch-watch'
import { isTerminal } from './batch'
import type { BatchService } from './batch-service'
import type { Settlement } from './settlement'
import type { WebhookDelivery } from './webhook-delivery'

export const WATCH_MAX_INTERVAL_MS = 5 * 60 * 1000
/** Polls in flight per provider at once: the watcher must never be what trips a rate limit. */
const PER_PROVIDER_CONCURRENCY = 4
const CLAIM_LIMIT = 64

export interface WatcherOptions {
  owner: string
  /** Lease on a claimed batch; longer than one poll plus settlement should take. */
  leaseMs?: number
}

export class Watcher {
  private readonly leaseMs: number
  private readonly cooldownUntil = new Map<string, number>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private running: Promise<void> | null = null
  private stopped = true

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly batches: BatchService,
    private readonly settlement: Settlement,
    private readonly webhooks: WebhookDelivery,
    private readonly opts: WatcherOptions,
  ) {
    // Long enough for a poll and the settlement of a large batch; a crashed holder's batches
    // wait this long before another instance takes them (a second settlement adds nothing).
    this.leaseMs = opts.leaseMs ?? 5 * 60 * 1000
  }

  /** Ticks every quarter interval (1 s at most): a due batch waits at most that long. */
  start(): void {
    this.stopped = false
    const every = Math.min(1000, Math.max(5, Math.floor(this.config.reporting.watchIntervalMs / 4)))
    const loop = () => {
      if (this.stopped) return
      this.running = this.tick()
        .catch((err) => log('error', 'watcher tick failed', { err: String((err as Error)?.stack ?? err) }))
        .finally(() => {
          this.running = null
          if (!this.stopped) this.timer = setTimeout(loop, every)
        })
    }
    this.timer = setTimeout(loop, every)
  }

  /** Stops ticking and waits for the tick in flight. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
    await this.webhooks.drain()
  }

  async tick(now = Date.now()): Promise<void> {
    const claimed = await this.store.watch.claimDue({
      owner: this.opts.owner,
      now,
      leaseMs: this.leaseMs,
      limit: CLAIM_LIMIT,
      firstPollMs: this.config.reporting.watchIntervalMs,
    })
    const byProvider = new Map<string, WatchedBatch[]>()
    for (const w of claimed) byProvider.set(w.batch.provider, [...(byProvider.get(w.batch.provider) ?? []), w])
    await Promise.all(
      [...byProvider.values()].map(async (queue) => {
        const workers = Array.from({ length: Math.min(PER_PROVIDER_CONCURRENCY, queue.length) }, async () => {
          for (let w = queue.shift(); w; w = queue.shift()) await this.watch(w)
        })
        await Promise.all(workers)
      }),
    )
    await this.webhooks.tick()
  }

  private async watch({ batch, intervalMs }: WatchedBatch): Promise<void> {
    const base = this.config.reporting.watchIntervalMs
    const cooldown = this.cooldownUntil.get(batch.provider) ?? 0
    if (cooldown > Date.now()) {
      await this.store.watch.reschedule(batch.id, this.opts.owner, cooldown + jitter(base), intervalMs ?? base)
      return
    }
    try {
      const fresh = isTerminal(batch.snapshot.status) ? batch : await this.batches.refresh(batch)
      if (isTerminal(fresh.snapshot.status)) {
        // Settled batches are never claimed again; the lease goes with the settlement.
        await this.settlement.settle(fresh)
        return
      }
      // Any change of status restarts the backoff: things are moving.
      const next = fresh.snapshot.status === batch.snapshot.status ? grow(intervalMs ?? base, base) : base
      await this.store.watch.reschedule(batch.id, this.opts.owner, Date.now() + jitter(next), next)
    } catch (err) {
      const retryAfterMs = err instanceof GatewayError && err.details.retryAfter !== undefined ? err.details.retryAfter * 1000 : 0
      if (err instanceof GatewayError && err.details.upstreamStatus === 429) {
        this.cooldownUntil.set(batch.provider, Date.now() + Math.max(retryAfterMs, base))
      }
      const next = Math.max(grow(intervalMs ?? base, base), retryAfterMs)
      log('warn', 'watcher could not poll or settle a batch; will retry', {
        batch: batch.id,
        provider: batch.provider,
        error: err instanceof Error ? err.message : String(err),
        retry_in_ms: next,
      })
      await this.store.watch.reschedule(batch.id, this.opts.owner, Date.now() + Math.max(jitter(next), retryAfterMs), next)
    }
  }
}

/** ×1.5 per quiet poll, from the base up to five minutes (or the base, if that is larger). */
function grow(intervalMs: number, base: number): number {
  return Math.max(base, Math.min(Math.round(intervalMs * 1.5), WATCH_MAX_INTERVAL_MS))
}

/** ±20 %, so batches created together do not poll together forever. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4))
}
