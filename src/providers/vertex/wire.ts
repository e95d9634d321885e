// Wire shapes of the three Google APIs a vertex instance uses, as their REST JSON sends them
// (camelCase, int64 as strings, default values omitted): Vertex AI BatchPredictionJob (v1), Cloud
// Storage objects (JSON API v1) and the OAuth 2.0 token endpoint. Only fields read or written here.

import type { GeminiRpcStatus } from '../gemini/wire'

/** google.cloud.aiplatform.v1.JobState. */
export type VertexJobState =
  | 'JOB_STATE_UNSPECIFIED'
  | 'JOB_STATE_QUEUED'
  | 'JOB_STATE_PENDING'
  | 'JOB_STATE_RUNNING'
  | 'JOB_STATE_SUCCEEDED'
  | 'JOB_STATE_FAILED'
  | 'JOB_STATE_CANCELLING'
  | 'JOB_STATE_CANCELLED'
  | 'JOB_STATE_PAUSED'
  | 'JOB_STATE_EXPIRED'
  | 'JOB_STATE_UPDATING'
  | 'JOB_STATE_PARTIALLY_SUCCEEDED'

/** `completionStats`: rows that succeeded, failed, and were never run (cancelled or cut off). */
export interface VertexCompletionStats {
  successfulCount?: string
  failedCount?: string
  incompleteCount?: string
}

/** The body of `batchPredictionJobs.create` for Gemini over GCS JSONL. */
export interface VertexCreateJobBody {
  displayName: string
  /** `publishers/google/models/{model}`. */
  model: string
  inputConfig: { instancesFormat: 'jsonl'; gcsSource: { uris: string[] } }
  outputConfig: { predictionsFormat: 'jsonl'; gcsDestination: { outputUriPrefix: string } }
}

/** BatchPredictionJob as get/list/create answer it. */
export interface VertexBatchJob {
  /** `projects/{project}/locations/{location}/batchPredictionJobs/{id}`. */
  name: string
  displayName?: string
  model?: string
  /** Kept as string: an unknown future state must not break parsing (see job.ts). */
  state?: string
  error?: GeminiRpcStatus
  outputInfo?: { gcsOutputDirectory?: string }
  completionStats?: VertexCompletionStats
  createTime?: string
  startTime?: string
  endTime?: string
  updateTime?: string
}

export interface VertexJobList {
  batchPredictionJobs?: VertexBatchJob[]
  nextPageToken?: string
}

/** A Cloud Storage object resource. */
export interface GcsObject {
  name: string
  bucket: string
  /** uint64 as a string. */
  size?: string
  timeCreated?: string
}

export interface GcsObjectList {
  items?: GcsObject[]
  nextPageToken?: string
}

/** A successful token answer (RFC 6749 §5.1). */
export interface TokenAnswer {
  access_token?: string
  expires_in?: number
  token_type?: string
}
