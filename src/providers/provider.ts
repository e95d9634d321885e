// The one interface every provider adapter implements, and the shapes it exchanges with core/.
// Adapters speak provider-native bytes (already converted by core/ with convert/) and report
// batches in the neutral vocabulary of core/batch.ts. Nothing else lives here.

import type { GrowingSource } from './growing-source'
import type { ResultRef, UpstreamBatch } from '../core/batch'
import type { FileLocation, FilePurpose, UpstreamLeftover } from '../core/file'
import type { Dialect, ProviderKind, ProviderName } from '../core/provider-name'

export type { UpstreamLeftover }

/** A spooled file on local disk: readable as often as a retry needs, size known up front. */
export interface UploadSource {
  path: string
  bytes: number
}

/** Where in S3 a Bedrock file goes (from `storage_config[s3]` or BEDROCK_S3_BUCKET). */
export interface S3Target {
  bucket: string
  region: string | null
  prefix: string
}

export interface UploadMeta {
  /** The gateway id this upload will get; adapters use it to name objects. */
  gatewayId: string
  filename: string
  purpose: FilePurpose
  mimeType: string
  dialect: Dialect
  storage: S3Target | null
  /** The caller's `expires_after` seconds: providers that expire files themselves are told. */
  expiresAfterSeconds?: number | null
  /** Called (and awaited) with anything the upload opens upstream, before it sends the first byte. */
  noteLeftover?: (leftover: UpstreamLeftover) => Promise<void>
}

export interface UpstreamFile {
  location: Extract<FileLocation, { kind: 'upstream' }>
  bytes: number
  createdAt: number
  expiresAt: number | null
}

export type BatchInput =
  /** A provider-native input file the adapter uploaded earlier. */
  | { kind: 'file'; location: Extract<FileLocation, { kind: 'upstream' }> }
  /** Provider-native request items, one JSON object per line, spooled on disk (Anthropic). */
  | { kind: 'inline'; source: UploadSource; count: number }

export interface CreateBatchInput {
  /** The gateway batch id; adapters derive job names and idempotency tokens from it. */
  gatewayId: string
  endpoint: string
  model: string | null
  completionWindowHours: number
  metadata: Record<string, string> | null
  input: BatchInput
  /** Bedrock: where results go. */
  outputS3Uri: string | null
  /** Bedrock: the role the job runs as. */
  roleArn: string | null
  /** OpenAI: `output_expires_after.seconds` (anchor created_at) for the output and error files. */
  outputExpiresAfterSeconds?: number | null
}

/** Everything of a create but its input: what checkCreate can refuse before any side effect. */
export type CreateCheck = Omit<CreateBatchInput, 'input' | 'gatewayId'>

/**
 * What is known about a create whose answer never arrived (lost connection, or a crash between
 * recording the intent and hearing back): enough to find the batch it may have made
 * (core/adoption.ts, at once and again at start-up).
 */
export interface CreateProbe {
  gatewayId: string
  /** Unix seconds the intent was recorded, just before the create call began. */
  startedAt: number
  /** Requests the create carried. */
  requests: number
  /** The upstream input file the create named, where it had one. */
  inputUpstreamId: string | null
  /** True for upstream batches another gateway batch already maps: never this create's. */
  isMapped: (upstreamId: string) => boolean | Promise<boolean>
}

/**
 * A lookup's answer. `tagged`: the batch carries the gateway id (metadata, display name, job
 * name), so it is this create's. `lookalikes`: unmapped batches that fit the create (time window,
 * request count, input) but carry nothing of ours; core adopts one only when nothing else could
 * have made it (core/adoption.ts).
 */
export type BatchMatch = { kind: 'tagged'; batch: UpstreamBatch } | { kind: 'lookalikes'; batches: UpstreamBatch[] }

/** What is known about an upload whose answer never arrived. */
export interface UploadProbe {
  gatewayId: string
  storage: S3Target | null
  /** Unix seconds just before the bytes started moving. */
  startedAt: number
  /** The client's filename (the upstream name derives from it and the gateway id). */
  filename: string
  purpose: FilePurpose
}

/** What every adapter constructor takes besides its settings and the retry policy. */
export interface AdapterOptions {
  /** The instance name clients use for this adapter; defaults to its kind. */
  name?: ProviderName
}

export interface Provider {
  /** The instance name: what clients send as `provider` / `x-model-provider`, and mappings store. */
  readonly name: ProviderName
  /** The upstream API this adapter speaks. */
  readonly kind: ProviderKind
  /** `inline`: the provider takes requests in the create call and has no batch input files. */
  readonly batchInput: 'file' | 'inline'

  uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile>
  /**
   * Uploads a converted file while the converter still writes it (the upload overlaps the
   * conversion). Only providers whose protocol takes parts before the total size is known have
   * it (S3 multipart); for the others the gateway waits for the file's end and calls uploadFile.
   */
  uploadGrowingFile?(source: GrowingSource, meta: UploadMeta): Promise<UpstreamFile>
  fileContent(location: Extract<FileLocation, { kind: 'upstream' }>): Promise<ReadableStream<Uint8Array>>
  deleteFile(location: Extract<FileLocation, { kind: 'upstream' }>): Promise<void>

  /**
   * Refuses (throws) a create this provider would refuse for its parameters, before the gateway
   * uploads anything or records an intent: a refused create leaves nothing behind.
   */
  checkCreate?(input: CreateCheck): void
  createBatch(input: CreateBatchInput): Promise<UpstreamBatch>
  getBatch(upstreamId: string): Promise<UpstreamBatch>
  cancelBatch(upstreamId: string): Promise<UpstreamBatch>
  /** Deletes the upstream batch where the provider has such a call; a no-op elsewhere. */
  deleteBatch(upstreamId: string): Promise<void>
  /** Opens one of the result refs a terminal UpstreamBatch listed. */
  openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>>

  /** The batch an interrupted create may have made; null when the provider holds none that fits. */
  findBatch?(probe: CreateProbe): Promise<BatchMatch | null>
  /** What an interrupted upload left upstream, or null: adopted while serving, deleted at start-up. */
  findUpload?(probe: UploadProbe): Promise<Extract<FileLocation, { kind: 'upstream' }> | null>
  /** Closes what an interrupted upload opened (noteLeftover); already closed counts as done. */
  abortLeftover?(leftover: UpstreamLeftover): Promise<void>
}
