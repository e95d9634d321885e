// The use-case objects a dialect plugin calls, built once per app.

import type { Config } from '../config'
import type { Registry } from '../providers/registry'
import type { Store } from '../store/store'
import { BatchCreator } from './batch-create'
import { BatchService } from './batch-service'
import { UploadPartStore } from '../store/upload-parts'
import { FileService } from './file-service'
import { UploadService } from './upload-service'

export interface Services {
  config: Config
  store: Store
  registry: Registry
  files: FileService
  batches: BatchService
  creator: BatchCreator
  uploads: UploadService
}

export function buildServices(config: Config, store: Store, registry: Registry): Services {
  const files = new FileService(config, store, registry)
  const batches = new BatchService(config, store, registry, files)
  const creator = new BatchCreator(config, store, registry, files)
  const uploads = new UploadService(config, store, new UploadPartStore(config.dataDir), files)
  // Start-up: uploads that expired while the gateway was down leave nothing.
  uploads.sweep()
  return { config, store, registry, files, batches, creator, uploads }
}
