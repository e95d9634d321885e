// The Bedrock adapter against the Bedrock + S3 fakes: upload records → create job → poll every
// status → counts (job fields and manifest fallback) → result refs → .out contents; stop,
// PartiallyCompleted/Expired/Failed endings, and error mapping (SigV4, validation, faults).

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BatchStatus } from '../../src/core/batch'
import type { BedrockConfig } from '../../src/config'
import { mintId } from '../../src/core/ids'
import { GatewayError } from '../../src/errors'
import { BedrockAdapter, jobNameFor } from '../../src/providers/bedrock/adapter'
import { toBatchStatus } from '../../src/providers/bedrock/status'
import type { JobStatus } from '../../src/providers/bedrock/wire'
import type { CreateBatchInput } from '../../src/providers/provider'
import { startBedrockFake } from '../fakes/bedrock'
import { startS3Fake } from '../fakes/s3'

const BUCKET = 'batchgate-test'
const ROLE = 'arn:aws:iam::123456789012:role/BedrockBatchRole'
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0'
const policy = { timeoutMs: 5000, retries: 2 }
const s3 = startS3Fake({ buckets: [BUCKET] })
const fake = startBedrockFake({ s3 })
const dir = mkdtempSync(join(tmpdir(), 'bedrock-test-'))

afterAll(async () => {
  await fake.close()
  await s3.close()
  rmSync(dir, { recursive: true, force: true })
})

const config: BedrockConfig = {
  accessKeyId: fake.credentials.accessKeyId,
  secretAccessKey: fake.credentials.secretAccessKey,
  sessionToken: null,
  region: 'us-east-1',
  baseUrl: fake.url,
  s3Endpoint: s3.url,
  roleArn: null,
  defaultBucket: BUCKET,
}
const adapter = new BedrockAdapter(config, policy)

function record(id: string, prompt: string): string {
  const modelInput = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: prompt }] }
  return `${JSON.stringify({ recordId: id, modelInput })}\n`
}

/** Uploads Bedrock records through the adapter and returns the create input for them. */
async function prepare(prompts: string[], overrides: Partial<CreateBatchInput> = {}): Promise<CreateBatchInput> {
  const fileId = mintId('openaiFile')
  const path = join(dir, fileId)
  const bytes = await Bun.write(path, prompts.map((p, i) => record(`CALL${String(i + 1).padStart(7, '0')}`, p)).join(''))
  const file = await adapter.uploadFile(
    { path, bytes },
    { gatewayId: fileId, filename: 'in.jsonl', purpose: 'batch', mimeType: 'application/jsonl', dialect: 'openai', storage: { bucket: BUCKET, region: null, prefix: 'in' } },
  )
  return {
    gatewayId: mintId('openaiBatch'),
    endpoint: '/v1/chat/completions',
    model: MODEL,
    completionWindowHours: 24,
    metadata: null,
    input: { kind: 'file', location: file.location },
    outputS3Uri: `s3://${BUCKET}/out/`,
    roleArn: ROLE,
    ...overrides,
  }
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GatewayError) return err
    throw err
  }
  throw new Error('expected a GatewayError')
}

const jobIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1)
const zero = { total: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 }

describe('bedrock adapter: job lifecycle', () => {
  test('create → every status → counts → result refs → .out contents', async () => {
    const input = await prepare(['hello there', 'please FAIL this', 'third one'])
    const created = await adapter.createBatch(input)
    const arn = created.upstreamId
    expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:model-invocation-job\/[a-z0-9]{12}$/)
    const job = fake.job(arn)
    expect(job?.jobName).toBe(jobNameFor(input.gatewayId))
    expect(job?.clientRequestToken).toBe(jobNameFor(input.gatewayId))
    expect(job?.timeoutDurationInHours).toBe(24)
    expect(job?.inputDataConfig).toEqual({ s3InputDataConfig: { s3Uri: input.input.kind === 'file' ? input.input.location.upstreamId : '', s3InputFormat: 'JSONL' } })
    expect(fake.requests.at(-1)?.path).toBe(`/model-invocation-job/${encodeURIComponent(arn)}`)
    expect(fake.requests.at(-1)?.headers.authorization).toContain('/us-east-1/bedrock/aws4_request')

    const submitted = Math.floor((job?.submitTime.getTime() ?? 0) / 1000)
    expect(created).toEqual({
      upstreamId: arn,
      status: 'validating',
      counts: zero,
      times: {
        createdAt: submitted,
        inProgressAt: null,
        finalizingAt: null,
        completedAt: null,
        failedAt: null,
        expiredAt: null,
        cancellingAt: null,
        cancelledAt: null,
        expiresAt: submitted + 24 * 3600,
      },
      resultRefs: [],
      errors: [],
      model: MODEL,
    })

    const seen: Array<[JobStatus | undefined, BatchStatus]> = []
    let batch = created
    while (batch.status !== 'completed') {
      batch = await adapter.getBatch(arn)
      seen.push([fake.job(arn)?.status, batch.status])
    }
    expect(seen).toEqual([
      ['Validating', 'validating'],
      ['Scheduled', 'validating'],
      ['InProgress', 'in_progress'],
      ['Completed', 'completed'],
    ])
    const id = jobIdOf(arn)
    const fileKey = input.input.kind === 'file' ? input.input.location.key : ''
    const outKey = `out/${id}/${fileKey?.slice('in/'.length)}.out`
    expect(batch.counts).toEqual({ total: 3, succeeded: 2, errored: 1, canceled: 0, expired: 0 })
    expect(batch.resultRefs).toEqual([{ format: 'bedrock-out', ref: `s3://${BUCKET}/${outKey}` }])
    expect(batch.times.completedAt).toBe(Math.floor((fake.job(arn)?.endTime?.getTime() ?? 0) / 1000))

    const text = await new Response(await adapter.openResults(batch.resultRefs[0] ?? { format: 'bedrock-out', ref: '' })).text()
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { recordId: string; modelOutput?: { content: { text: string }[] }; error?: { errorCode: number } })
    const byId = Object.fromEntries(lines.map((l) => [l.recordId, l.modelOutput?.content[0]?.text ?? `error ${l.error?.errorCode}`]))
    expect(byId).toEqual({ CALL0000001: 'Reply to: hello there', CALL0000002: 'error 400', CALL0000003: 'Reply to: third one' })

    // Deleting a Bedrock batch is a no-op upstream; the job stays readable.
    await adapter.deleteBatch(arn)
    expect((await adapter.getBatch(arn)).status).toBe('completed')
  })

  test('counts fall back to manifest.json.out when the job lacks record counts', async () => {
    const input = await prepare(['a', 'b FAIL'])
    const { upstreamId } = await adapter.createBatch(input)
    const job = await fake.finish(upstreamId)
    job.totalRecordCount = undefined
    job.processedRecordCount = undefined
    job.successRecordCount = undefined
    job.errorRecordCount = undefined
    const batch = await adapter.getBatch(upstreamId)
    expect(batch.counts).toEqual({ total: 2, succeeded: 1, errored: 1, canceled: 0, expired: 0 })
    expect(batch.resultRefs).toHaveLength(1)
  })

  test('stop: Stopping then Stopped → cancelled, no results', async () => {
    const input = await prepare(['x', 'y'])
    const { upstreamId } = await adapter.createBatch(input)
    const before = fake.requests.length
    const cancelled = await adapter.cancelBatch(upstreamId)
    const stop = fake.requests[before]
    expect(`${stop?.method} ${stop?.path}`).toBe(`POST /model-invocation-job/${encodeURIComponent(upstreamId)}/stop`)
    expect(stop?.headers['content-type']).toBeUndefined()
    // The fake completes a stop on the next Get, which cancelBatch makes.
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.resultRefs).toEqual([])
    expect(cancelled.counts).toEqual(zero)
    expect(cancelled.times.cancelledAt).toEqual(expect.any(Number))
    // Stopping a finished job is Bedrock's ValidationException, surfaced as is.
    const err = await failure(adapter.cancelBatch(upstreamId))
    expect({ kind: err.kind, status: err.details.upstreamStatus, code: err.details.code }).toEqual({ kind: 'upstream', status: 400, code: 'ValidationException' })
  })

  test('stop while running: the records never reached count as canceled', async () => {
    const quiet = startBedrockFake({ s3, autoAdvance: false })
    try {
      const a = new BedrockAdapter({ ...config, baseUrl: quiet.url }, policy)
      const { upstreamId } = await a.createBatch(await prepare(['p', 'q', 'r']))
      const job = quiet.job(upstreamId)
      if (!job) throw new Error('no job')
      Object.assign(job, { status: 'InProgress', totalRecordCount: 3, processedRecordCount: 1, successRecordCount: 1, errorRecordCount: 0 })
      expect((await a.getBatch(upstreamId)).status).toBe('in_progress')
      const stopped = await a.cancelBatch(upstreamId)
      expect(stopped.status).toBe('cancelled')
      expect(stopped.counts).toEqual({ total: 3, succeeded: 1, errored: 0, canceled: 2, expired: 0 })
    } finally {
      await quiet.close()
    }
  })

  test('PartiallyCompleted → expired with partial output', async () => {
    const input = await prepare(['one', 'two', 'three', 'four'])
    const { upstreamId } = await adapter.createBatch(input)
    await fake.partiallyComplete(upstreamId, 2)
    const batch = await adapter.getBatch(upstreamId)
    expect(batch.status).toBe('expired')
    expect(batch.counts).toEqual({ total: 4, succeeded: 2, errored: 0, canceled: 0, expired: 2 })
    expect(batch.times.expiredAt).toEqual(expect.any(Number))
    expect(batch.resultRefs).toHaveLength(1)
    const text = await new Response(await adapter.openResults(batch.resultRefs[0] ?? { format: 'bedrock-out', ref: '' })).text()
    expect(text.trim().split('\n')).toHaveLength(2)
  })

  test('Expired → expired without results; Failed → failed with the message', async () => {
    const expiredId = (await adapter.createBatch(await prepare(['e']))).upstreamId
    fake.expire(expiredId)
    const expired = await adapter.getBatch(expiredId)
    expect(expired.status).toBe('expired')
    expect(expired.resultRefs).toEqual([])

    const failedId = (await adapter.createBatch(await prepare(['f']))).upstreamId
    fake.fail(failedId, 'Access denied to the input bucket.')
    const failed = await adapter.getBatch(failedId)
    expect(failed.status).toBe('failed')
    expect(failed.errors).toEqual([{ code: 'batch_failed', message: 'Access denied to the input bucket.', line: null, param: null }])
    expect(failed.resultRefs).toEqual([])
    expect(failed.times.failedAt).toEqual(expect.any(Number))
  })

  test('completion window is clamped to 24–168 hours', async () => {
    const { upstreamId } = await adapter.createBatch(await prepare(['w'], { completionWindowHours: 1000 }))
    expect(fake.job(upstreamId)?.timeoutDurationInHours).toBe(168)
  })
})

describe('bedrock adapter: create validation and idempotency', () => {
  test('role, model and output URI are required', async () => {
    const noRole = await failure(adapter.createBatch(await prepare(['r'], { roleArn: null })))
    expect({ kind: noRole.kind, param: noRole.param }).toEqual({ kind: 'invalid_request', param: 'role_arn' })
    expect(noRole.message).toContain('BEDROCK_ROLE_ARN')
    const noModel = await failure(adapter.createBatch(await prepare(['m'], { model: null })))
    expect({ kind: noModel.kind, param: noModel.param }).toEqual({ kind: 'invalid_request', param: 'model' })
    const noOutput = await failure(adapter.createBatch(await prepare(['o'], { outputS3Uri: null })))
    expect({ kind: noOutput.kind, param: noOutput.param }).toEqual({ kind: 'invalid_request', param: 'output_s3_uri' })
  })

  test('BEDROCK_ROLE_ARN is the fallback role', async () => {
    const withRole = new BedrockAdapter({ ...config, roleArn: ROLE }, policy)
    const batch = await withRole.createBatch(await prepare(['r'], { roleArn: null }))
    expect(fake.job(batch.upstreamId)?.roleArn).toBe(ROLE)
  })

  test('the same gateway id creates one job (clientRequestToken), and a 500 on create is retried', async () => {
    const input = await prepare(['i'])
    fake.faults.add({ match: (req) => req.method === 'POST', status: 500, body: { message: 'boom' }, headers: { 'x-amzn-errortype': 'InternalServerException' } })
    const first = await adapter.createBatch(input)
    const again = await adapter.createBatch(input)
    expect(again.upstreamId).toBe(first.upstreamId)
    expect([...fake.jobs.values()].filter((j) => j.clientRequestToken === jobNameFor(input.gatewayId))).toHaveLength(1)
  })

  test('validation errors from Bedrock surface with their type', async () => {
    const err = await failure(adapter.createBatch(await prepare(['v'], { roleArn: 'not-a-role' })))
    expect(err.kind).toBe('upstream')
    expect(err.details.upstreamStatus).toBe(400)
    expect(err.details.code).toBe('ValidationException')
    expect(err.message).toStartWith('ValidationException: 1 validation error detected')
  })

  test('job names fit the pattern Bedrock enforces', () => {
    for (const id of [mintId('openaiBatch'), mintId('anthropicBatch'), 'x'.repeat(100)]) {
      expect(jobNameFor(id)).toMatch(/^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/)
      expect(jobNameFor(id).length).toBeLessThanOrEqual(63)
    }
  })
})

describe('bedrock adapter: upstream errors', () => {
  test('wrong secret → upstream 403', async () => {
    const bad = new BedrockAdapter({ ...config, secretAccessKey: 'wrong' }, policy)
    const err = await failure(bad.getBatch('arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl'))
    expect({ kind: err.kind, status: err.details.upstreamStatus, code: err.details.code }).toEqual({ kind: 'upstream', status: 403, code: 'upstream_credentials_refused' })
  })

  test('unknown job → upstream 404 ResourceNotFoundException', async () => {
    const err = await failure(adapter.getBatch('arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl'))
    expect({ kind: err.kind, status: err.details.upstreamStatus, code: err.details.code }).toEqual({ kind: 'upstream', status: 404, code: 'ResourceNotFoundException' })
  })

  test('429 on get is retried; persistent 429 surfaces with retry-after', async () => {
    const { upstreamId } = await adapter.createBatch(await prepare(['t']))
    fake.faults.add({ match: (req) => req.method === 'GET', status: 429, body: { message: 'Rate exceeded' }, headers: { 'x-amzn-errortype': 'ThrottlingException' } })
    expect((await adapter.getBatch(upstreamId)).upstreamId).toBe(upstreamId)
    fake.faults.add({ match: (req) => req.method === 'GET', status: 429, times: 3, body: { message: 'Rate exceeded' }, headers: { 'x-amzn-errortype': 'ThrottlingException', 'retry-after': '0' } })
    const err = await failure(adapter.getBatch(upstreamId))
    expect({ kind: err.kind, message: err.message, details: err.details }).toEqual({
      kind: 'upstream',
      message: 'ThrottlingException: Rate exceeded',
      details: { upstreamStatus: 429, retryAfter: 0, code: 'rate_limit_exceeded' },
    })
  })

  test('unreachable Bedrock → upstream_unreachable', async () => {
    const down = new BedrockAdapter({ ...config, baseUrl: 'http://127.0.0.1:1' }, { timeoutMs: 2000, retries: 0 })
    expect((await failure(down.getBatch('abcdefghijkl'))).kind).toBe('upstream_unreachable')
  })

  test('every Bedrock status maps', () => {
    const table: Record<JobStatus, BatchStatus> = {
      Submitted: 'validating',
      Validating: 'validating',
      Scheduled: 'validating',
      InProgress: 'in_progress',
      Completed: 'completed',
      PartiallyCompleted: 'expired',
      Failed: 'failed',
      Stopping: 'cancelling',
      Stopped: 'cancelled',
      Expired: 'expired',
    }
    expect(Object.fromEntries(Object.keys(table).map((s) => [s, toBatchStatus(s as JobStatus)]))).toEqual(table)
    expect(() => toBatchStatus('Paused' as JobStatus)).toThrow(GatewayError)
  })
})
