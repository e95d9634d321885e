// Monthly budgets per tenant (BATCHGATE_CONFIG `[tenants.NAME] budget_usd`). A create is refused
// once settled spend plus the estimate of batches still running reaches the budget.
//
// The estimate (docs/usage-and-costs.md): a running batch will cost about what the tenant's
// requests have cost on average over the last 30 days of settled usage, times its request count
// (at least 1 per batch, since some providers report 0 until they have read the input). With no
// settled history the estimate is 0 — the first batches of a new tenant are never refused on a
// guess. The month is the calendar month in UTC.

import type { Config } from '../config'
import { GatewayError } from '../errors'
import type { Store } from '../store/store'

const DAY = 86_400

export interface BudgetStatus {
  budgetUsd: number
  settledUsd: number
  inFlightUsd: number
}

export class Budgets {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
  ) {}

  /** Null when the tenant has no budget. */
  async status(tenant: string, now = Date.now()): Promise<BudgetStatus | null> {
    const budgetUsd = this.config.tenants.get(tenant)?.budgetUsd ?? null
    if (budgetUsd === null) return null
    const d = new Date(now)
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000
    const nowS = Math.floor(now / 1000)
    const [month, recent, running] = await Promise.all([
      this.store.usage.spentSince(tenant, monthStart),
      this.store.usage.spentSince(tenant, nowS - 30 * DAY),
      this.store.usage.inFlightRequests(tenant, monthStart),
    ])
    const perRequest = recent.requests > 0 ? recent.usd / recent.requests : 0
    const inFlightUsd = running.reduce((sum, total) => sum + Math.max(1, total) * perRequest, 0)
    return { budgetUsd, settledUsd: month.usd, inFlightUsd }
  }

  /** Throws quota_exceeded when the tenant's month is spent. */
  async check(tenant: string): Promise<void> {
    const s = await this.status(tenant)
    if (!s || s.settledUsd + s.inFlightUsd < s.budgetUsd) return
    const usd = (n: number) => `$${n.toFixed(2)}`
    throw new GatewayError(
      'quota_exceeded',
      `Monthly budget of ${usd(s.budgetUsd)} for this project is used up: ${usd(s.settledUsd)} settled and about ` +
        `${usd(s.inFlightUsd)} estimated for batches still running. New batches are refused until next month or until the budget is raised.`,
      { code: 'insufficient_quota' },
    )
  }
}
