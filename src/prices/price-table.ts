// The batch price table: the shipped batch-prices.json (sources and date inside), or the file
// BATCHGATE_PRICES_FILE names, checked once at start. Cost is computed from settled usage; a
// model the table does not know costs null, never 0 (issue 15).

import { readFileSync } from 'node:fs'
import type { ModelUsage } from '../core/usage'
import { PROVIDER_KINDS } from '../core/provider-name'
import shipped from './batch-prices.json'

export interface ModelPrice {
  /** USD per 1M input tokens (not read from cache). */
  input: number
  /** USD per 1M input tokens read from a prompt cache; defaults to `input`. */
  cachedInput: number
  /** USD per 1M output tokens (reasoning included). */
  output: number
}

export type PriceTable = ReadonlyMap<string, ReadonlyMap<string, ModelPrice>>

/** Keyed by provider kind: a named instance is priced as the API it speaks. */
const PROVIDERS: readonly string[] = PROVIDER_KINDS

/** Parses a price file's JSON; every problem is pushed to `problems` naming where it is. */
export function parsePriceTable(value: unknown, where: string, problems: string[]): PriceTable {
  const table = new Map<string, Map<string, ModelPrice>>()
  const providers = (value as { providers?: unknown } | null)?.providers
  if (typeof providers !== 'object' || providers === null) {
    problems.push(`${where} must be a JSON object with "providers"`)
    return table
  }
  for (const [provider, entry] of Object.entries(providers)) {
    if (!PROVIDERS.includes(provider)) {
      problems.push(`${where}: unknown provider '${provider}' (known: ${PROVIDERS.join(', ')})`)
      continue
    }
    const models = (entry as { models?: unknown } | null)?.models
    if (typeof models !== 'object' || models === null) {
      problems.push(`${where}: providers.${provider}.models must be an object`)
      continue
    }
    const prices = new Map<string, ModelPrice>()
    for (const [model, raw] of Object.entries(models)) {
      const p = raw as Record<string, unknown>
      const num = (k: string) => (typeof p?.[k] === 'number' && Number.isFinite(p[k]) && (p[k] as number) >= 0 ? (p[k] as number) : null)
      const input = num('input')
      const output = num('output')
      const cached = p?.cached_input === undefined ? input : num('cached_input')
      if (input === null || output === null || cached === null) {
        problems.push(`${where}: providers.${provider}.models.${model} needs non-negative numbers input, output (and cached_input if given)`)
        continue
      }
      prices.set(normalizeModel(model), { input, cachedInput: cached, output })
    }
    table.set(provider, prices)
  }
  return table
}

export function loadPriceTable(file: string | null, problems: string[]): PriceTable {
  if (file === null) return parsePriceTable(shipped, 'batch-prices.json', problems)
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    problems.push(`BATCHGATE_PRICES_FILE cannot be read as JSON ('${file}': ${(err as Error).message})`)
    return new Map()
  }
  return parsePriceTable(value, 'BATCHGATE_PRICES_FILE', problems)
}

/** Region, vendor and `models/` prefixes say nothing about the price. */
export function normalizeModel(model: string): string {
  return model
    .toLowerCase()
    .replace(/^models\//, '')
    .replace(/^(us|eu|apac|global|jp|au|ca|us-gov)\./, '')
    .replace(/^(anthropic|amazon)\./, '')
}

/** The longest key equal to the model or followed by '-', ':' or '@'. */
export function priceOf(table: PriceTable, provider: string, model: string): ModelPrice | null {
  const prices = table.get(provider)
  if (!prices) return null
  const name = normalizeModel(model)
  let best: [string, ModelPrice] | null = null
  for (const [key, price] of prices) {
    const fits = name === key || (name.startsWith(key) && '-:@'.includes(name.charAt(key.length)))
    if (fits && (!best || key.length > best[0].length)) best = [key, price]
  }
  return best?.[1] ?? null
}

/** USD for one model's usage; null when unpriced. Rows with no tokens cost 0 whatever the model. */
export function costOf(table: PriceTable, provider: string, usage: ModelUsage): number | null {
  if (usage.inputTokens === 0 && usage.outputTokens === 0) return 0
  const price = priceOf(table, provider, usage.model)
  if (!price) return null
  const cached = Math.min(usage.cachedTokens, usage.inputTokens)
  return ((usage.inputTokens - cached) * price.input + cached * price.cachedInput + usage.outputTokens * price.output) / 1_000_000
}
