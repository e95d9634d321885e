// Nothing a caller sends is dropped in silence (issue 11 class 11): a query parameter or form
// field a route does not take is a 400 naming it and what the route does take. Elysia strips
// unknown query keys before validation (even with additionalProperties: false), so the raw URL
// is read here; JSON bodies refuse unknown fields in their schemas instead.

import type { TObject } from '@sinclair/typebox'
import { invalid } from '../errors'

const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s)

/**
 * Route options for a query schema: the schema, and a check that every key of the raw query is
 * one of its properties (or matches `extra`, for bracketed families such as `storage_config[…]`).
 */
export function knownQuery<T extends TObject>(schema: T, extra: readonly RegExp[] = []) {
  const known = Object.keys(schema.properties)
  return {
    query: schema,
    beforeHandle: ({ request }: { request: Request }): void => {
      const q = request.url.indexOf('?')
      if (q === -1) return
      for (const key of new URLSearchParams(request.url.slice(q + 1)).keys()) {
        if (known.includes(key) || extra.some((re) => re.test(key))) continue
        throw invalid(`Unrecognized query parameter: '${clip(key)}'. This route takes: ${listOf(known)}.`, { param: clip(key) })
      }
    },
  }
}

/** Refuses a multipart form field the route does not take. */
export function onlyKnownFields(fields: ReadonlyMap<string, string>, known: readonly string[], extra: readonly RegExp[] = []): void {
  for (const key of fields.keys()) {
    if (known.includes(key) || extra.some((re) => re.test(key))) continue
    throw invalid(`Unrecognized form field: '${clip(key)}'. This upload takes: ${listOf(known)}.`, { param: clip(key) })
  }
}

const listOf = (names: readonly string[]): string => (names.length > 0 ? names.join(', ') : 'no parameters')
