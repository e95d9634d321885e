// Brings a PostgreSQL database up to MIGRATIONS.length. Instances starting together take the
// same transaction-scoped advisory lock first, so exactly one applies the steps and the others
// then see the new version; a failed step rolls the whole upgrade back.

import type { SQL } from 'bun'
import { forPostgres, MIGRATIONS, type MigrationStep } from './migrations'

/** pg_advisory_xact_lock(int4, int4): "batc" and a slot number, unlikely to collide with others' keys. */
const LOCK = [0x62617463, 1] as const

export async function migratePostgres(sql: SQL): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK[0]}, ${LOCK[1]})`
    await tx.unsafe('CREATE TABLE IF NOT EXISTS batchgate_schema (version INTEGER NOT NULL)')
    const [row] = await tx.unsafe('SELECT version FROM batchgate_schema')
    const current = row ? Number(row.version) : 0
    if (current > MIGRATIONS.length) {
      throw new Error(`database schema v${current} is newer than this batchgate (v${MIGRATIONS.length})`)
    }
    for (let v = current; v < MIGRATIONS.length; v++) await tx.unsafe(forPostgres(MIGRATIONS[v] as MigrationStep))
    if (!row) await tx.unsafe('INSERT INTO batchgate_schema (version) VALUES ($1)', [MIGRATIONS.length])
    else if (current < MIGRATIONS.length) await tx.unsafe('UPDATE batchgate_schema SET version = $1', [MIGRATIONS.length])
    return MIGRATIONS.length
  })
}

export async function postgresSchemaVersion(sql: SQL): Promise<number> {
  const [row] = await sql.unsafe('SELECT version FROM batchgate_schema')
  return row ? Number(row.version) : 0
}
