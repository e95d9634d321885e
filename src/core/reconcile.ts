// Start-up reconciliation (issue 7 §7). A crash can leave four kinds of debris, each handled so
// that after start the store, the blob dir and the upstreams agree:
// - spool files: bytes of requests that died with the process; removed.
// - blobs no row names: removed.
// - pending uploads (row written before the bytes moved): anything they left locally is removed,
//   an S3 multipart upload they had opened (recorded before its first part) is aborted, and what
//   they left upstream is deleted where the adapter can locate it (findUpload); then the row
//   goes. Its id was never handed out, so nothing is adopted.
// - pending creates (intent written before the upstream call): the batch the call may have made
//   is looked for (adoption.ts). Found: adopted, so it shows in the tenant's list as the create
//   would have. Ambiguous: kept as `unresolved` and logged with its candidates, never dropped.
//   Not found: abandoned. Lookup failed (upstream down, provider no longer configured): kept,
//   and tried again at the next start — the row stays invisible meanwhile.
// Several instances on one database (store.shared): a pending row names the instance doing it;
// only rows whose owner is gone (no fresh heartbeat) are touched, each claimed first with one
// conditional update, so exactly one live instance reconciles it. Shared stores repeat the sweep
// while running (startReconciler), which is how a crashed instance's intents are taken over.
// Lookups run one at a time so one adoption is visible to the next (isMapped), and a provider
// whose lookup failed is not asked again in the same start: with the upstream down, start-up
// waits out one call's timeout and retries per provider, not per pending row.

import { GatewayError } from '../errors'
import { log } from '../log'
import { findCreatedBatch } from './adoption'
import { uploadProbe } from './file-upload'
import { sweepUploads } from './upload-service'
import type { Provider } from '../providers/provider'
import type { ProviderName } from './provider-name'
import { countReconciled } from '../ops/metrics'
import type { Registry } from '../providers/registry'
import type { PendingCreate } from '../store/batch-mappings'
import type { PendingUpload } from '../store/file-mappings'
import type { Store } from '../store/store'

export interface ReconcileReport {
  spoolFilesRemoved: number
  orphanBlobsRemoved: number
  /** Pending uploads whose open multipart upload was aborted. */
  leftoversAborted: string[]
  /** Pending uploads whose upstream leftovers were deleted. */
  uploadsCleaned: string[]
  /** Pending uploads dropped with nothing found (or nothing findable) upstream. */
  uploadsDropped: string[]
  createsAdopted: string[]
  createsAbandoned: string[]
  /** Kept, marked unresolved: more than one upstream batch could be theirs (core/adoption.ts). */
  createsUnresolved: string[]
  /** Left pending for the next start: the lookup could not be made. */
  deferred: string[]
}

const emptyReport = (): ReconcileReport => ({
  spoolFilesRemoved: 0,
  orphanBlobsRemoved: 0,
  leftoversAborted: [],
  uploadsCleaned: [],
  uploadsDropped: [],
  createsAdopted: [],
  createsAbandoned: [],
  createsUnresolved: [],
  deferred: [],
})

/**
 * `inFlightMs`: how long a dead instance's upstream call may still be running (the upstream
 * timeout). Within it, "not found upstream" is no answer yet — the call may still land — so the
 * row waits for a later sweep instead of being dropped, which would leave what lands orphaned.
 * Shared stores pass the upstream timeout; a single instance restarting keeps its old behaviour.
 */
export async function reconcileOnStart(store: Store, registry: Registry, inFlightMs = 0): Promise<ReconcileReport> {
  const report = emptyReport()
  report.spoolFilesRemoved = store.blobs.clearSpool()
  // Uploads that expired while the gateway was down leave nothing.
  await sweepUploads(store)
  await reconcileOrphans(store, registry, report, true, inFlightMs)
  countReconciled(report)
  const acted = Object.values(report).some((v) => (Array.isArray(v) ? v.length > 0 : v > 0))
  if (acted) log('info', 'reconciled after restart', summary(report))
  return report
}

/** Reconciles the pending rows of gone instances; with `sweepBlobs`, also unowned blobs (one instance at a time). */
export async function reconcileOrphans(
  store: Store,
  registry: Registry,
  report = emptyReport(),
  sweepBlobs = false,
  inFlightMs = 0,
): Promise<ReconcileReport> {
  const upstreams = new Upstreams(registry, inFlightMs)
  const live = await store.liveOwners()
  const orphaned = (owner: string | null | undefined) => !owner || !live.has(owner)
  for (const upload of await store.files.pendingUploads()) {
    if (!orphaned(upload.owner) || !(await store.files.claimPending(upload.id, upload.owner ?? null))) continue
    await reconcileUpload(store, upstreams, upload, report)
  }
  if (sweepBlobs) {
    const ttl = store.instances.ttlMs
    report.orphanBlobsRemoved = (await store.leases.withLease('sweep-blobs', ttl, () => removeOrphanBlobs(store))) ?? 0
  }
  for (const create of await store.batches.pendingCreates()) {
    if (!orphaned(create.owner) || !(await store.batches.claimIntent(create.id, create.owner))) continue
    await reconcileCreate(store, upstreams, create, report)
  }
  return report
}

/**
 * Shared stores only: sweeps every half lease TTL, so a crashed instance's intents are finished
 * by a live one soon after its heartbeat expires. Returns the stop function.
 */
export function startReconciler(store: Store, registry: Registry, inFlightMs: number): () => Promise<void> {
  if (!store.shared) return async () => undefined
  let running: Promise<unknown> = Promise.resolve()
  let stopped = false
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopped) return
      try {
        await store.instances.prune()
        const report = await reconcileOrphans(store, registry, emptyReport(), false, inFlightMs)
        countReconciled(report)
        // Rows only deferred (their call may still land) are looked at again next time, quietly.
        const acted = Object.entries(report).some(([k, v]) => k !== 'deferred' && (Array.isArray(v) ? v.length > 0 : v > 0))
        if (acted) log('info', 'took over the intents of a gone instance', summary(report))
      } catch (err) {
        log('warn', 'background reconciliation failed; retrying', describe(err))
      }
    })
  }, Math.max(100, Math.floor(store.instances.ttlMs / 2)))
  timer.unref?.()
  return async () => {
    stopped = true
    clearInterval(timer)
    await running
  }
}

async function reconcileUpload(store: Store, upstreams: Upstreams, upload: PendingUpload, report: ReconcileReport): Promise<void> {
  // Inline providers' batch inputs are renamed into the blob store before the row completes.
  await store.blobs.delete(upload.id, 'content')
  const provider = upstreams.get(upload.provider)
  if (typeof provider === 'string') {
    report.deferred.push(upload.id)
    await store.files.releasePending(upload.id)
    log('warn', `interrupted upload kept for the next start: provider ${provider}`, { id: upload.id, provider: upload.provider })
    return
  }
  if (upload.purpose === 'batch' && provider.batchInput === 'inline') {
    // Those bytes only ever went to the blob store, removed above.
    await store.files.dropPending(upload.id)
    report.uploadsDropped.push(upload.id)
    return
  }
  if (!(await closeLeftover(upstreams, provider, upload, report))) {
    await store.files.releasePending(upload.id)
    return
  }
  if (!provider.findUpload) {
    // Nothing the gateway chose is on the upstream object, so a half-finished upload cannot be
    // told apart from the account's other files; an operator gets what is known.
    await store.files.dropPending(upload.id)
    report.uploadsDropped.push(upload.id)
    log('warn', 'interrupted upload dropped; any file it left upstream cannot be identified', {
      id: upload.id,
      provider: upload.provider,
      filename: upload.filename,
      bytes: upload.bytes,
      startedAt: upload.startedAt,
    })
    return
  }
  try {
    const location = await withinStartupBudget(provider.findUpload(uploadProbe(upload)))
    if (location) {
      await provider.deleteFile(location)
      report.uploadsCleaned.push(upload.id)
      log('info', 'interrupted upload removed upstream', { id: upload.id, provider: upload.provider })
    } else if (upstreams.mayStillLand(upload.startedAt)) {
      await deferLanding(store.files.releasePending(upload.id), upload.id, report)
      return
    } else {
      report.uploadsDropped.push(upload.id)
    }
    await store.files.dropPending(upload.id)
  } catch (err) {
    upstreams.failed(upload.provider)
    report.deferred.push(upload.id)
    await store.files.releasePending(upload.id)
    log('warn', 'interrupted upload kept for the next start: lookup failed', { id: upload.id, ...describe(err) })
  }
}

/**
 * Aborts what the upload had opened upstream (an S3 multipart upload: its parts are billed until
 * aborted). False when that failed: the row then stays for the next start, record and all.
 */
async function closeLeftover(upstreams: Upstreams, provider: Provider, upload: PendingUpload, report: ReconcileReport): Promise<boolean> {
  if (!upload.leftover || !provider.abortLeftover) return true
  try {
    await withinStartupBudget(provider.abortLeftover(upload.leftover))
    report.leftoversAborted.push(upload.id)
    log('info', 'interrupted multipart upload aborted upstream', { id: upload.id, provider: upload.provider, key: upload.leftover.key })
    return true
  } catch (err) {
    upstreams.failed(upload.provider)
    report.deferred.push(upload.id)
    log('warn', 'interrupted upload kept for the next start: abort failed', { id: upload.id, ...describe(err) })
    return false
  }
}

async function reconcileCreate(store: Store, upstreams: Upstreams, create: PendingCreate, report: ReconcileReport): Promise<void> {
  const provider = upstreams.get(create.provider)
  if (typeof provider === 'string') {
    report.deferred.push(create.id)
    await store.batches.releaseIntent(create.id)
    log('warn', `interrupted create kept for the next start: provider ${provider}`, { id: create.id, provider: create.provider })
    return
  }
  if (!provider.findBatch) {
    if (upstreams.mayStillLand(create.createdAt)) return deferLanding(store.batches.releaseIntent(create.id), create.id, report)
    await store.batches.abandon(create.id)
    report.createsAbandoned.push(create.id)
    log('warn', 'interrupted create abandoned: the provider offers no way to find it', { id: create.id })
    return
  }
  try {
    const found = await withinStartupBudget(findCreatedBatch(store, provider, create))
    if (found.outcome === 'adopted') {
      await store.batches.finalize(create.id, found.batch)
      report.createsAdopted.push(create.id)
      log('info', 'interrupted create adopted', { id: create.id, provider: create.provider, upstreamStatus: found.batch.status })
    } else if (found.outcome === 'ambiguous') {
      await store.batches.markUnresolved(create.id)
      report.createsUnresolved.push(create.id)
      log('warn', 'interrupted create unresolved: its batch cannot be told apart from others; kept for an operator', {
        id: create.id,
        provider: create.provider,
        candidates: found.candidates,
      })
    } else if (create.state === 'unresolved') {
      // Never dropped by a lookup: the candidates may be gone upstream, the record stays.
      report.createsUnresolved.push(create.id)
    } else if (upstreams.mayStillLand(create.createdAt)) {
      await deferLanding(store.batches.releaseIntent(create.id), create.id, report)
    } else {
      await store.batches.abandon(create.id)
      report.createsAbandoned.push(create.id)
      log('info', 'interrupted create abandoned: no matching upstream batch', { id: create.id, provider: create.provider })
    }
  } catch (err) {
    upstreams.failed(create.provider)
    report.deferred.push(create.id)
    await store.batches.releaseIntent(create.id)
    log('warn', 'interrupted create kept for the next start: lookup failed', { id: create.id, ...describe(err) })
  }
}

/** Not found yet, but the dead instance's call may still land: a later sweep looks again. */
async function deferLanding(release: Promise<void>, id: string, report: ReconcileReport): Promise<void> {
  await release
  report.deferred.push(id)
}

/**
 * A blob belongs to the file row with its id, to the emulated batch with its id (its input
 * lines), or to the upload part with its id; one without (a crash mid-delete) is removed. So is an
 * emulated batch's result log without its batch.
 */
async function removeOrphanBlobs(store: Store): Promise<number> {
  let removed = 0
  for (const blob of await store.blobs.list()) {
    if (await store.files.exists(blob.fileId)) continue
    if ((await store.emulated.status(blob.fileId)) !== null) continue
    if (blob.kind === 'part' && (await store.uploads.hasPart(blob.fileId))) continue
    await store.blobs.delete(blob.fileId, blob.kind)
    removed++
  }
  return removed + (await store.emulated.removeOrphanLogs())
}

/**
 * Start-up must not wait out a dead provider's full timeout × retries (minutes at the defaults):
 * one lookup gets STARTUP_LOOKUP_MS, after which it counts as failed and is tried at the next start.
 */
const STARTUP_LOOKUP_MS = 15_000

async function withinStartupBudget<T>(lookup: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError('upstream_timeout', `lookup took longer than ${STARTUP_LOOKUP_MS} ms at start-up`)),
      STARTUP_LOOKUP_MS,
    )
  })
  try {
    return await Promise.race([lookup, budget])
  } finally {
    clearTimeout(timer)
  }
}

/** The adapters this start may ask: configured ones whose lookups have not failed yet. */
class Upstreams {
  private readonly down = new Set<ProviderName>()

  constructor(
    private readonly registry: Registry,
    private readonly inFlightMs = 0,
  ) {}

  /** Whether a call started at `startedAt` (unix s) may still be running upstream. */
  mayStillLand(startedAt: number): boolean {
    return Date.now() < startedAt * 1000 + this.inFlightMs
  }

  get(name: ProviderName): Provider | 'not configured' | 'unreachable' {
    if (!this.registry.names().includes(name)) return 'not configured'
    return this.down.has(name) ? 'unreachable' : this.registry.get(name)
  }

  failed(name: ProviderName): void {
    this.down.add(name)
  }
}

function describe(err: unknown): Record<string, unknown> {
  return err instanceof GatewayError
    ? { kind: err.kind, message: err.message, upstreamStatus: err.details.upstreamStatus }
    : { err: String(err) }
}

function summary(r: ReconcileReport): Record<string, unknown> {
  return {
    spoolFilesRemoved: r.spoolFilesRemoved,
    orphanBlobsRemoved: r.orphanBlobsRemoved,
    leftoversAborted: r.leftoversAborted.length,
    uploadsCleaned: r.uploadsCleaned.length,
    uploadsDropped: r.uploadsDropped.length,
    createsAdopted: r.createsAdopted.length,
    createsAbandoned: r.createsAbandoned.length,
    createsUnresolved: r.createsUnresolved.length,
    deferred: r.deferred.length,
  }
}
