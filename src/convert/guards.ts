// Small readers for untrusted JSON. Every failure becomes an `invalid_request` GatewayError whose
// message starts with the path of the offending field, so a caller can fix its input without
// guessing (`line 3: body.messages.0.content: …`, `requests.2.params.max_tokens: …`).

import { type GatewayError, invalid } from '../errors'

export type JsonObject = Record<string, unknown>

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Where a value sits in the caller's input: its dotted path and, for JSONL files, the 1-based line. */
export interface Site {
  param: string
  line?: number
}

/**
 * A child's site, its dotted path built only if asked for: almost every field checked is fine,
 * and building every path eagerly (an object spread and a string per field) was ~10 % of a
 * converting upload's CPU profile (issue 12).
 */
class ChildSite implements Site {
  private path: string | undefined
  readonly line: number | undefined

  constructor(
    private readonly parent: Site,
    private readonly key: string | number,
  ) {
    this.line = parent.line
  }

  get param(): string {
    if (this.path === undefined) this.path = this.parent.param === '' ? String(this.key) : `${this.parent.param}.${this.key}`
    return this.path
  }
}

/** The site of a child value (`body.messages` + 0 → `body.messages.0`). */
export const at = (site: Site, key: string | number): Site => new ChildSite(site, key)

export function fail(site: Site, problem: string): GatewayError {
  const where = [site.line === undefined ? '' : `line ${site.line}`, site.param].filter((s) => s !== '').join(': ')
  const details: { line?: number; param?: string } = {}
  if (site.line !== undefined) details.line = site.line
  if (site.param !== '') details.param = site.param
  return invalid(where === '' ? problem : `${where}: ${problem}`, details)
}

/** JSON `null` means "not set" in both OpenAI and Anthropic bodies; treat it like absence. */
export const isUnset = (v: unknown): v is null | undefined => v === undefined || v === null

export function object(v: unknown, site: Site): JsonObject {
  if (!isObject(v)) throw fail(site, 'must be a JSON object')
  return v
}

export function list(v: unknown, site: Site): unknown[] {
  if (!Array.isArray(v)) throw fail(site, 'must be an array')
  return v
}

export function string(v: unknown, site: Site): string {
  if (v === undefined) throw fail(site, 'field required')
  if (typeof v !== 'string') throw fail(site, 'must be a string')
  return v
}

export function nonEmptyString(v: unknown, site: Site): string {
  const s = string(v, site)
  if (s === '') throw fail(site, 'must not be empty')
  return s
}

export function optionalString(v: unknown, site: Site): string | null {
  return isUnset(v) ? null : string(v, site)
}

export interface NumberRange {
  min?: number
  max?: number
  integer?: boolean
}

export function optionalNumber(v: unknown, site: Site, range: NumberRange = {}): number | null {
  if (isUnset(v)) return null
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(site, 'must be a number')
  if (range.integer && !Number.isInteger(v)) throw fail(site, 'must be an integer')
  if (range.min !== undefined && v < range.min) throw fail(site, `must be greater than or equal to ${range.min}`)
  if (range.max !== undefined && v > range.max) throw fail(site, `must be less than or equal to ${range.max}`)
  return v
}

export function optionalBoolean(v: unknown, site: Site): boolean | null {
  if (isUnset(v)) return null
  if (typeof v !== 'boolean') throw fail(site, 'must be a boolean')
  return v
}

/** Rejects keys outside `allowed`: an unknown field is never dropped silently. */
export function onlyKeys(o: JsonObject, allowed: readonly string[], site: Site): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw fail(at(site, key), 'unknown field; batchgate cannot convert it')
  }
}

/** Rejects a field that may only carry its "unset" value (null/absent) or a listed harmless value. */
export function onlyDefault(v: unknown, site: Site, harmless: readonly unknown[], why: string): void {
  if (isUnset(v) || harmless.some((h) => h === v)) return
  throw fail(site, why)
}
