// The store as the rest of the gateway sees it: the two mapping tables and the blob store behind
// one interface, every method async so the engine behind it can be SQLite (default, under
// BATCHGATE_DATA_DIR) or a server shared by several instances.

import type { Database } from 'bun:sqlite'
import { BatchMappings } from './batch-mappings'
import type { BlobStore } from './blobs'
import { openDatabase } from './db'
import { FileMappings } from './file-mappings'
import { LocalBlobStore } from './local-blobs'
import type { SqlDb } from './sql'
import { SqliteDb } from './sqlite-db'
import { SqlWatchLeases, type WatchLeases } from './batch-watch'
import { UsageLedger } from './usage-ledger'
import { WebhookOutbox } from './webhook-outbox'

export interface Store {
  sql: SqlDb
  files: FileMappings
  batches: BatchMappings
  blobs: BlobStore
  /** Issue 15: watcher leases, settled usage, webhook outbox. */
  watch: WatchLeases
  usage: UsageLedger
  outbox: WebhookOutbox
  close(): Promise<void>
}

/** The single-instance store; `db` is the raw SQLite handle (tests inspect rows through it). */
export interface SqliteStore extends Store {
  db: Database
  blobs: LocalBlobStore
}

export function openStore(dataDir: string): SqliteStore {
  const db = openDatabase(dataDir)
  const sql = new SqliteDb(db)
  return {
    db,
    sql,
    files: new FileMappings(sql),
    batches: new BatchMappings(sql),
    blobs: new LocalBlobStore(dataDir),
    watch: new SqlWatchLeases(sql),
    usage: new UsageLedger(sql),
    outbox: new WebhookOutbox(sql),
    close: () => sql.close(),
  }
}
