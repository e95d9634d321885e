// Reads one TOML table of BATCHGATE_CONFIG field by field. Every problem becomes one line naming
// its path (`providers.eu.base_url must be …`), every key not read is reported as unknown (a typo
// must not silently fall back to a default), and secrets are only ever read by reference.
// Adding a setting is one more reader call where its section is read.

import { readFileSync } from 'node:fs'

export type TomlTable = Record<string, unknown>
type Env = Record<string, string | undefined>

export function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

export class Section {
  private readonly read = new Set<string>()

  constructor(
    /** Dotted path of this table, e.g. `providers.openai-eu`. */
    readonly path: string,
    private readonly table: TomlTable,
    private readonly env: Env,
    readonly problems: string[],
  ) {}

  problem(key: string | null, what: string): void {
    this.problems.push(`${key === null ? this.path : `${this.path}.${key}`} ${what}`)
  }

  has(key: string): boolean {
    return this.table[key] !== undefined
  }

  private take(key: string): unknown {
    this.read.add(key)
    return this.table[key]
  }

  string(key: string, check?: { pattern: RegExp; like: string }): string | null {
    const v = this.take(key)
    if (v === undefined) return null
    if (typeof v !== 'string' || v.trim() === '') {
      this.problem(key, 'must be a non-empty string')
      return null
    }
    if (check && !check.pattern.test(v)) {
      this.problem(key, `must look like ${check.like} (got '${v.slice(0, 80)}')`)
      return null
    }
    return v.trim()
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | null {
    const v = this.take(key)
    if (v === undefined) return null
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.problem(key, `must be one of ${values.join(', ')} (got '${String(v).slice(0, 40)}')`)
      return null
    }
    return v as T
  }

  /** An http(s) URL without trailing slashes. */
  url(key: string): string | null {
    const v = this.string(key)
    if (v === null) return null
    try {
      const u = new URL(v)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
    } catch {
      this.problem(key, `must be an http(s) URL (got '${v.slice(0, 80)}')`)
      return null
    }
    return v.replace(/\/+$/, '')
  }

  int(key: string, min: number, max: number): number | null {
    const v = this.take(key)
    if (v === undefined) return null
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(key, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)?.slice(0, 40)})`)
      return null
    }
    return v
  }

  /** A finite number (TOML integer or float) within [min, max]. */
  number(key: string, min: number, max: number): number | null {
    const v = this.take(key)
    if (v === undefined) return null
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problem(key, `must be a number from ${min} to ${max} (got ${JSON.stringify(v)?.slice(0, 40)})`)
      return null
    }
    return v
  }

  strings(key: string, check?: (item: string) => string | null): string[] | null {
    const v = this.take(key)
    if (v === undefined) return null
    if (!Array.isArray(v) || v.some((item) => typeof item !== 'string')) {
      this.problem(key, 'must be an array of strings')
      return null
    }
    const out: string[] = []
    for (const item of v as string[]) {
      const why = check?.(item) ?? null
      if (why) this.problem(key, why)
      else out.push(item)
    }
    return out
  }

  /**
   * A secret by reference: `<base>_env` names an environment variable, `<base>_file` a file whose
   * contents (trailing newline trimmed) are the secret. Never inline; never echoed in a problem.
   */
  secret(base: string): string | null {
    if (this.take(base) !== undefined) {
      this.problem(base, `must not hold a secret inline; use ${base}_env = "VARIABLE" or ${base}_file = "/path"`)
    }
    const fromEnv = this.string(`${base}_env`, { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, like: 'an environment variable name' })
    const fromFile = this.string(`${base}_file`)
    if (fromEnv !== null && fromFile !== null) {
      this.problem(null, `sets both ${base}_env and ${base}_file; keep one`)
      return null
    }
    if (fromEnv !== null) {
      const value = this.env[fromEnv]?.trim()
      if (!value) this.problem(`${base}_env`, `names ${fromEnv}, which is not set`)
      return value || null
    }
    if (fromFile !== null) {
      try {
        const value = readFileSync(fromFile, 'utf8').replace(/\r?\n$/, '')
        if (!value.trim()) this.problem(`${base}_file`, `names '${fromFile}', which is empty`)
        return value.trim() || null
      } catch {
        this.problem(`${base}_file`, `names '${fromFile}', which cannot be read`)
      }
    }
    return null
  }

  /** Reports every key no reader asked for. Call once, after all readers. */
  finish(): void {
    for (const key of Object.keys(this.table)) {
      if (!this.read.has(key)) this.problem(key, 'is not a known setting')
    }
  }
}
