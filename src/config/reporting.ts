// Settings of the watcher, settlement, prices and webhooks (issue 15), read by config.ts from the
// environment it was given; every problem is one line in `problems`.

import { loadPriceTable, type PriceTable } from '../prices/price-table'

export interface WebhookTarget {
  url: string
  /** Standard Webhooks secret, `whsec_` + base64. */
  secret: string
}

export interface ReportingConfig {
  /** First poll of a new batch after this long; the backoff grows from it to WATCH_MAX_INTERVAL_MS. */
  watchIntervalMs: number
  /** First webhook retry after this long; then exponential with jitter for up to 72 h. */
  webhookRetryBaseMs: number
  /** BATCHGATE_WEBHOOK_URL + BATCHGATE_WEBHOOK_SECRET: where every tenant's events go by default. */
  webhook: WebhookTarget | null
  /** Sees every tenant in the usage and costs API. */
  adminKey: string | null
  prices: PriceTable
}

export const REPORTING_SETTINGS: ReadonlyArray<[name: string, fallback: string, meaning: string]> = [
  ['BATCHGATE_WATCH_INTERVAL_MS', '30000', 'first poll of a batch by the watcher (backoff grows to 5 min)'],
  ['BATCHGATE_WEBHOOK_URL', '(none)', 'endpoint for batch.* webhooks (Standard Webhooks signed)'],
  ['BATCHGATE_WEBHOOK_SECRET', '(none)', 'whsec_… signing secret for BATCHGATE_WEBHOOK_URL'],
  ['BATCHGATE_WEBHOOK_RETRY_BASE_MS', '5000', 'first webhook retry; exponential with jitter for up to 72 h'],
  ['BATCHGATE_ADMIN_KEY', '(none)', 'key that sees every tenant in /organization/usage and /costs'],
  ['BATCHGATE_PRICES_FILE', '(shipped table)', 'JSON batch price table replacing the shipped one'],
]

interface Readers {
  str(name: string): string | null
  int(name: string, fallback: number, min: number, max: number): number
  url(name: string, fallback: string): string
}

export function readReporting({ str, int, url }: Readers, problems: string[]): ReportingConfig {
  const webhookUrl = str('BATCHGATE_WEBHOOK_URL') === null ? null : url('BATCHGATE_WEBHOOK_URL', '')
  const secret = str('BATCHGATE_WEBHOOK_SECRET')
  if ((webhookUrl === null) !== (secret === null)) {
    problems.push('BATCHGATE_WEBHOOK_URL and BATCHGATE_WEBHOOK_SECRET must be set together')
  }
  if (secret !== null && !isWebhookSecret(secret)) {
    // The secret itself is never echoed.
    problems.push('BATCHGATE_WEBHOOK_SECRET must be whsec_ followed by base64 of 24 to 64 bytes')
  }
  const adminKey = str('BATCHGATE_ADMIN_KEY')
  if (adminKey !== null && adminKey.length < 16) problems.push('BATCHGATE_ADMIN_KEY must be at least 16 characters')
  return {
    watchIntervalMs: int('BATCHGATE_WATCH_INTERVAL_MS', 30_000, 10, 3_600_000),
    webhookRetryBaseMs: int('BATCHGATE_WEBHOOK_RETRY_BASE_MS', 5_000, 10, 3_600_000),
    webhook: webhookUrl !== null && secret !== null ? { url: webhookUrl, secret } : null,
    adminKey,
    prices: loadPriceTable(str('BATCHGATE_PRICES_FILE'), problems),
  }
}

export function isWebhookSecret(secret: string): boolean {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)
  if (!m) return false
  const bytes = Buffer.from(m[1] as string, 'base64').length
  return bytes >= 24 && bytes <= 64
}
