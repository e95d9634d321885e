// Virtual keys → tenant. When BATCHGATE_KEYS is unset the gateway is open and every caller is
// the `default` tenant. Client keys are only ever read here and never forwarded upstream.
//
// Lookup is by SHA-256 of the presented key, then one constant-time compare of the key itself:
// the map probe depends only on a hash the caller cannot steer towards a secret, so timing says
// nothing about a key's prefix, and a keys file of thousands of keys costs one probe, not a scan.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { Dialect } from './core/provider-name'
import { GatewayError } from './errors'

export const OPEN_TENANT = 'default'

interface KeyEntry {
  secret: Buffer
  tenant: string
}

const keyrings = new WeakMap<ReadonlyMap<string, string>, Map<string, KeyEntry>>()

const digest = (value: Buffer): string => createHash('sha256').update(value).digest('hex')

function keyring(keys: ReadonlyMap<string, string>): Map<string, KeyEntry> {
  let ring = keyrings.get(keys)
  if (!ring) {
    ring = new Map()
    for (const [secret, tenant] of keys) {
      const bytes = Buffer.from(secret)
      ring.set(digest(bytes), { secret: bytes, tenant })
    }
    keyrings.set(keys, ring)
  }
  return ring
}

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
  const entry = keyring(keys).get(digest(candidate))
  if (!entry || entry.secret.length !== candidate.length || !timingSafeEqual(entry.secret, candidate)) {
    throw new GatewayError('unauthenticated', dialect === 'openai' ? 'Incorrect API key provided.' : 'invalid x-api-key')
  }
  return entry.tenant
}

/**
 * Who the usage and costs API reports on: every tenant (null) for BATCHGATE_ADMIN_KEY, else the
 * caller's own tenant — its "project".
 */
export function resolveScope(keys: ReadonlyMap<string, string> | null, adminKey: string | null, headers: Headers): string[] | null {
  const presented = presentedKey(headers, 'openai')
  if (adminKey !== null && presented !== null) {
    const a = Buffer.from(digest(Buffer.from(adminKey)))
    if (timingSafeEqual(a, Buffer.from(digest(Buffer.from(presented))))) return null
  }
  return [resolveTenant(keys, headers, 'openai')]
}

function presentedKey(headers: Headers, dialect: Dialect): string | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '')?.[1]?.trim()
  if (dialect === 'anthropic') return headers.get('x-api-key')?.trim() || bearer || null
  return bearer || null
}
