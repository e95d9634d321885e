// The vocabulary for "what happens to this request field" tables (openai-fields.ts,
// anthropic-fields.ts) and the one checker that enforces them, so no field is dropped silently.

import { at, fail, isUnset, type JsonObject, type Site } from '../guards'

export type FieldRule =
  /** Read by the converter into a ChatRequest field. */
  | { kind: 'mapped' }
  /** Harmless to ignore whatever its value; `why` is what the docs say. */
  | { kind: 'ignored'; why: string }
  /** Accepted only unset or at a no-op value (`harmless`); anything else is an error. */
  | { kind: 'default-only'; harmless: (v: unknown) => boolean; why: string }
  /** No neutral equivalent: any non-null value is an error. */
  | { kind: 'rejected'; why: string }

export const MAPPED: FieldRule = { kind: 'mapped' }
export const rejected = (why: string): FieldRule => ({ kind: 'rejected', why })

/** Throws on the first field that is unknown, rejected, or set to a value that cannot be honoured. */
export function checkFields(table: Readonly<Record<string, FieldRule>>, body: JsonObject, site: Site, targets: string): void {
  for (const [key, value] of Object.entries(body)) {
    const fieldSite = at(site, key)
    const rule = Object.hasOwn(table, key) ? table[key] : undefined
    if (rule === undefined) throw fail(fieldSite, `unknown field; batchgate cannot convert it to ${targets}`)
    switch (rule.kind) {
      case 'mapped':
      case 'ignored':
        break
      case 'default-only':
        if (!isUnset(value) && !rule.harmless(value)) throw fail(fieldSite, `cannot be converted to ${targets}: ${rule.why}`)
        break
      case 'rejected':
        if (!isUnset(value)) throw fail(fieldSite, `cannot be converted to ${targets}: ${rule.why}`)
        break
      default:
        rule satisfies never
    }
  }
}
