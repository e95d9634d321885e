// The use-case objects a dialect plugin calls, built once per app.

import type { Config } from '../config'
import type { Registry } from '../providers/registry'
import type { Store } from '../store/store'
import { BatchCreator } from './batch-create'
import { BatchService } from './batch-service'
import { Budgets } from './budget'
import { FileService } from './file-service'
import { UploadService } from './upload-service'
import { countDelivery, countSettled } from '../ops/reporting-metrics'
import { Settlement } from './settlement'
import { Watcher } from './watcher'
import { WebhookDelivery } from './webhook-delivery'

export interface Services {
  config: Config
  store: Store
  registry: Registry
  files: FileService
  batches: BatchService
  creator: BatchCreator
  uploads: UploadService
  settlement: Settlement
  webhooks: WebhookDelivery
  /** Not started here: main.ts starts it, tests start it (or tick it) when they want it. */
  watcher: Watcher
}

export function buildServices(config: Config, store: Store, registry: Registry): Services {
  const files = new FileService(config, store, registry)
  const batches = new BatchService(config, store, registry, files)
  const creator = new BatchCreator(config, store, registry, files, new Budgets(config, store))
  // Uploads that expired while the gateway was down are swept at start-up (core/reconcile.ts).
  const uploads = new UploadService(config, store, files)
  // Emulated instances run their batches here, through this store (issue 17).
  for (const adapter of registry.emulated()) adapter.attach(store)
  // Watcher and webhook leases are held in this instance's name (store/leases.ts registers it).
  const owner = store.instanceId
  const settlement = new Settlement(config, store, batches, countSettled)
  const webhooks = new WebhookDelivery(config, store, { owner, onAttempt: countDelivery })
  const watcher = new Watcher(config, store, batches, settlement, webhooks, { owner })
  return { config, store, registry, files, batches, creator, uploads, settlement, webhooks, watcher }
}
