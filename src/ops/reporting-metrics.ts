// Metrics of issue 15 on the gateway's one registry (ops/metrics.ts): tokens and cost counted once
// per settled batch (by the instance whose settlement won), usage the price table could not
// price, and webhook delivery attempts by outcome. Models are label values: the operator's price
// table and clients' model names bound them, not ids or prompts.

import { Counter } from './prom'
import type { StoredBatch } from '../core/batch'
import type { BatchUsage } from '../core/usage'
import type { DeliveryOutcome } from '../core/webhook-delivery'
import { instrumentationOn, registry } from './metrics'

export const tokensTotal = new Counter({
  name: 'batchgate_tokens_total',
  help: 'Tokens of settled batches, by provider, model and kind (input, cached_input, output, reasoning; cached and reasoning are also in input and output).',
  labelNames: ['provider', 'model', 'kind'] as const,
  registers: [registry],
})

export const costTotal = new Counter({
  name: 'batchgate_cost_usd_total',
  help: 'Cost in USD of settled batches at batch prices, by provider and model (unpriced models add nothing here).',
  labelNames: ['provider', 'model'] as const,
  registers: [registry],
})

export const unpricedTotal = new Counter({
  name: 'batchgate_unpriced_usage_total',
  help: 'Settled per-model usage rows with tokens but no price in the table (their cost is null, never 0), by provider and model.',
  labelNames: ['provider', 'model'] as const,
  registers: [registry],
})

export const settledTotal = new Counter({
  name: 'batchgate_batches_settled_total',
  help: 'Batches whose usage was settled, by provider and final status.',
  labelNames: ['provider', 'status'] as const,
  registers: [registry],
})

export const webhookDeliveries = new Counter({
  name: 'batchgate_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome: delivered, failed (will be retried), gave_up.',
  labelNames: ['outcome'] as const,
  registers: [registry],
})

export function countSettled(batch: StoredBatch, usage: BatchUsage): void {
  if (!instrumentationOn()) return
  const provider = batch.provider
  settledTotal.inc({ provider, status: batch.snapshot.status })
  for (const m of usage.models) {
    const kinds: Array<[string, number]> = [
      ['input', m.inputTokens],
      ['cached_input', m.cachedTokens],
      ['output', m.outputTokens],
      ['reasoning', m.reasoningTokens],
    ]
    for (const [kind, n] of kinds) if (n > 0) tokensTotal.inc({ provider, model: m.model, kind }, n)
    if (m.costUsd === null) unpricedTotal.inc({ provider, model: m.model })
    else if (m.costUsd > 0) costTotal.inc({ provider, model: m.model }, m.costUsd)
  }
}

export function countDelivery(outcome: DeliveryOutcome): void {
  if (instrumentationOn()) webhookDeliveries.inc({ outcome })
}
