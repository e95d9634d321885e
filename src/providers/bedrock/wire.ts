// Bedrock batch-inference wire shapes (spec bedrock.md §1–2), restJson1 with ISO 8601 times.

export type JobStatus =
  | 'Submitted'
  | 'Validating'
  | 'Scheduled'
  | 'InProgress'
  | 'Completed'
  | 'PartiallyCompleted'
  | 'Failed'
  | 'Stopping'
  | 'Stopped'
  | 'Expired'

/** CreateModelInvocationJob body (§1.1). */
export interface CreateJobRequest {
  jobName: string
  roleArn: string
  modelId: string
  inputDataConfig: { s3InputDataConfig: { s3Uri: string; s3InputFormat: 'JSONL' } }
  outputDataConfig: { s3OutputDataConfig: { s3Uri: string } }
  clientRequestToken: string
  timeoutDurationInHours: number
}

export interface CreateJobResponse {
  jobArn: string
}

/** GetModelInvocationJob answer (§1.2); the record counts are newer and may be absent. */
export interface JobResponse {
  jobArn: string
  jobName?: string
  modelId: string
  roleArn: string
  status?: JobStatus
  message?: string | null
  submitTime: string
  lastModifiedTime?: string | null
  endTime?: string | null
  jobExpirationTime?: string | null
  inputDataConfig: { s3InputDataConfig?: { s3Uri: string } }
  outputDataConfig: { s3OutputDataConfig?: { s3Uri: string } }
  timeoutDurationInHours?: number
  totalRecordCount?: number
  processedRecordCount?: number
  successRecordCount?: number
  errorRecordCount?: number
}

/** ListModelInvocationJobs answer; only the fields the adapter reads. */
export interface JobList {
  invocationJobSummaries?: Array<Pick<JobResponse, 'jobArn' | 'jobName'>>
  nextToken?: string
}

/** `{output}/{jobId}/manifest.json.out` (§2.2). */
export interface Manifest {
  totalRecordCount?: number
  processedRecordCount?: number
  successRecordCount?: number
  errorRecordCount?: number
  inputTokenCount?: number
  outputTokenCount?: number
}

export const MANIFEST_NAME = 'manifest.json.out'
