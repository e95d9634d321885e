// The store as the rest of the gateway sees it: one database, the two mapping tables and the
// blob store, opened together under BATCHGATE_DATA_DIR.

import type { Database } from 'bun:sqlite'
import { BatchMappings } from './batch-mappings'
import { BlobStore } from './blobs'
import { openDatabase } from './db'
import { FileMappings } from './file-mappings'

export interface Store {
  db: Database
  files: FileMappings
  batches: BatchMappings
  blobs: BlobStore
  close(): void
}

export function openStore(dataDir: string): Store {
  const db = openDatabase(dataDir)
  return {
    db,
    files: new FileMappings(db),
    batches: new BatchMappings(db),
    blobs: new BlobStore(dataDir),
    close: () => db.close(),
  }
}
