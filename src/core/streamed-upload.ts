// Converting uploads whose output goes up while it is written (issue 12, "one pass"): the
// converter appends to its spool file and a provider that takes parts before the total size is
// known (S3 multipart: Provider.uploadGrowingFile) sends them as they fill, so the upload
// overlaps the conversion instead of following it. Two entries:
// - convertWhileUploading: a spooled part (the SDK's file-first order) converted and placed at once;
// - streamingPart: the part converted as it arrives (fields first), its placement started then,
//   claimed by FileService.upload once the fields after the part confirm where it goes.
// A bad line, a duplicate or an abandoned request fails the growing file, which aborts the
// upload (nothing stays upstream) and drops its pending row.

import type { Limits } from '../config'
import { GrowingSource } from '../providers/growing-source'
import type { Provider, S3Target } from '../providers/provider'
import { BatchFileConverter, type ConvertedBatchFile, keepsCallerLines } from './batch-file'
import type { FileFacts, FileLocation, StoredFile } from './file'
import type { PartConverter, StreamedConversion, UploadRequest } from './file-upload'
import type { ProviderName } from './provider-name'

/** What the streamed paths need from FileService: its two halves of recording an upload. */
export interface Recorder {
  placeRecorded(provider: Provider, id: string, req: UploadRequest, body: GrowingSource): Promise<FileLocation>
  completeRecorded(provider: Provider, id: string, req: UploadRequest, location: FileLocation, facts: FileFacts): Promise<StoredFile>
  dropPlaced(provider: Provider, id: string, location: FileLocation): Promise<void>
}

/** Whether a provider's batch input can go up while it is converted. */
export const uploadsWhileConverting = (provider: Provider): boolean =>
  provider.uploadGrowingFile !== undefined && provider.batchInput !== 'inline' && !keepsCallerLines(provider.kind)

/**
 * Converts a spooled part and places the output while it grows. The error the caller sees is the
 * conversion's whenever it has one (a bad line is the caller's to fix; the upload's own failure
 * then only followed from it).
 */
export async function convertWhileUploading(
  files: Recorder,
  provider: Provider,
  id: string,
  req: UploadRequest,
  out: string,
  convert: (onWritten: (bytes: number) => void) => Promise<ConvertedBatchFile>,
): Promise<{ file: StoredFile; idsWritten: boolean }> {
  const growing = new GrowingSource(out)
  const conversion = convert((bytes) => growing.grow(bytes))
  conversion.then(
    (c) => growing.finish(c.bytes),
    (err) => growing.fail(err),
  )
  try {
    const location = await files.placeRecorded(provider, id, req, growing)
    let converted: ConvertedBatchFile
    try {
      converted = await conversion
    } catch (err) {
      // Only reached if the upload did not wait for the end (it always does): nothing half-kept.
      await files.dropPlaced(provider, id, location)
      throw err
    }
    return { file: await files.completeRecorded(provider, id, req, location, converted.facts), idsWritten: converted.idsWritten }
  } catch (err) {
    // The spool files are removed once this returns: the converter must be done with them.
    const failed = await conversion.then(
      () => null,
      (e: unknown) => e,
    )
    throw failed ?? err
  }
}

/** An upload started while its part still streams in; FileService.upload claims or releases it. */
export class EarlyPlacement {
  private claimed = false

  constructor(
    readonly id: string,
    readonly storage: S3Target | null,
    private readonly location: Promise<FileLocation>,
    private readonly growing: GrowingSource,
    private readonly drop: (location: FileLocation) => Promise<void>,
  ) {
    // Read by claim() or release(); an upload that failed is not "unhandled" meanwhile.
    location.catch(() => undefined)
  }

  /** Whether the fields after the part still send it where it is going. */
  fits(storage: S3Target | null): boolean {
    const a = this.storage
    return a === storage || (a !== null && storage !== null && a.bucket === storage.bucket && a.region === storage.region && a.prefix === storage.prefix)
  }

  /** The placed file's location (the upload's error if it failed; its pending row is then gone). */
  claim(): Promise<FileLocation> {
    this.claimed = true
    return this.location
  }

  /** Stops an unclaimed upload and removes what it placed. */
  async release(reason: unknown = new Error('the upload was abandoned')): Promise<void> {
    if (this.claimed) return
    this.claimed = true
    this.growing.fail(reason)
    const placed = await this.location.catch(() => null)
    if (placed) await this.drop(placed)
  }
}

export interface StreamingPartOptions {
  provider: Provider
  providerName: ProviderName
  limits: Limits & { maxBatchRequests: number }
  outPath: string
  idsPath: string
  /** Where the output goes up while it is converted: the request as far as known before the part. */
  early: { id: string; req: UploadRequest } | null
  remove: () => void
}

/** The part converter of a one-pass upload; with `early`, its output also goes up as it grows. */
export async function streamingPart(files: Recorder, o: StreamingPartOptions): Promise<PartConverter> {
  const growing = o.early ? new GrowingSource(o.outPath) : null
  const converter = await BatchFileConverter.open(o.provider, {
    outPath: o.outPath,
    idsPath: o.idsPath,
    limits: o.limits,
    ...(growing ? { onWritten: (bytes: number) => growing.grow(bytes) } : {}),
  })
  const placed =
    o.early && growing
      ? new EarlyPlacement(
          o.early.id,
          o.early.req.storage,
          files.placeRecorded(o.provider, o.early.id, o.early.req, growing),
          growing,
          (location) => files.dropPlaced(o.provider, o.early?.id as string, location),
        )
      : null
  return {
    push: (chunk) => converter.push(chunk),
    end: async (): Promise<StreamedConversion> => {
      try {
        const result = await converter.end()
        growing?.finish(result.bytes)
        return { provider: o.providerName, result, idsPath: o.idsPath, ...(placed ? { placed } : {}) }
      } catch (err) {
        await placed?.release(err)
        o.remove()
        throw err
      }
    },
    abort: async () => {
      await converter.abort()
      await placed?.release()
      o.remove()
    },
    release: async () => {
      await placed?.release()
    },
    paths: [o.outPath, o.idsPath],
  }
}
