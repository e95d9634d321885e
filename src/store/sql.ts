// The one seam between the mapping tables and a database engine. Mappings write portable SQL
// with `?` placeholders; each engine runs it (PostgreSQL renumbers them to $1…). Keeping one
// set of queries for both engines is what keeps paging, ordering and id semantics identical.

export type SqlValue = string | number | null

export interface SqlDb {
  readonly engine: 'sqlite' | 'postgres'
  all<T>(sql: string, args?: readonly SqlValue[]): Promise<T[]>
  get<T>(sql: string, args?: readonly SqlValue[]): Promise<T | null>
  /** Runs a write; resolves to the number of rows it changed. */
  run(sql: string, args?: readonly SqlValue[]): Promise<number>
  /**
   * Runs `fn` in one transaction, its writes through a synchronous `run` that returns the rows
   * each changed. Only SQLite offers it: one prepared statement per row beats a multi-row
   * statement re-prepared for each row count there, while PostgreSQL would pay a round trip per
   * statement.
   */
  transaction?<T>(fn: (run: (sql: string, args: readonly SqlValue[]) => number) => T): Promise<T>
  /**
   * SQLite: checkpoints the WAL on another thread from now on (store/checkpointer.ts), for
   * writers committing many small groups. Idempotent.
   */
  checkpointAside?(): void
  close(): Promise<void>
}

/** JSON columns are TEXT on both engines: what went in as a string comes out as one. */
export const json = (value: unknown): string => JSON.stringify(value)

/** PostgreSQL returns BIGINT as a string; the store's numbers all fit a double. */
export const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v))
export const numOrNull = (v: number | string | null): number | null => (v === null ? null : num(v))
