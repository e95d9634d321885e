// The one interface every provider adapter implements, and the shapes it exchanges with core/.
// Adapters speak provider-native bytes (already converted by core/ with convert/) and report
// batches in the neutral vocabulary of core/batch.ts. Nothing else lives here.

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
}

/** Everything of a create but its input: what checkCreate can refuse before any side effect. */
export type CreateCheck = Omit<CreateBatchInput, 'input' | 'gatewayId'>

/**
 * What start-up reconciliation knows about a create that died between recording its intent and
 * hearing the upstream's answer (core/reconcile.ts).
 */
export interface CreateProbe {
  gatewayId: string
  /** Unix seconds the intent was recorded, just before the create call began. */
  startedAt: number
  /** Requests the create carried. */
  requests: number
  /** True for upstream batches another gateway batch already maps: never this create's. */
  isMapped: (upstreamId: string) => boolean | Promise<boolean>
  /**
   * Only a batch that carries the gateway id may match. Set while the gateway is serving, when
   * other clients may be creating look-alike batches upstream at the same moment; a heuristic
   * match (Anthropic has nowhere to put our id) is only good enough at start-up.
   */
  exactOnly?: boolean
}

/** What start-up knows about an upload that died before its row was completed. */
export interface UploadProbe {
  gatewayId: string
  storage: S3Target | null
  /** Unix seconds just before the bytes started moving. */
  startedAt: number
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

  /** The batch an interrupted create made, or null when the provider holds none that matches. */
  findBatch?(probe: CreateProbe): Promise<UpstreamBatch | null>
  /** What an interrupted upload left upstream, or null; start-up deletes it. */
  findUpload?(probe: UploadProbe): Promise<Extract<FileLocation, { kind: 'upstream' }> | null>
  /** Closes what an interrupted upload opened (noteLeftover); already closed counts as done. */
  abortLeftover?(leftover: UpstreamLeftover): Promise<void>
}
