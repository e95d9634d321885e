// SqlDb over PostgreSQL through Bun's built-in client (`new SQL(url)`, no extra driver). The
// mappings' `?` placeholders become $1…$n once per distinct statement; Bun prepares each
// statement per connection, so a hot query is parsed once.

import { SQL } from 'bun'
import type { SqlDb, SqlValue } from './sql'

export class PgDb implements SqlDb {
  readonly engine = 'postgres' as const
  readonly raw: SQL
  private readonly numbered = new Map<string, string>()

  constructor(url: string, opts: { max?: number } = {}) {
    this.raw = new SQL(url, { max: opts.max ?? 10, idleTimeout: 30 })
  }

  private text(sql: string): string {
    let out = this.numbered.get(sql)
    if (out === undefined) {
      let n = 0
      // The store's SQL has no `?` inside string literals, so a plain scan is exact.
      out = sql.replace(/\?/g, () => `$${++n}`)
      this.numbered.set(sql, out)
    }
    return out
  }

  async all<T>(sql: string, args: readonly SqlValue[] = []): Promise<T[]> {
    const rows = await this.raw.unsafe(this.text(sql), args as SqlValue[])
    return [...rows] as T[]
  }

  async get<T>(sql: string, args: readonly SqlValue[] = []): Promise<T | null> {
    const rows = await this.raw.unsafe(this.text(sql), args as SqlValue[])
    return (rows[0] as T | undefined) ?? null
  }

  async run(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    const result = (await this.raw.unsafe(this.text(sql), args as SqlValue[])) as unknown as { count: number | null }
    return result.count ?? 0
  }

  async close(): Promise<void> {
    await this.raw.close()
  }
}
