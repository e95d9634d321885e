// Virtual keys → tenant. When BATCHGATE_KEYS is unset the gateway is open and every caller is
// the `default` tenant. Keys are compared in constant time so response timing leaks nothing
// about a key's prefix; client keys are only ever read here and never forwarded upstream.

import { timingSafeEqual } from 'node:crypto'
import type { Dialect } from './core/provider-name'
import { GatewayError } from './errors'

export const OPEN_TENANT = 'default'

export function resolveTenant(keys: ReadonlyMap<string, string> | null, headers: Headers, dialect: Dialect): string {
  if (keys === null) return OPEN_TENANT
  const presented = presentedKey(headers, dialect)
  if (!presented) {
    throw new GatewayError(
      'unauthenticated',
      dialect === 'openai'
        ? "You didn't provide an API key. Send your batchgate key as 'Authorization: Bearer <key>'."
        : 'x-api-key header is required (or Authorization: Bearer <key>).',
    )
  }
  const candidate = Buffer.from(presented)
  let tenant: string | null = null
  // Compare against every key without stopping early, so timing does not tell which matched.
  for (const [secret, owner] of keys) {
    const s = Buffer.from(secret)
    const same = s.length === candidate.length && timingSafeEqual(s, candidate)
    if (same) tenant = owner
  }
  if (tenant === null) {
    throw new GatewayError('unauthenticated', dialect === 'openai' ? 'Incorrect API key provided.' : 'invalid x-api-key')
  }
  return tenant
}

function presentedKey(headers: Headers, dialect: Dialect): string | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '')?.[1]?.trim()
  if (dialect === 'anthropic') return headers.get('x-api-key')?.trim() || bearer || null
  return bearer || null
}
