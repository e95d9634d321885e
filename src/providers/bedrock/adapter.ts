// Provider over Bedrock batch inference (spec bedrock.md): batch input is a JSONL object of
// Bedrock records in S3, a batch is a model-invocation job, results are the job's `.out`
// objects in S3. Both services are plain REST signed by aws4fetch rather than the AWS SDKs:
// a handful of calls, and upstreamFetch stays the one place for timeouts and retries.

import type { AwsClient } from 'aws4fetch'
import { isTerminal, type ResultRef, type UpstreamBatch } from '../../core/batch'
import type { FileLocation } from '../../core/file'
import type { BedrockConfig } from '../../config'
import { GatewayError, invalid, UPSTREAM_FAILURE } from '../../errors'
import type { ProviderName } from '../../core/provider-name'
import type {
  AdapterOptions,
  BatchMatch,
  CreateBatchInput,
  CreateCheck,
  CreateProbe,
  Provider,
  S3Target,
  UploadMeta,
  UploadProbe,
  UploadSource,
  UpstreamFile,
  UpstreamLeftover,
} from '../provider'
import { parseJsonBounded } from '../../convert/json-depth'
import { notJson, type UpstreamPolicy } from '../upstream-fetch'
import { awsClient, readBedrockError, type SignedCall, signedFetch } from './aws-fetch'
import { toUpstreamBatch } from './job'
import type { GrowingSource } from '../growing-source'
import { S3, type S3Object, type S3Options } from './s3'
import { abortLeftoverUpload } from './s3-multipart'
import { formatS3Uri, jobOutputPrefix, parseS3Uri, type S3Uri } from './s3-uri'
import { hasRecordCounts, type RecordCountSource, toBatchStatus, toCounts } from './status'
import {
  type CreateJobRequest,
  type CreateJobResponse,
  type JobList,
  type JobResponse,
  MANIFEST_NAME,
  type Manifest,
} from './wire'

type UpstreamLocation = Extract<FileLocation, { kind: 'upstream' }>

/** Bedrock's `timeoutDurationInHours` range (spec bedrock.md §1.1). */
const MIN_TIMEOUT_HOURS = 24
const MAX_TIMEOUT_HOURS = 168

export type BedrockAdapterOptions = S3Options & AdapterOptions

export class BedrockAdapter implements Provider {
  readonly kind = 'bedrock' as const
  readonly name: ProviderName
  readonly batchInput = 'file' as const
  private readonly bedrock: AwsClient
  private readonly s3: S3

  constructor(
    private readonly config: BedrockConfig,
    private readonly policy: UpstreamPolicy,
    options: BedrockAdapterOptions = {},
  ) {
    this.name = options.name ?? this.kind
    this.bedrock = awsClient(config, 'bedrock', config.region)
    this.s3 = new S3(config, policy, options)
  }

  uploadFile(source: UploadSource, meta: UploadMeta): Promise<UpstreamFile> {
    return this.upload(meta, (obj, contentType) => this.s3.putObject(obj, source, contentType, meta.noteLeftover), source.bytes)
  }

  /** S3 multipart takes parts before the total size is known: parts go up while the file grows. */
  async uploadGrowingFile(source: GrowingSource, meta: UploadMeta): Promise<UpstreamFile> {
    return this.upload(meta, (obj, contentType) => this.s3.putGrowingObject(obj, source, contentType, meta.noteLeftover), () => source.total ?? 0)
  }

  private async upload(
    meta: UploadMeta,
    put: (obj: S3Object, contentType: string) => Promise<void>,
    bytesOf: number | (() => number),
  ): Promise<UpstreamFile> {
    if (!meta.storage) {
      throw invalid('bedrock uploads need storage_config[s3][bucket] or BEDROCK_S3_BUCKET', { param: 'storage_config' })
    }
    const { bucket, region } = meta.storage
    const key = objectKeyFor(meta.storage, meta.gatewayId)
    await put({ bucket, key, region }, meta.mimeType || 'application/jsonl')
    const bytes = typeof bytesOf === 'number' ? bytesOf : bytesOf()
    return {
      location: { kind: 'upstream', upstreamId: formatS3Uri(bucket, key), bucket, key },
      bytes,
      createdAt: Math.floor(Date.now() / 1000),
      // S3 objects live in the caller's bucket until deleted.
      expiresAt: null,
    }
  }

  async fileContent(location: UpstreamLocation): Promise<ReadableStream<Uint8Array>> {
    return this.s3.getObject(objectOf(location))
  }

  async deleteFile(location: UpstreamLocation): Promise<void> {
    await this.s3.deleteObject(objectOf(location))
  }

  checkCreate(input: CreateCheck): { roleArn: string; model: string; outputS3Uri: string } {
    const roleArn = input.roleArn ?? this.config.roleArn
    if (!roleArn) throw invalid('bedrock batches need role_arn or BEDROCK_ROLE_ARN', { param: 'role_arn' })
    if (!input.model) {
      throw invalid('bedrock batches run one model: every request must name the same model, or send model with the create.', {
        param: 'model',
      })
    }
    if (!input.outputS3Uri) throw invalid('bedrock batches need output_s3_uri or BEDROCK_S3_BUCKET', { param: 'output_s3_uri' })
    return { roleArn, model: input.model, outputS3Uri: input.outputS3Uri }
  }

  async createBatch(input: CreateBatchInput): Promise<UpstreamBatch> {
    if (input.input.kind !== 'file') throw new GatewayError('internal', 'bedrock batches need an input file in S3')
    const { roleArn, model, outputS3Uri } = this.checkCreate(input)
    const name = jobNameFor(input.gatewayId)
    const request: CreateJobRequest = {
      jobName: name,
      roleArn,
      modelId: model,
      inputDataConfig: { s3InputDataConfig: { s3Uri: input.input.location.upstreamId, s3InputFormat: 'JSONL' } },
      outputDataConfig: { s3OutputDataConfig: { s3Uri: outputS3Uri } },
      clientRequestToken: name,
      timeoutDurationInHours: Math.min(MAX_TIMEOUT_HOURS, Math.max(MIN_TIMEOUT_HOURS, Math.ceil(input.completionWindowHours))),
    }
    const body = JSON.stringify(request)
    const res = await this.call('/model-invocation-job', {
      what: 'create batch',
      // Safe to repeat, unlike other providers' creates: the clientRequestToken is derived from
      // the gateway id, and Bedrock answers a repeated token with the job it already made.
      idempotent: true,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: () => body,
    })
    const { jobArn } = (await res.json()) as CreateJobResponse
    // Create answers with the ARN only; the job itself carries times, model and status.
    return this.getBatch(jobArn)
  }

  async getBatch(upstreamId: string): Promise<UpstreamBatch> {
    const res = await this.call(jobPath(upstreamId), { what: 'get batch', idempotent: true, method: 'GET' })
    const job = (await res.json()) as JobResponse
    const status = toBatchStatus(job.status ?? 'Submitted')
    const outputUri = job.outputDataConfig.s3OutputDataConfig?.s3Uri
    if (!isTerminal(status) || !outputUri) return toUpstreamBatch(job, toCounts(job, status), [])
    const output = jobOutputPrefix(outputUri, job.jobArn)
    // Record counts on the job are newer fields; finished jobs always have the manifest (§2.2).
    const counts: RecordCountSource = hasRecordCounts(job) ? job : ((await this.readManifest(output)) ?? job)
    // Failed jobs write nothing usable; Expired ones nothing at all, but listing costs one call.
    const refs = status === 'failed' ? [] : await this.listResults(output)
    return toUpstreamBatch(job, toCounts(counts, status), refs)
  }

  async cancelBatch(upstreamId: string): Promise<UpstreamBatch> {
    const res = await this.call(`${jobPath(upstreamId)}/stop`, {
      what: 'cancel batch',
      // Stopping twice is harmless: the job is already Stopping.
      idempotent: true,
      method: 'POST',
    })
    await res.body?.cancel()
    // Stop answers `{}`; the job's new status comes from a fresh Get.
    return this.getBatch(upstreamId)
  }

  async deleteBatch(_upstreamId: string): Promise<void> {
    // Bedrock has no job deletion; the gateway forgets the mapping only.
  }

  async openResults(ref: ResultRef): Promise<ReadableStream<Uint8Array>> {
    if (ref.format !== 'bedrock-out') throw new GatewayError('internal', `bedrock cannot open ${ref.format} results`)
    return this.s3.getObject(parseS3Uri(ref.ref))
  }

  /** `{output}/{jobId}/manifest.json.out`, or null if the job wrote none. */
  private async readManifest(output: S3Uri): Promise<Manifest | null> {
    try {
      const body = await this.s3.getObject({ bucket: output.bucket, key: `${output.key}${MANIFEST_NAME}` })
      // A manifest nested past the limit is as unreadable as a malformed one: no counts from it.
      return parseJsonBounded(await new Response(body).text(), notJson) as Manifest
    } catch (err) {
      if (err instanceof GatewayError && err.details.upstreamStatus === 404) return null
      if (err instanceof SyntaxError) return null
      if (err instanceof GatewayError) throw err
      // The object's body broke off while it was read.
      throw new GatewayError('upstream_unreachable', 'bedrock dropped the connection while the job manifest was read', {
        code: UPSTREAM_FAILURE.reset,
      })
    }
  }

  /** Every `.out` object of the job but the manifest: one per input `.jsonl` (§2.2). */
  private async listResults(output: S3Uri): Promise<ResultRef[]> {
    const objects = await this.s3.listObjects(output.bucket, output.key)
    return objects
      .filter((o) => o.key.endsWith('.out') && o.key.slice(o.key.lastIndexOf('/') + 1) !== MANIFEST_NAME)
      .map((o) => ({ format: 'bedrock-out' as const, ref: formatS3Uri(output.bucket, o.key) }))
  }

  /** Jobs are named after the gateway id (jobNameFor), so an exact name match is this create's job. */
  async findBatch(probe: CreateProbe): Promise<BatchMatch | null> {
    const name = jobNameFor(probe.gatewayId)
    const res = await this.call(`/model-invocation-jobs?nameContains=${encodeURIComponent(name)}&maxResults=100`, {
      what: 'list batches',
      idempotent: true,
      method: 'GET',
    })
    const { invocationJobSummaries = [] } = (await res.json()) as JobList
    const job = invocationJobSummaries.find((j) => j.jobName === name)
    return job ? { kind: 'tagged', batch: await this.getBatch(job.jobArn) } : null
  }

  async abortLeftover(leftover: UpstreamLeftover): Promise<void> {
    await abortLeftoverUpload(this.s3, leftover)
  }

  /** The object key derives from the gateway id and the storage target, so it is looked up directly. */
  async findUpload(probe: UploadProbe): Promise<UpstreamLocation | null> {
    if (!probe.storage) return null
    const { bucket, region } = probe.storage
    const key = objectKeyFor(probe.storage, probe.gatewayId)
    const head = await this.s3.headObject({ bucket, key, region })
    return head ? { kind: 'upstream', upstreamId: formatS3Uri(bucket, key), bucket, key } : null
  }

  private call(path: string, call: Omit<SignedCall, 'readError'>): Promise<Response> {
    return signedFetch(this.bedrock, `${this.config.baseUrl}${path}`, { ...call, readError: readBedrockError }, this.policy)
  }
}

/** A job ARN (or id) is one path segment, percent-encoded (spec bedrock.md §1.2). */
function jobPath(jobArn: string): string {
  return `/model-invocation-job/${encodeURIComponent(jobArn)}`
}

/**
 * Job name and idempotency token from the gateway id: both patterns (§1.1) allow letters,
 * digits and hyphens, so `batch_01h…` becomes `batchgate-batch01h…` (≤ 63 chars).
 */
export function jobNameFor(gatewayId: string): string {
  return `batchgate-${gatewayId.replace(/[^a-zA-Z0-9]/g, '')}`.slice(0, 63)
}

/**
 * Named after the gateway id, never the client's filename: keeps the key inside the s3Uri
 * pattern Bedrock accepts (no spaces, no `+`), unique per upload, and findable after a crash.
 */
function objectKeyFor(storage: S3Target, gatewayId: string): string {
  const folder = storage.prefix.replace(/^\/+|\/+$/g, '')
  return `${folder ? `${folder}/` : ''}${gatewayId}.jsonl`
}

function objectOf(location: UpstreamLocation): S3Uri {
  if (location.bucket && location.key !== undefined) return { bucket: location.bucket, key: location.key }
  return parseS3Uri(location.upstreamId)
}
