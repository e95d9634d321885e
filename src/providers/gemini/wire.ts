// Gemini v1beta wire shapes (spec gemini.md), as the REST API sends them: camelCase, int64 as
// strings, zero/default fields omitted — so almost everything is optional. Only the fields this
// adapter reads or writes are declared.

/** google.rpc.Status: Operation `error`, per-request errors, and the error envelope's body. */
export interface GeminiRpcStatus {
  /** gRPC code inside resources (Operation.error); HTTP status inside the error envelope. */
  code?: number
  message?: string
  /** Canonical name (`NOT_FOUND`, `INVALID_ARGUMENT`), present in the error envelope. */
  status?: string
  details?: Array<{ '@type'?: string; reason?: string }>
}

/** Non-2xx answers: `{error: {code, message, status, details}}` (spec §1). */
export interface GeminiErrorEnvelope {
  error?: GeminiRpcStatus
}

/** File resource (spec §2.6). */
export interface GeminiFile {
  name: string
  displayName?: string
  mimeType?: string
  sizeBytes?: string
  createTime?: string
  updateTime?: string
  expirationTime?: string
  state?: 'STATE_UNSPECIFIED' | 'PROCESSING' | 'ACTIVE' | 'FAILED'
  source?: 'SOURCE_UNSPECIFIED' | 'UPLOADED' | 'GENERATED' | 'REGISTERED'
  error?: GeminiRpcStatus
}

/** Body of the resumable-upload start request (spec §2.1); the SDK sends camelCase too. */
export interface GeminiUploadStartBody {
  file: { displayName: string; mimeType: string }
}

/** Final chunk answer (spec §2.1) and `query` answer once finalized. */
export interface GeminiUploadFinalBody {
  file?: GeminiFile
}

/** REST spelling, plus the SDK's renamed spelling that some guide snippets use (spec §3.6). */
export type GeminiBatchState =
  | 'BATCH_STATE_UNSPECIFIED'
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED'
  | 'JOB_STATE_UNSPECIFIED'
  | 'JOB_STATE_PENDING'
  | 'JOB_STATE_RUNNING'
  | 'JOB_STATE_SUCCEEDED'
  | 'JOB_STATE_FAILED'
  | 'JOB_STATE_CANCELLED'
  | 'JOB_STATE_EXPIRED'

/** `batchStats` (spec §3.7): int64 strings, zero-valued keys omitted. */
export interface GeminiBatchStats {
  requestCount?: string
  successfulRequestCount?: string
  failedRequestCount?: string
  pendingRequestCount?: string
}

/** `metadata.output` / Operation `response` (spec §3.2); note the doubled inline name. */
export interface GeminiBatchOutput {
  responsesFile?: string
  inlinedResponses?: { inlinedResponses?: unknown[] }
}

/** GenerateContentBatch, carried as the Operation's `metadata` (spec §3.1/§3.2). */
export interface GeminiBatch {
  name?: string
  model?: string
  displayName?: string
  inputConfig?: { fileName?: string }
  output?: GeminiBatchOutput
  createTime?: string
  endTime?: string
  updateTime?: string
  batchStats?: GeminiBatchStats
  /** Kept as string: an unknown future state must not break parsing (see status.ts). */
  state?: string
}

/** The long-running Operation every batch call answers with (spec §3.1/§3.2). */
export interface GeminiOperation {
  name: string
  metadata?: GeminiBatch
  done?: boolean
  error?: GeminiRpcStatus
  response?: GeminiBatchOutput
}

/** `GET /v1beta/batches` and `GET /v1beta/files`: proto3 JSON omits an empty list entirely. */
export interface GeminiBatchList {
  operations?: GeminiOperation[]
  nextPageToken?: string
}
export interface GeminiFileList {
  files?: GeminiFile[]
  nextPageToken?: string
}

/** Body of `POST /v1beta/models/{model}:batchGenerateContent` for file input (spec §3.1). */
export interface GeminiCreateBatchBody {
  batch: { displayName: string; inputConfig: { fileName: string } }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The one check we make before trusting a JSON answer as a resource: it names itself. */
export function hasName(v: unknown): v is { name: string } {
  return isRecord(v) && typeof v.name === 'string' && v.name !== ''
}

export function isUploadFinalBody(v: unknown): v is GeminiUploadFinalBody {
  return isRecord(v) && (v.file === undefined || hasName(v.file))
}
