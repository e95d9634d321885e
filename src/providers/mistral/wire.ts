// Mistral wire shapes (docs.mistral.ai API reference "batch" and "files"; @mistralai/mistralai
// 2.x models BatchJob, CreateBatchJobRequest, CreateFileResponse, ListBatchJobsResponse). Only
// the fields the adapter reads or sends are typed; everything else is ignored.

/** `BatchJobStatus`: every value the API documents. */
export const MISTRAL_JOB_STATUSES = [
  'QUEUED',
  'RUNNING',
  'SUCCESS',
  'FAILED',
  'TIMEOUT_EXCEEDED',
  'CANCELLATION_REQUESTED',
  'CANCELLED',
] as const
export type MistralJobStatus = (typeof MISTRAL_JOB_STATUSES)[number]

/** `POST /v1/batch/jobs` body. The model is the job's, not each line's. */
export interface MistralJobIn {
  input_files: string[]
  endpoint: string
  model: string
  metadata: Record<string, string> | null
  timeout_hours: number
}

/** The batch job object every job call answers with (`BatchJob`, `object: "batch"`). */
export interface MistralJob {
  id: string
  object: 'batch'
  input_files: string[]
  metadata?: Record<string, unknown> | null
  endpoint: string
  model?: string | null
  output_file?: string | null
  error_file?: string | null
  errors: Array<{ message: string; count?: number }>
  status: string
  /** Unix seconds. */
  created_at: number
  total_requests: number
  completed_requests: number
  succeeded_requests: number
  failed_requests: number
  started_at?: number | null
  completed_at?: number | null
}

/** `GET /v1/batch/jobs` (page / page_size paging, newest first by default). */
export interface MistralJobList {
  data?: MistralJob[]
  object: 'list'
  total: number
}

/** `POST /v1/files` answer (`CreateFileResponse`). */
export interface MistralFile {
  id: string
  object: string
  bytes: number
  created_at: number
  filename: string
  purpose: string
  expires_at?: number | null
}
