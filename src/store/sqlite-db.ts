// SqlDb over bun:sqlite. Statements are cached by bun:sqlite's own query() cache; the promise
// wrapper costs one microtask, which keeps the interface the same as PostgreSQL's.

import type { Database } from 'bun:sqlite'
import type { SqlDb, SqlValue } from './sql'

export class SqliteDb implements SqlDb {
  readonly engine = 'sqlite' as const

  constructor(readonly raw: Database) {}

  async all<T>(sql: string, args: readonly SqlValue[] = []): Promise<T[]> {
    return this.raw.query<T, SqlValue[]>(sql).all(...args)
  }

  async get<T>(sql: string, args: readonly SqlValue[] = []): Promise<T | null> {
    return this.raw.query<T, SqlValue[]>(sql).get(...args) ?? null
  }

  async run(sql: string, args: readonly SqlValue[] = []): Promise<number> {
    return this.raw.query(sql).run(...args).changes
  }

  private readonly runSync = (sql: string, args: readonly SqlValue[]): number => this.raw.query(sql).run(...(args as SqlValue[])).changes

  async transaction<T>(fn: (run: (sql: string, args: readonly SqlValue[]) => number) => T): Promise<T> {
    return this.raw.transaction(() => fn(this.runSync))()
  }

  async close(): Promise<void> {
    this.raw.close()
  }
}
