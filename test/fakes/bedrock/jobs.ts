// Batch inference job lifecycle (spec bedrock.md §1.5) and its S3 side (§2): reading the
// `.jsonl` input while Validating, and writing `{output}/{jobId}/<file>.out` plus
// `manifest.json.out` when the job finishes.

import type { S3Fake } from '../s3/server'
import { invokeRecord, type InvocationType } from './models'
import type { CreateJobRequest, JobStatus, S3InputDataConfig, S3OutputDataConfig } from './validate'

export interface InputRecord {
  recordId: string
  modelInput: unknown
}

export interface InputFile {
  /** File name (last key segment), e.g. `abc.jsonl`; the output is `<name>.out`. */
  name: string
  records: InputRecord[]
}

export interface BedrockJob {
  /** Last ARN segment: 12 lowercase alphanumerics. */
  id: string
  jobArn: string
  jobName: string
  modelId: string
  roleArn: string
  clientRequestToken?: string
  status: JobStatus
  message?: string
  submitTime: Date
  lastModifiedTime: Date
  endTime?: Date
  jobExpirationTime: Date
  inputDataConfig: { s3InputDataConfig: S3InputDataConfig }
  outputDataConfig: { s3OutputDataConfig: S3OutputDataConfig }
  timeoutDurationInHours: number
  modelInvocationType: InvocationType
  vpcConfig?: { subnetIds: string[]; securityGroupIds: string[] }
  tags?: { key: string; value: string }[]
  totalRecordCount?: number
  processedRecordCount?: number
  successRecordCount?: number
  errorRecordCount?: number
  /** Creation order, to sort jobs submitted within the same millisecond. */
  seq: number
  /** Parsed input, filled when validation passes. */
  inputs?: InputFile[]
  /** S3 keys this job wrote (output bucket), for tests. */
  outputKeys: string[]
  /** Whether a GetModelInvocationJob has seen the job yet (the first one shows Submitted). */
  polled: boolean
}

export const TERMINAL: readonly JobStatus[] = ['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired']
/** The forward path a healthy job walks, one step per GetModelInvocationJob. */
const NEXT: Partial<Record<JobStatus, JobStatus>> = {
  Submitted: 'Validating',
  Validating: 'Scheduled',
  Scheduled: 'InProgress',
  InProgress: 'Completed',
  Stopping: 'Stopped',
}

/** Default job timeout when the request omits it (the real default is unverified; §1.1). */
export const DEFAULT_TIMEOUT_HOURS = 168

export function newJobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('')
}

export function createJob(req: CreateJobRequest, id: string, region: string, seq: number): BedrockJob {
  const now = new Date()
  const hours = req.timeoutDurationInHours ?? DEFAULT_TIMEOUT_HOURS
  return {
    id,
    jobArn: `arn:aws:bedrock:${region}:123456789012:model-invocation-job/${id}`,
    jobName: req.jobName,
    modelId: req.modelId,
    roleArn: req.roleArn,
    clientRequestToken: req.clientRequestToken,
    status: 'Submitted',
    submitTime: now,
    lastModifiedTime: now,
    jobExpirationTime: new Date(now.getTime() + hours * 3600_000),
    inputDataConfig: req.inputDataConfig,
    outputDataConfig: req.outputDataConfig,
    timeoutDurationInHours: hours,
    modelInvocationType: req.modelInvocationType ?? 'InvokeModel',
    vpcConfig: req.vpcConfig,
    tags: req.tags,
    seq,
    outputKeys: [],
    polled: false,
  }
}

/** The wire shape of a job (GetModelInvocationJob and list summaries, §1.2). Absent fields are omitted, not null. */
export function jobJson(job: BedrockJob): Record<string, unknown> {
  const out: Record<string, unknown> = {
    jobArn: job.jobArn,
    jobName: job.jobName,
    modelId: job.modelId,
    clientRequestToken: job.clientRequestToken,
    roleArn: job.roleArn,
    status: job.status,
    message: job.message,
    submitTime: job.submitTime.toISOString(),
    lastModifiedTime: job.lastModifiedTime.toISOString(),
    endTime: job.endTime?.toISOString(),
    inputDataConfig: job.inputDataConfig,
    outputDataConfig: job.outputDataConfig,
    vpcConfig: job.vpcConfig,
    timeoutDurationInHours: job.timeoutDurationInHours,
    jobExpirationTime: job.jobExpirationTime.toISOString(),
    modelInvocationType: job.modelInvocationType,
    totalRecordCount: job.totalRecordCount,
    processedRecordCount: job.processedRecordCount,
    successRecordCount: job.successRecordCount,
    errorRecordCount: job.errorRecordCount,
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) }
}

class JobFailure extends Error {}

/**
 * What Validating checks (§1.5): both buckets reachable, the input is one `.jsonl` object or a
 * prefix holding some, and every line is a JSON object `{recordId?, modelInput}`.
 */
async function readInput(s3: S3Fake, job: BedrockJob): Promise<InputFile[]> {
  const inUri = job.inputDataConfig.s3InputDataConfig.s3Uri
  const { bucket, key } = parseS3Uri(inUri)
  if (!s3.store.buckets.has(bucket)) throw new JobFailure(`Unable to access input S3 bucket '${bucket}': the bucket does not exist.`)
  const out = parseS3Uri(job.outputDataConfig.s3OutputDataConfig.s3Uri)
  if (!s3.store.buckets.has(out.bucket)) throw new JobFailure(`Unable to access output S3 bucket '${out.bucket}': the bucket does not exist.`)
  let keys: string[]
  if (key.endsWith('.jsonl')) {
    if (!s3.hasObject(bucket, key)) throw new JobFailure(`The input file ${inUri} does not exist.`)
    keys = [key]
  } else {
    if (key && !key.endsWith('/') && s3.hasObject(bucket, key)) {
      throw new JobFailure(`The input file ${inUri} is not a .jsonl file. Input files must be in JSONL format.`)
    }
    const prefix = key && !key.endsWith('/') ? `${key}/` : key
    // Only the .jsonl files directly in the folder are job input.
    keys = s3.listKeys(bucket, prefix).filter((k) => k.endsWith('.jsonl') && !k.slice(prefix.length).includes('/'))
    if (keys.length === 0) throw new JobFailure(`No .jsonl input files were found at ${inUri}.`)
  }
  const files: InputFile[] = []
  let generated = 0
  for (const k of keys) {
    const name = k.slice(k.lastIndexOf('/') + 1)
    const text = await s3.getObjectText(bucket, k)
    const records: InputRecord[] = []
    const lines = text.split('\n')
    lines.forEach((line, i) => {
      if (line.trim() === '') return
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        throw new JobFailure(`The input file ${name} is not valid JSONL: line ${i + 1} is not a JSON object.`)
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new JobFailure(`The input file ${name} is not valid JSONL: line ${i + 1} is not a JSON object.`)
      }
      const rec = parsed as Record<string, unknown>
      if (!('modelInput' in rec) || typeof rec.modelInput !== 'object' || rec.modelInput === null) {
        throw new JobFailure(`The input file ${name} has an invalid record at line ${i + 1}: modelInput is required.`)
      }
      if (rec.recordId !== undefined && typeof rec.recordId !== 'string') {
        throw new JobFailure(`The input file ${name} has an invalid record at line ${i + 1}: recordId must be a string.`)
      }
      // Bedrock supplies an 11-character id when the record has none (§2.1).
      generated += 1
      const recordId = rec.recordId ?? `R${String(generated).padStart(10, '0')}`
      records.push({ recordId, modelInput: rec.modelInput })
    })
    files.push({ name, records })
  }
  if (files.every((f) => f.records.length === 0)) throw new JobFailure(`The input at ${inUri} contains no records.`)
  return files
}

function setStatus(job: BedrockJob, status: JobStatus, message?: string): void {
  job.status = status
  job.lastModifiedTime = new Date()
  if (message !== undefined) job.message = message
  if (TERMINAL.includes(status)) job.endTime = job.lastModifiedTime
}

/** Runs Validating's checks; on failure the job ends Failed with the reason in `message`. */
async function validateJob(s3: S3Fake, job: BedrockJob): Promise<boolean> {
  if (job.inputs) return true
  try {
    job.inputs = await readInput(s3, job)
    job.totalRecordCount = job.inputs.reduce((n, f) => n + f.records.length, 0)
    job.processedRecordCount = 0
    job.successRecordCount = 0
    job.errorRecordCount = 0
    return true
  } catch (err) {
    if (!(err instanceof JobFailure)) throw err
    setStatus(job, 'Failed', err.message)
    return false
  }
}

/**
 * Processes the first `limit` records (all by default) and writes the output layout of §2.2.
 * Lines are written in reverse input order: Bedrock does not promise order, clients must join
 * on recordId.
 */
async function writeOutput(s3: S3Fake, job: BedrockJob, limit: number): Promise<void> {
  const { bucket, key } = parseS3Uri(job.outputDataConfig.s3OutputDataConfig.s3Uri)
  if (!s3.store.buckets.has(bucket)) throw new JobFailure(`Unable to write to output S3 bucket '${bucket}': the bucket does not exist.`)
  const base = `${key && !key.endsWith('/') ? `${key}/` : key}${job.id}/`
  let remaining = limit
  let success = 0
  let errors = 0
  let inputTokens = 0
  let outputTokens = 0
  for (const file of job.inputs ?? []) {
    const take = file.records.slice(0, Math.max(0, remaining))
    remaining -= take.length
    if (take.length === 0) continue
    const lines = take.map((rec) => {
      const r = invokeRecord(job.modelId, job.modelInvocationType, rec.modelInput)
      if (r.ok) {
        success += 1
        inputTokens += r.inputTokens
        outputTokens += r.outputTokens
        return JSON.stringify({ recordId: rec.recordId, modelInput: rec.modelInput, modelOutput: r.output })
      }
      errors += 1
      return JSON.stringify({ recordId: rec.recordId, modelInput: rec.modelInput, error: { errorCode: r.errorCode, errorMessage: r.errorMessage } })
    })
    const outKey = `${base}${file.name}.out`
    await s3.putObject(bucket, outKey, `${lines.reverse().join('\n')}\n`, 'application/octet-stream')
    job.outputKeys.push(outKey)
  }
  const manifest = {
    totalRecordCount: job.totalRecordCount ?? 0,
    processedRecordCount: success + errors,
    successRecordCount: success,
    errorRecordCount: errors,
    inputTokenCount: inputTokens,
    outputTokenCount: outputTokens,
  }
  const manifestKey = `${base}manifest.json.out`
  await s3.putObject(bucket, manifestKey, JSON.stringify(manifest), 'application/octet-stream')
  job.outputKeys.push(manifestKey)
  job.processedRecordCount = manifest.processedRecordCount
  job.successRecordCount = success
  job.errorRecordCount = errors
}

/** Processes records and ends the job Completed (or PartiallyCompleted with `limit`). */
async function complete(s3: S3Fake, job: BedrockJob, partialLimit?: number): Promise<void> {
  try {
    const total = job.totalRecordCount ?? 0
    await writeOutput(s3, job, partialLimit ?? total)
    setStatus(job, partialLimit === undefined ? 'Completed' : 'PartiallyCompleted')
  } catch (err) {
    if (!(err instanceof JobFailure)) throw err
    setStatus(job, 'Failed', err.message)
  }
}

/** Moves the job one step along its lifecycle (no-op for terminal jobs). */
export async function advance(s3: S3Fake, job: BedrockJob): Promise<void> {
  const next = NEXT[job.status]
  if (!next) return
  if (job.status === 'Validating') {
    if (await validateJob(s3, job)) setStatus(job, 'Scheduled')
    return
  }
  if (job.status === 'InProgress') return await complete(s3, job)
  setStatus(job, next)
}

/** Jumps to the final state: Completed (or Failed if validation fails; Stopped if stopping). */
export async function finish(s3: S3Fake, job: BedrockJob): Promise<void> {
  while (!TERMINAL.includes(job.status)) await advance(s3, job)
}

/** Ends the job PartiallyCompleted with only `count` records processed (default: about half). */
export async function partiallyComplete(s3: S3Fake, job: BedrockJob, count?: number): Promise<void> {
  assertActive(job, 'partiallyComplete')
  if (!(await validateJob(s3, job))) return
  const total = job.totalRecordCount ?? 0
  const limit = count ?? (total > 1 ? Math.ceil(total / 2) : 0)
  await complete(s3, job, Math.min(limit, Math.max(0, total - 1)))
}

export function expire(job: BedrockJob): void {
  assertActive(job, 'expire')
  // Expired jobs never started before the timeout: no output at all (§1.5).
  setStatus(job, 'Expired', 'The job did not start before its timeout expired.')
}

export function fail(job: BedrockJob, message: string): void {
  assertActive(job, 'fail')
  setStatus(job, 'Failed', message)
}

/** StopModelInvocationJob: active jobs go to Stopping; the next Get shows Stopped. */
export function requestStop(job: BedrockJob): 'ok' | 'terminal' {
  if (job.status === 'Stopping') return 'ok'
  if (TERMINAL.includes(job.status)) return 'terminal'
  setStatus(job, 'Stopping')
  return 'ok'
}

function assertActive(job: BedrockJob, what: string): void {
  if (TERMINAL.includes(job.status)) throw new Error(`${what}: job ${job.id} is already ${job.status}`)
}
