// What an upload hands the file service: the spooled (or already converted) part and its
// fields, and what start-up reconciliation needs to find an upload whose answer was lost.

import type { GatewayError } from '../errors'
import type { S3Target, UploadProbe } from '../providers/provider'
import type { ConvertedBatchFile } from './batch-file'
import type { EarlyPlacement } from './streamed-upload'
import type { FilePurpose } from './file'
import type { Dialect, ProviderName } from './provider-name'

export interface UploadRequest {
  tenant: string
  dialect: Dialect
  provider: ProviderName
  /** The raw part, already spooled by the dialect's multipart parser. */
  raw: { path: string; bytes: number; filename: string; mimeType: string }
  purpose: FilePurpose
  storage: S3Target | null
  expiresAfterSeconds: number | null
  /** How the bytes arrived: one POST (default) or the Uploads API, which some kinds take larger. */
  via?: 'post' | 'uploads'
  /**
   * Set when the part was converted as it arrived (streamingConversion), or the error that
   * conversion stopped on; `raw.path` is then unused.
   */
  converted?: StreamedConversion | { failed: GatewayError }
}

/** A batch file converted while its upload streamed in: no raw spool, one disk write. */
export interface StreamedConversion {
  provider: ProviderName
  result: ConvertedBatchFile
  idsPath: string
  /** Set when the output went up while it was converted (streamed-upload.ts). */
  placed?: EarlyPlacement
}

/** What a one-pass upload knows of its request when the file part starts. */
export interface EarlyUpload {
  tenant: string
  dialect: Dialect
  storage: S3Target | null
  filename: string
  mimeType: string
}

export interface PartConverter {
  push(chunk: Uint8Array): Promise<void>
  end(): Promise<StreamedConversion>
  abort(): Promise<void>
  /** Removes an upload started early that no FileService.upload claimed (the request failed first). */
  release(): Promise<void>
  /** The spool files it writes, for the caller's clean-up. */
  paths: string[]
}

/** What a lookup needs to find an upload that lost its answer (here, or at start-up). */
export function uploadProbe(u: { id: string; storage: S3Target | null; startedAt: number; filename: string; purpose: FilePurpose }): UploadProbe {
  return { gatewayId: u.id, storage: u.storage, startedAt: u.startedAt, filename: u.filename, purpose: u.purpose }
}
