// SqlDb over bun:sqlite. Statements are cached by bun:sqlite's own query() cache; the promise
// wrapper costs one microtask, which keeps the interface the same as PostgreSQL's.

import type { Database } from 'bun:sqlite'
import { Checkpointer } from './checkpointer'
import type { SqlDb, SqlValue } from './sql'

export class SqliteDb implements SqlDb {
  readonly engine = 'sqlite' as const

  private readonly checkpointer: Checkpointer | null

  constructor(readonly raw: Database) {
    this.checkpointer = raw.filename && raw.filename !== ':memory:' ? new Checkpointer(raw) : null
  }

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

  checkpointAside(): void {
    this.checkpointer?.start()
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop()
    this.raw.close()
  }
}
