// Request validation for the Bedrock control plane, mirroring the service model's
// constraints (spec bedrock.md §1.1–§1.3). Violations are collected and reported in AWS's
// "N validation errors detected: Value … at '…' failed to satisfy constraint: …" form.

import { modelFamily } from './models'

export class BedrockError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

export const validationError = (message: string) => new BedrockError(400, 'ValidationException', message)

export const JOB_STATUSES = [
  'Submitted',
  'InProgress',
  'Completed',
  'Failed',
  'Stopping',
  'Stopped',
  'PartiallyCompleted',
  'Expired',
  'Validating',
  'Scheduled',
] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

// Patterns from the service model (§1.1), anchored: the whole value must match.
const JOB_NAME = /^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/
const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/
const CLIENT_TOKEN = /^[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}$/
const S3_URI = /^s3:\/\/[a-z0-9][-.a-z0-9]{1,61}(?:\/[-!_*'().a-z0-9A-Z]+(?:\/[-!_*'().a-z0-9A-Z]+)*)?\/?$/
const ACCOUNT_ID = /^[0-9]{12}$/
export const JOB_IDENTIFIER = /^((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job\/)?[a-z0-9]{12})$/

export const ROLE_ARN_PATTERN_TEXT = 'arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+'

export interface S3InputDataConfig {
  s3Uri: string
  s3InputFormat?: 'JSONL'
  s3BucketOwner?: string
}
export interface S3OutputDataConfig {
  s3Uri: string
  s3EncryptionKeyId?: string
  s3BucketOwner?: string
}

export interface CreateJobRequest {
  jobName: string
  roleArn: string
  modelId: string
  inputDataConfig: { s3InputDataConfig: S3InputDataConfig }
  outputDataConfig: { s3OutputDataConfig: S3OutputDataConfig }
  clientRequestToken?: string
  timeoutDurationInHours?: number
  modelInvocationType?: 'InvokeModel' | 'Converse'
  vpcConfig?: { subnetIds: string[]; securityGroupIds: string[] }
  tags?: { key: string; value: string }[]
}

class Collector {
  readonly errors: string[] = []
  add(value: unknown, path: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`
    this.errors.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`)
  }
  throwIfAny(): void {
    const n = this.errors.length
    if (n) throw validationError(`${n} validation error${n > 1 ? 's' : ''} detected: ${this.errors.join('; ')}`)
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkString(c: Collector, v: unknown, path: string, opts: { required?: boolean; min?: number; max?: number; pattern?: RegExp; patternText?: string }): v is string {
  if (v === undefined || v === null) {
    if (opts.required) c.add(v, path, 'Member must not be null')
    return false
  }
  if (typeof v !== 'string') {
    c.add(v, path, 'Member must be a string')
    return false
  }
  let ok = true
  if (opts.min !== undefined && v.length < opts.min) {
    c.add(v, path, `Member must have length greater than or equal to ${opts.min}`)
    ok = false
  }
  if (opts.max !== undefined && v.length > opts.max) {
    c.add(v, path, `Member must have length less than or equal to ${opts.max}`)
    ok = false
  }
  if (opts.pattern && !opts.pattern.test(v)) {
    c.add(v, path, `Member must satisfy regular expression pattern: ${opts.patternText ?? opts.pattern.source}`)
    ok = false
  }
  return ok
}

/** A union (restJson1) must have exactly one member set; returns that member when it is `member`. */
function checkUnion(c: Collector, v: unknown, path: string, member: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) {
    c.add(v, path, 'Member must not be null')
    return undefined
  }
  if (!isObject(v)) {
    c.add(v, path, 'Member must be a structure')
    return undefined
  }
  const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null)
  if (keys.length !== 1) {
    c.add(v, path, `Union must have exactly one member set, found ${keys.length}`)
    return undefined
  }
  const inner = v[member]
  if (!isObject(inner)) {
    c.add(v, path, `Member must be one of: [${member}]`)
    return undefined
  }
  return inner
}

/** Validates a CreateModelInvocationJob body (§1.1) and returns it typed. */
export function validateCreate(body: unknown): CreateJobRequest {
  if (!isObject(body)) throw new BedrockError(400, 'SerializationException', 'Request body must be a JSON object')
  const c = new Collector()
  checkString(c, body.jobName, 'jobName', { required: true, min: 1, max: 63, pattern: JOB_NAME, patternText: '[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}' })
  checkString(c, body.roleArn, 'roleArn', { required: true, min: 0, max: 2048, pattern: ROLE_ARN, patternText: ROLE_ARN_PATTERN_TEXT })
  checkString(c, body.modelId, 'modelId', { required: true, min: 1, max: 2048 })
  checkString(c, body.clientRequestToken, 'clientRequestToken', { min: 1, max: 256, pattern: CLIENT_TOKEN, patternText: '[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}' })
  const s3UriOpts = { required: true, min: 1, max: 1024, pattern: S3_URI, patternText: "s3://[a-z0-9][-.a-z0-9]{1,61}(?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?" }
  const input = checkUnion(c, body.inputDataConfig, 'inputDataConfig', 's3InputDataConfig')
  if (input) {
    checkString(c, input.s3Uri, 'inputDataConfig.s3InputDataConfig.s3Uri', s3UriOpts)
    if (input.s3InputFormat !== undefined && input.s3InputFormat !== 'JSONL') {
      c.add(input.s3InputFormat, 'inputDataConfig.s3InputDataConfig.s3InputFormat', 'Member must satisfy enum value set: [JSONL]')
    }
    checkString(c, input.s3BucketOwner, 'inputDataConfig.s3InputDataConfig.s3BucketOwner', { pattern: ACCOUNT_ID })
  }
  const output = checkUnion(c, body.outputDataConfig, 'outputDataConfig', 's3OutputDataConfig')
  if (output) {
    checkString(c, output.s3Uri, 'outputDataConfig.s3OutputDataConfig.s3Uri', s3UriOpts)
    checkString(c, output.s3EncryptionKeyId, 'outputDataConfig.s3OutputDataConfig.s3EncryptionKeyId', { min: 1, max: 2048 })
    checkString(c, output.s3BucketOwner, 'outputDataConfig.s3OutputDataConfig.s3BucketOwner', { pattern: ACCOUNT_ID })
  }
  const timeout = body.timeoutDurationInHours
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number' || !Number.isInteger(timeout)) c.add(timeout, 'timeoutDurationInHours', 'Member must be an integer')
    else if (timeout < 24) c.add(timeout, 'timeoutDurationInHours', 'Member must have value greater than or equal to 24')
    else if (timeout > 168) c.add(timeout, 'timeoutDurationInHours', 'Member must have value less than or equal to 168')
  }
  const type = body.modelInvocationType
  if (type !== undefined && type !== null && type !== 'InvokeModel' && type !== 'Converse') {
    c.add(type, 'modelInvocationType', 'Member must satisfy enum value set: [InvokeModel, Converse]')
  }
  const vpc = body.vpcConfig
  if (vpc !== undefined && vpc !== null) {
    if (!isObject(vpc)) c.add(vpc, 'vpcConfig', 'Member must be a structure')
    else {
      const sub = vpc.subnetIds
      if (!Array.isArray(sub) || sub.length < 1 || sub.length > 16) c.add(sub, 'vpcConfig.subnetIds', 'Member must have length between 1 and 16')
      const sg = vpc.securityGroupIds
      if (!Array.isArray(sg) || sg.length < 1 || sg.length > 5) c.add(sg, 'vpcConfig.securityGroupIds', 'Member must have length between 1 and 5')
    }
  }
  const tags = body.tags
  if (tags !== undefined && tags !== null) {
    if (!Array.isArray(tags) || tags.length > 200) c.add(tags, 'tags', 'Member must have length less than or equal to 200')
    else {
      tags.forEach((t, i) => {
        if (!isObject(t)) return c.add(t, `tags.${i + 1}.member`, 'Member must be a structure')
        checkString(c, t.key, `tags.${i + 1}.member.key`, { required: true, min: 1, max: 128 })
        checkString(c, t.value, `tags.${i + 1}.member.value`, { required: true, min: 0, max: 256 })
      })
    }
  }
  c.throwIfAny()
  const request = body as unknown as CreateJobRequest
  // Semantic checks after the shape is known to be valid.
  if (request.modelInvocationType !== 'Converse' && !modelFamily(request.modelId)) {
    throw validationError(`The provided model identifier is invalid. Batch inference is not supported for model ${request.modelId} in this fake.`)
  }
  return request
}

export interface ListQuery {
  maxResults: number
  offset: number
  statusEquals?: JobStatus
  nameContains?: string
  submitTimeAfter?: number
  submitTimeBefore?: number
  sortOrder: 'Ascending' | 'Descending'
}

export function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64')
}

/** Validates ListModelInvocationJobs query parameters (§1.3). */
export function validateList(q: URLSearchParams): ListQuery {
  const c = new Collector()
  const rawMax = q.get('maxResults')
  let maxResults = 1000
  if (rawMax !== null) {
    const n = Number(rawMax)
    if (!Number.isInteger(n) || n < 1 || n > 1000) c.add(rawMax, 'maxResults', 'Member must have value between 1 and 1000')
    else maxResults = n
  }
  const status = q.get('statusEquals')
  if (status !== null && !(JOB_STATUSES as readonly string[]).includes(status)) {
    c.add(status, 'statusEquals', `Member must satisfy enum value set: [${JOB_STATUSES.join(', ')}]`)
  }
  const sortOrder = q.get('sortOrder') ?? 'Descending'
  if (sortOrder !== 'Ascending' && sortOrder !== 'Descending') c.add(sortOrder, 'sortOrder', 'Member must satisfy enum value set: [Ascending, Descending]')
  const sortBy = q.get('sortBy')
  if (sortBy !== null && sortBy !== 'CreationTime') c.add(sortBy, 'sortBy', 'Member must satisfy enum value set: [CreationTime]')
  const nameContains = q.get('nameContains') ?? undefined
  if (nameContains !== undefined) checkString(c, nameContains, 'nameContains', { min: 1, max: 63 })
  const time = (name: string): number | undefined => {
    const raw = q.get(name)
    if (raw === null) return undefined
    const t = Date.parse(raw)
    if (Number.isNaN(t)) c.add(raw, name, 'Member must be a valid ISO 8601 timestamp')
    return t
  }
  const submitTimeAfter = time('submitTimeAfter')
  const submitTimeBefore = time('submitTimeBefore')
  let offset = 0
  const token = q.get('nextToken')
  if (token !== null) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'))
      if (!isObject(parsed) || typeof parsed.offset !== 'number') throw new Error('bad token')
      offset = parsed.offset
    } catch {
      throw validationError('Invalid pagination token')
    }
  }
  c.throwIfAny()
  return {
    maxResults,
    offset,
    statusEquals: (status ?? undefined) as JobStatus | undefined,
    nameContains,
    submitTimeAfter,
    submitTimeBefore,
    sortOrder: sortOrder as 'Ascending' | 'Descending',
  }
}
