// Opens the gateway's SQLite database (WAL) under the data dir and brings its schema up to date
// in one transaction, so an upgrade is all-or-nothing.

import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { prepareDataDir } from './data-dir'
import { forSqlite, MIGRATIONS, type MigrationStep } from './migrations'

export function openDatabase(dataDir: string | ':memory:'): Database {
  let db: Database
  if (dataDir === ':memory:') {
    db = new Database(':memory:', { strict: true })
  } else {
    prepareDataDir(dataDir)
    db = new Database(join(dataDir, 'batchgate.sqlite'), { create: true, strict: true })
    db.exec('PRAGMA journal_mode = WAL')
  }
  // Concurrent writers wait instead of failing with SQLITE_BUSY (issue 7 §9).
  db.exec('PRAGMA busy_timeout = 5000')
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
