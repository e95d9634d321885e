// Start-up reconciliation (issue 7 §7): spool files belong to requests that died with the last
// process and are removed; batch creates that recorded an intent but never finalized are
// dropped, since no id was handed out for them.

import { log } from '../log'
import type { Registry } from '../providers/registry'
import type { Store } from '../store/store'

export async function reconcileOnStart(store: Store, _registry: Registry): Promise<void> {
  const removed = store.blobs.clearSpool()
  const pending = store.batches.pendingCreates()
  for (const p of pending) store.batches.abandon(p.id)
  if (removed > 0 || pending.length > 0) {
    log('info', 'reconciled after restart', { spoolFilesRemoved: removed, unfinishedCreates: pending.length })
  }
}
