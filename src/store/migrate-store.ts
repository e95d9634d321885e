// `batchgate migrate-store`: moves a single-instance deployment (SQLite + blobs/ under
// BATCHGATE_DATA_DIR) to the shared one (BATCHGATE_DATABASE_URL + BATCHGATE_BLOB_URL). Both
// schemas come from the same migrations, so every table is copied column for column; rows
// already in the target are left alone (ON CONFLICT DO NOTHING), so an interrupted run can
// simply be repeated. Then every blob goes to the bucket, and the copy is verified: each
// table's row count and each blob's presence. Run it with the gateway stopped.

import { copyFileSync } from 'node:fs'
import type { Config } from '../config'
import { parseBlobUrl } from './blobs'
import { S3BlobStore } from './s3-blobs'
import { openPostgresStore, openStore } from './store'

/** Per-instance bookkeeping: meaningless in another database. */
const SKIPPED = new Set(['instances', 'leases'])
const CHUNK = 500

export interface MigrationReport {
  tables: Record<string, { source: number; copied: number; target: number }>
  blobs: { source: number; copied: number }
}

export async function migrateStore(config: Config, say: (line: string) => void): Promise<MigrationReport> {
  const { databaseUrl, blobUrl, blobAws, leaseTtlMs } = config.store
  const where = blobUrl ? parseBlobUrl(blobUrl) : null
  if (!databaseUrl || !where || !blobAws) {
    throw new Error('migrate-store copies BATCHGATE_DATA_DIR into BATCHGATE_DATABASE_URL and BATCHGATE_BLOB_URL: set both')
  }
  const source = openStore(config.dataDir, leaseTtlMs)
  const bucket = new S3BlobStore(config.dataDir, where, blobAws, { timeoutMs: config.upstreamTimeoutMs, retries: config.upstreamRetries })
  const target = await openPostgresStore(databaseUrl, bucket, leaseTtlMs)
  const report: MigrationReport = { tables: {}, blobs: { source: 0, copied: 0 } }
  try {
    const tables = source.db
      .query<{ name: string }, []>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .all()
      .map((t) => t.name)
      .filter((name) => !SKIPPED.has(name))
    for (const table of tables) {
      const rows = source.db.query<Record<string, string | number | null>, []>(`SELECT * FROM "${table}"`).all()
      let copied = 0
      for (let i = 0; i < rows.length; i += CHUNK) {
        for (const row of rows.slice(i, i + CHUNK)) {
          const columns = Object.keys(row)
          copied += await target.sql.run(
            `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
            columns.map((c) => row[c] ?? null),
          )
        }
      }
      const counted = await target.sql.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "${table}"`)
      report.tables[table] = { source: rows.length, copied, target: Number(counted?.n ?? 0) }
      say(`${table}: ${rows.length} rows, ${copied} copied, ${report.tables[table]?.target} in the target`)
    }

    const blobs = await source.blobs.list()
    report.blobs.source = blobs.length
    for (const blob of blobs) {
      // put() moves its input; the source blob stays where it is until the operator removes it.
      const staged = source.blobs.spoolPath('migrate')
      copyFileSync(source.blobs.path(blob.fileId, blob.kind), staged)
      const at = await bucket.put(staged, blob.fileId, blob.kind)
      if (blob.kind === 'content') {
        await target.sql.run(`UPDATE files SET location = ? WHERE id = ? AND location LIKE '{"kind":"blob"%'`, [
          JSON.stringify({ kind: 'blob', blobPath: at }),
          blob.fileId,
        ])
      }
      report.blobs.copied++
    }
    say(`blobs: ${blobs.length} copied to ${blobUrl}`)

    const short = Object.entries(report.tables).filter(([, t]) => t.target < t.source)
    const missing = []
    for (const blob of blobs) if (!(await bucket.has(blob.fileId, blob.kind))) missing.push(blob.fileId)
    if (short.length > 0 || missing.length > 0) {
      throw new Error(
        `verification failed: ${[...short.map(([name, t]) => `${name} has ${t.target} of ${t.source} rows`), ...missing.map((id) => `blob ${id} is missing`)].join('; ')}`,
      )
    }
    say('verified: every row and every blob is in the target')
    return report
  } finally {
    await source.close()
    await target.close()
  }
}
