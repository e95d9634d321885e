// Settles a finished batch exactly once: reads its results one line at a time, tallies usage per
// model, prices it, and writes usage and webhook events in one transaction keyed by the batch id
// (store/usage-ledger.ts). Reading is repeated if the process dies first; writing happens once.

import type { Config } from '../config'
import type { GatewayError } from '../errors'
import { log } from '../log'
import { costOf } from '../prices/price-table'
import type { Store } from '../store/store'
import type { OutboxEvent } from '../store/webhook-outbox'
import { endedAt, isTerminal, settledCounts, type StoredBatch } from './batch'
import type { BatchService } from './batch-service'
import { batchEvent, webhookTargets } from './webhook-events'
import { type BatchUsage, tallyResults } from './usage'

/** How long after a batch ended its results may stay unreadable before it is settled without them. */
export const RESULTS_GRACE_S = 24 * 3600

/** Called once per batch, by the instance whose transaction won (metrics). */
export type OnSettled = (batch: StoredBatch, usage: BatchUsage) => void

export class Settlement {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly batches: BatchService,
    private readonly onSettled: OnSettled = () => undefined,
  ) {}

  /**
   * True when this call settled the batch. Throws (to be retried) when results cannot be read —
   * until the batch ended RESULTS_GRACE_S ago: then it is settled with every request missing, so
   * its accounting and webhook are not held back for ever by results that are gone.
   */
  async settle(batch: StoredBatch, now = Date.now()): Promise<boolean> {
    if (batch.usage || !isTerminal(batch.snapshot.status)) return false
    let usage: BatchUsage
    try {
      usage = await this.tally(batch)
    } catch (err) {
      if (now / 1000 - endedAt(batch) < RESULTS_GRACE_S) throw err
      log('error', 'results unreadable since the batch ended; settled with every request missing', {
        batch: batch.id,
        error: err instanceof Error ? err.message : String(err),
      })
      usage = this.unread(batch)
    }
    const events = this.events(batch, usage.settledAt)
    const won = await this.store.usage.settle(batch, usage, events)
    if (won) {
      log('info', 'batch usage settled', {
        batch: batch.id,
        provider: batch.provider,
        status: batch.snapshot.status,
        models: usage.models.map((m) => m.model),
        bad_lines: usage.badLines,
        missing_lines: usage.missingLines,
        cost_usd: usage.costUsd,
        webhooks: events.length,
      })
      this.onSettled(batch, usage)
    }
    return won
  }

  private async tally(batch: StoredBatch): Promise<BatchUsage> {
    let badLines = 0
    const onBadLine = (err: GatewayError) => {
      badLines++
      // Counted, never fatal: one bad line must not zero the rest (issue 15).
      log('warn', 'unreadable result line counted as bad', { batch: batch.id, line: err.details.line, message: err.message })
    }
    const tally = await tallyResults(this.batches.allResults(batch, onBadLine), batch.snapshot.model)
    const { total } = settledCounts(batch.snapshot.status, batch.snapshot.counts)
    const models = [...tally.models.values()].map((m) => ({ ...m, costUsd: costOf(this.config.reporting.prices, this.kindOf(batch), m) }))
    const unpriced = models.some((m) => m.costUsd === null)
    return {
      models,
      badLines,
      missingLines: Math.max(0, total - tally.lines - badLines),
      costUsd: unpriced ? null : models.reduce((n, m) => n + (m.costUsd ?? 0), 0),
      settledAt: Math.floor(Date.now() / 1000),
    }
  }

  private unread(batch: StoredBatch): BatchUsage {
    const { total } = settledCounts(batch.snapshot.status, batch.snapshot.counts)
    return { models: [], badLines: 0, missingLines: total, costUsd: 0, settledAt: Math.floor(Date.now() / 1000) }
  }

  /** Prices are per provider kind: a named instance costs what the API it speaks costs. */
  private kindOf(batch: StoredBatch): string {
    return this.config.providers.get(batch.provider)?.kind ?? batch.provider
  }

  private events(batch: StoredBatch, at: number): OutboxEvent[] {
    return webhookTargets(this.config, batch.tenant).map((target) => batchEvent(batch, target, at))
  }
}
