import type { Dialect, ProviderName } from './provider-name'

/** Purposes a gateway file can have; `batch_output` marks result files we derive or adopt. */
export type FilePurpose = 'batch' | 'batch_output' | 'assistants' | 'fine-tune' | 'vision' | 'user_data' | 'evals' | 'user'

/**
 * Where a file's bytes live.
 * - `upstream`: a file object at the provider (OpenAI/Anthropic/Gemini file id, or an S3 object).
 * - `blob`: the gateway's own blob store (batch input for providers without input files).
 * - `derived`: computed on demand from a batch's results (`part` says which half).
 */
export type FileLocation =
  | { kind: 'upstream'; upstreamId: string; bucket?: string; key?: string }
  | { kind: 'blob'; blobPath: string }
  | { kind: 'derived'; batchId: string; part: 'output' | 'error' | 'results' }

/**
 * Something an upload opens upstream that outlives a crash unless closed: an S3 multipart upload
 * (its parts are stored and billed until aborted). Recorded durably before the first part.
 */
export interface UpstreamLeftover {
  kind: 's3-multipart'
  bucket: string
  key: string
  region: string | null
  uploadId: string
}

/** What the upload step learned while converting, needed again at batch create. */
export interface FileFacts {
  /** Format of the bytes at `location`. */
  format: 'openai-batch' | 'bedrock-records' | 'gemini-requests' | 'raw'
  /** Number of requests (JSONL lines) for batch files. */
  lines?: number
  /** The single model all lines name, if they agree. */
  model?: string
  /** The endpoint (`/v1/chat/completions`) all lines target, if they agree. */
  endpoint?: string
  /** The caller's file began with a UTF-8 BOM, kept out of the stored bytes and put back on download. */
  bom?: boolean
}

export interface StoredFile {
  id: string
  tenant: string
  provider: ProviderName
  dialect: Dialect
  location: FileLocation
  purpose: FilePurpose
  filename: string
  bytes: number
  mimeType: string
  createdAt: number // unix seconds
  expiresAt: number | null
  facts: FileFacts
}
