// The store as the rest of the gateway sees it: the two mapping tables, the blob store, and the
// instance/lease tables behind one interface, every method async so the engine behind it can be
// SQLite (default, under BATCHGATE_DATA_DIR) or PostgreSQL shared by several instances
// (BATCHGATE_DATABASE_URL, blobs in BATCHGATE_BLOB_URL).

import type { Database } from 'bun:sqlite'
import type { Config } from '../config'
import { BatchMappings } from './batch-mappings'
import { type BlobStore, parseBlobUrl } from './blobs'
import { openDatabase } from './db'
import { ResultLog } from './emulated-log'
import { EmulatedRuns } from './emulated-runs'
import { FileMappings } from './file-mappings'
import { Instances, Leases } from './leases'
import { LocalBlobStore } from './local-blobs'
import { PgDb } from './pg-db'
import { ProviderKinds } from './provider-kinds'
import { migratePostgres } from './pg-migrate'
import { S3BlobStore } from './s3-blobs'
import type { SqlDb } from './sql'
import { SqliteDb } from './sqlite-db'
import { SqlWatchLeases, type WatchLeases } from './batch-watch'
import { UploadRecords } from './upload-parts'
import { UsageLedger } from './usage-ledger'
import { WebhookOutbox } from './webhook-outbox'

export interface Store {
  sql: SqlDb
  /** This process's id in `instances` and on the intents it writes. */
  instanceId: string
  /** True when other instances may use the same database (PostgreSQL). */
  shared: boolean
  files: FileMappings
  batches: BatchMappings
  blobs: BlobStore
  /** Issue 15: watcher leases, settled usage, webhook outbox. */
  watch: WatchLeases
  usage: UsageLedger
  outbox: WebhookOutbox
  /** Issue 17: batches the gateway runs itself. */
  emulated: EmulatedRuns
  /** OpenAI Uploads (records and parts; the parts' bytes are blobs). */
  uploads: UploadRecords
  instances: Instances
  leases: Leases
  /** The kind each instance name was last started with. */
  kinds: ProviderKinds
  /** Instances that may still finish their own intents: those with a fresh heartbeat, and this one. */
  liveOwners(): Promise<Set<string>>
  close(): Promise<void>
}

/** The single-instance store; `db` is the raw SQLite handle (tests inspect rows through it). */
export interface SqliteStore extends Store {
  db: Database
  blobs: LocalBlobStore
}

const DEFAULT_TTL_MS = 30_000

export const newInstanceId = (): string => `inst_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 8)}`

function assemble(sql: SqlDb, blobs: BlobStore, shared: boolean, ttlMs: number, log: ResultLog | null = null) {
  const instanceId = newInstanceId()
  const instances = new Instances(sql, instanceId, ttlMs)
  return {
    sql,
    instanceId,
    shared,
    files: new FileMappings(sql, instanceId),
    batches: new BatchMappings(sql, instanceId),
    blobs,
    instances,
    leases: new Leases(sql, instanceId),
    kinds: new ProviderKinds(sql),
    watch: new SqlWatchLeases(sql),
    usage: new UsageLedger(sql),
    outbox: new WebhookOutbox(sql),
    emulated: new EmulatedRuns(sql, log),
    uploads: new UploadRecords(sql),
    // One SQLite file has one gateway process: any other owner is a previous run of it.
    liveOwners: async () => (shared ? new Set([...(await instances.live()), instanceId]) : new Set([instanceId])),
  }
}

export function openStore(dataDir: string, ttlMs = DEFAULT_TTL_MS): SqliteStore {
  const db = openDatabase(dataDir)
  const sql = new SqliteDb(db)
  const blobs = new LocalBlobStore(dataDir)
  const parts = assemble(sql, blobs, false, ttlMs, new ResultLog(dataDir))
  return {
    ...parts,
    db,
    blobs,
    close: () => {
      parts.emulated.close()
      return sql.close()
    },
  }
}

/** The store the configuration names: PostgreSQL + bucket when BATCHGATE_DATABASE_URL is set. */
export async function openConfiguredStore(config: Config): Promise<Store> {
  const { databaseUrl, blobUrl, blobAws, leaseTtlMs } = config.store
  const policy = { timeoutMs: config.upstreamTimeoutMs, retries: config.upstreamRetries }
  const where = blobUrl ? parseBlobUrl(blobUrl) : null
  const bucket = where && blobAws ? new S3BlobStore(config.dataDir, where, blobAws, policy) : null
  if (!databaseUrl) {
    const store = openStore(config.dataDir, leaseTtlMs)
    return bucket ? { ...store, blobs: bucket } : store
  }
  // config/store.ts refuses a shared database without a bucket.
  if (!bucket) throw new Error('BATCHGATE_DATABASE_URL needs BATCHGATE_BLOB_URL and the AWS settings')
  return openPostgresStore(databaseUrl, bucket, leaseTtlMs)
}

/** PostgreSQL: migrated under an advisory lock, registered, heartbeating until closed. */
export async function openPostgresStore(url: string, blobs: BlobStore, ttlMs = DEFAULT_TTL_MS): Promise<Store> {
  const sql = new PgDb(url)
  try {
    await migratePostgres(sql.raw)
  } catch (err) {
    await sql.close().catch(() => undefined)
    throw err
  }
  const parts = assemble(sql, blobs, true, ttlMs)
  await parts.instances.heartbeat()
  const beat = setInterval(() => {
    parts.instances.heartbeat().catch(() => undefined)
  }, Math.max(100, Math.floor(ttlMs / 3)))
  beat.unref?.()
  return {
    ...parts,
    close: async () => {
      clearInterval(beat)
      await parts.instances.leave().catch(() => undefined)
      await sql.close()
    },
  }
}
