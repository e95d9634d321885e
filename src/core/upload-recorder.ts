// Recording an upload, in two halves so the bytes can start moving before the request is fully
// read (streamed-upload.ts): the pending row written, then the bytes placed (or a lost answer's
// upload adopted); then the row completed from the final request. A failure drops the row and
// whatever was placed; a crash in between leaves the pending row for start-up reconciliation.

import { GatewayError, naming } from '../errors'
import { log } from '../log'
import { GrowingSource } from '../providers/growing-source'
import type { Provider, UploadProbe, UploadSource, UpstreamLeftover } from '../providers/provider'
import type { Store } from '../store/store'
import { idsOf } from '../upstream-ids'
import { isLostAnswer } from './adoption'
import type { FileFacts, FileLocation, StoredFile } from './file'
import { type UploadRequest, uploadProbe } from './file-upload'
import type { Recorder } from './streamed-upload'

export class UploadRecorder implements Recorder {
  constructor(private readonly store: Store) {}

  /** The first half of record(): the pending row, then the bytes placed (or a lost answer adopted). */
  async placeRecorded(provider: Provider, id: string, req: UploadRequest, body: UploadSource | GrowingSource): Promise<FileLocation> {
    const { filename, mimeType } = req.raw
    const pending = { id, tenant: req.tenant, provider: req.provider, dialect: req.dialect, purpose: req.purpose }
    const startedAt = Math.floor(Date.now() / 1000)
    // A file still being converted has no size yet: the pending row notes the caller's.
    const bytes = body instanceof GrowingSource ? req.raw.bytes : body.bytes
    await this.store.files.recordPending({ ...pending, filename, mimeType, bytes, startedAt, storage: req.storage })
    try {
      return await this.place(provider, id, req, body)
    } catch (err) {
      return this.adoptLostUpload(provider, uploadProbe({ id, storage: req.storage, startedAt, filename, purpose: req.purpose }), err)
    }
  }

  /** The second half of record(): the row completed from the final request (or everything dropped). */
  async completeRecorded(
    provider: Provider,
    id: string,
    req: UploadRequest,
    location: FileLocation,
    facts: FileFacts,
    state: 'ready' | 'internal' = 'ready',
  ): Promise<StoredFile> {
    const now = Math.floor(Date.now() / 1000)
    const file: StoredFile = {
      id,
      tenant: req.tenant,
      provider: req.provider,
      dialect: req.dialect,
      location,
      purpose: req.purpose,
      filename: req.raw.filename,
      // What the caller sent, not what the provider keeps (converted records differ in size).
      bytes: req.raw.bytes,
      mimeType: req.raw.mimeType,
      createdAt: now,
      expiresAt: req.expiresAfterSeconds === null ? null : now + req.expiresAfterSeconds,
      facts,
    }
    try {
      await this.store.files.complete(file, state)
    } catch (err) {
      await this.removeBytes(provider, id, location).catch(() => undefined)
      await this.store.files.dropPending(id)
      throw err
    }
    return file
  }

  /** Undoes placeRecorded() for an upload that will not complete: the bytes, then the row. */
  async dropPlaced(provider: Provider, id: string, location: FileLocation): Promise<void> {
    await this.removeBytes(provider, id, location).catch(() => undefined)
    await this.store.files.dropPending(id)
  }

  /**
   * An upload whose answer was lost may have been stored upstream: found (by the name derived from
   * the gateway id), it is adopted as if the answer had come. Otherwise the error stands and the
   * pending row goes — unless the lookup itself failed: then start-up looks again and deletes
   * whatever the upload left (reconcile.ts).
   */
  private async adoptLostUpload(provider: Provider, probe: UploadProbe, err: unknown): Promise<FileLocation> {
    if (!isLostAnswer(err) || !provider.findUpload) {
      await this.store.files.dropPending(probe.gatewayId)
      throw err
    }
    let found: FileLocation | null
    try {
      found = await provider.findUpload(probe)
    } catch (lookupErr) {
      log('warn', 'lost upload answer: lookup failed, kept for the next start', { id: probe.gatewayId, err: String(lookupErr) })
      throw err
    }
    if (!found) {
      await this.store.files.dropPending(probe.gatewayId)
      throw err
    }
    log('info', 'lost upload answer: file adopted', { id: probe.gatewayId, provider: provider.name })
    return found
  }

  /** Puts the bytes where they will live: the provider, or our blob store for inline providers. */
  private async place(
    provider: Provider,
    id: string,
    req: UploadRequest,
    body: UploadSource | GrowingSource,
  ): Promise<FileLocation> {
    if (req.purpose === 'batch' && provider.batchInput === 'inline') {
      if (body instanceof GrowingSource) await body.done()
      return { kind: 'blob', blobPath: await this.store.blobs.put(body.path, id, 'content') }
    }
    const meta = {
      gatewayId: id,
      filename: req.raw.filename,
      purpose: req.purpose,
      mimeType: req.purpose === 'batch' ? 'application/jsonl' : req.raw.mimeType,
      dialect: req.dialect,
      storage: req.storage,
      expiresAfterSeconds: req.expiresAfterSeconds,
      noteLeftover: (leftover: UpstreamLeftover) => this.store.files.notePendingLeftover(id, leftover),
    }
    if (!(body instanceof GrowingSource)) return (await provider.uploadFile(body, meta)).location
    if (provider.uploadGrowingFile) return (await provider.uploadGrowingFile(body, meta)).location
    return (await provider.uploadFile({ path: body.path, bytes: await body.done() }, meta)).location
  }

  /** Deletes a file's bytes where they live (upstream, or the blob store). */
  async removeBytes(provider: Provider, id: string, location: FileLocation): Promise<void> {
    if (location.kind === 'upstream') {
      try {
        await provider.deleteFile(location)
      } catch (err) {
        // Already gone upstream (expired, deleted elsewhere): the mapping can still go.
        if (!(err instanceof GatewayError && err.details.upstreamStatus === 404)) naming(idsOf(location.upstreamId, id))(err)
      }
    } else if (location.kind === 'blob') {
      await this.store.blobs.delete(id, 'content')
    }
  }
}
