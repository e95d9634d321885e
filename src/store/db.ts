// Opens the gateway's SQLite database (WAL) under the data dir and brings its schema up to date
// in one transaction, so an upgrade is all-or-nothing.

import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { prepareDataDir } from './data-dir'
import { forSqlite, MIGRATIONS, type MigrationStep } from './migrations'

export function openDatabase(dataDir: string | ':memory:'): Database {
  const inMemory = dataDir === ':memory:'
  if (!inMemory) prepareDataDir(dataDir)
  const db = inMemory ? new Database(':memory:', { strict: true }) : new Database(join(dataDir, 'batchgate.sqlite'), { create: true, strict: true })
  // Concurrent writers wait instead of failing with SQLITE_BUSY (issue 7 §9). Set first: the
  // switch to WAL needs a lock too, and a restart that opens the file while the previous
  // connection (or its checkpoint thread) still holds it must wait rather than fail.
  db.exec('PRAGMA busy_timeout = 5000')
  if (!inMemory) db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  migrate(db)
  return db
}

export function schemaVersion(db: Database): number {
  const row = db.query<{ user_version: number }, []>('PRAGMA user_version').get()
  return row?.user_version ?? 0
}

function migrate(db: Database): void {
  const current = schemaVersion(db)
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema v${current} is newer than this batchgate (v${MIGRATIONS.length})`)
  }
  if (current === MIGRATIONS.length) return
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(forSqlite(MIGRATIONS[v] as MigrationStep))
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`)
  })()
}
