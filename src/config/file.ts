// BATCHGATE_CONFIG: a TOML file with `[tenants.NAME]` and `[providers.NAME]` tables. Read once
// at start; every problem is one line prefixed with the file's path. Secrets are referenced
// (`*_env`, `*_file`), never inline, so the file itself can be committed.

import { readFileSync } from 'node:fs'
import { PROVIDER_KINDS, PROVIDER_NAME_PATTERN } from '../core/provider-name'
import { type InstanceConfig, type InstanceLimits, readInstance } from './instances'
import { isWebhookSecret, type WebhookTarget } from './reporting'
import { isTable, Section, type TomlTable } from './section'

type Env = Record<string, string | undefined>

export interface TenantConfig {
  name: string
  /** The tenant's virtual key, or null when BATCHGATE_KEYS holds it. */
  key: string | null
  /** Monthly budget in USD (core/budget.ts); null = none. */
  budgetUsd: number | null
  /** The tenant's own webhook endpoint, replacing BATCHGATE_WEBHOOK_URL for its batches. */
  webhook: WebhookTarget | null
}

export interface ConfigFile {
  providers: InstanceConfig[]
  tenants: TenantConfig[]
}

export const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Top-level tables and how each `[section.NAME]` is read; a new section is one more entry. A
 * reader returns false when the table is unusable as a whole (its other keys then go unreported).
 */
const SECTIONS: Record<string, (name: string, s: Section, ctx: ReadContext, out: ConfigFile) => boolean> = {
  tenants: (name, s, _ctx, out) => {
    if (!TENANT_PATTERN.test(name)) s.problem(null, 'has an invalid tenant name (use [A-Za-z0-9_.-], at most 64)')
    const key = s.secret('key')
    if (key !== null && key.length < 8) s.problem(null, 'key must be at least 8 characters')
    out.tenants.push({ name, key, budgetUsd: s.number('budget_usd', 0, 1e12), webhook: tenantWebhook(s) })
    return true
  },
  providers: (name, s, ctx, out) => {
    if (!PROVIDER_NAME_PATTERN.test(name)) {
      s.problem(null, 'has an invalid provider name (lower-case letters, digits, - and _, starting with a letter)')
    }
    const kind = s.oneOf('kind', PROVIDER_KINDS)
    if (kind === null) {
      if (!s.has('kind')) s.problem('kind', `is required (one of ${PROVIDER_KINDS.join(', ')})`)
      return false
    }
    const instance = readInstance(s, name, kind, ctx.caps)
    if (instance) out.providers.push(instance)
    return true
  },
}

/** `webhook_url` with `webhook_secret_env` or `webhook_secret_file` (a whsec_ secret). */
function tenantWebhook(s: Section): WebhookTarget | null {
  const url = s.url('webhook_url')
  const secret = s.secret('webhook_secret')
  if ((url === null) !== (secret === null)) {
    s.problem(null, 'needs webhook_url and webhook_secret_env (or webhook_secret_file) together')
    return null
  }
  if (secret !== null && !isWebhookSecret(secret)) {
    s.problem('webhook_secret', 'must be whsec_ followed by base64 of 24 to 64 bytes')
    return null
  }
  return url !== null && secret !== null ? { url, secret } : null
}

interface ReadContext {
  caps: Partial<InstanceLimits>
}

export function readConfigFile(path: string, env: Env, caps: Partial<InstanceLimits>, problems: string[]): ConfigFile {
  const out: ConfigFile = { providers: [], tenants: [] }
  const fileProblems: string[] = []
  let root: TomlTable
  try {
    root = Bun.TOML.parse(readFileSync(path, 'utf8')) as TomlTable
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') {
      problems.push(`BATCHGATE_CONFIG names '${path}', which cannot be read`)
    } else {
      // Bun's parse error carries no reliable position, only what it expected.
      problems.push(`${path}: not valid TOML: ${String(e.message ?? err).replace(/^TOML Parse error: /, '')}`)
    }
    return out
  }
  for (const [sectionName, tables] of Object.entries(root)) {
    const read = SECTIONS[sectionName]
    if (!read || !isTable(tables)) {
      fileProblems.push(read ? `${sectionName} must be a table of [${sectionName}.NAME] tables` : `${sectionName} is not a known section (${Object.keys(SECTIONS).join(', ')})`)
      continue
    }
    for (const [name, table] of Object.entries(tables)) {
      const s = new Section(`${sectionName}.${name}`, isTable(table) ? table : {}, env, fileProblems)
      if (!isTable(table)) {
        s.problem(null, 'must be a table')
        continue
      }
      if (read(name, s, { caps }, out)) s.finish()
    }
  }
  for (const p of fileProblems) problems.push(`${path}: ${p}`)
  return out
}
