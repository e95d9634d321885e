// HTTP front of the Bedrock batch-inference control plane fake (restJson1, spec bedrock.md
// §1): SigV4 with signing name `bedrock` checked for real (§3), AWS JSON errors with
// `x-amzn-ErrorType` (§1.6), and the job lifecycle from ./jobs.ts driven one step per Get.

import { serveFake, type FakeServer } from '../harness'
import type { S3Fake } from '../s3/server'
import { DEFAULT_AWS_CREDENTIALS, sha256Hex, verifySigV4, type AwsFakeCredentials, type SigV4Failure } from '../sigv4'
import * as lifecycle from './jobs'
import { createJob, jobJson, newJobId, type BedrockJob } from './jobs'
import { BedrockError, encodeNextToken, JOB_IDENTIFIER, validateCreate, validateList, validationError } from './validate'

export interface BedrockFakeOptions {
  /** The S3 fake holding job input and receiving output. */
  s3: S3Fake
  credentials?: AwsFakeCredentials
  /** Default true: each GetModelInvocationJob moves the job one status further. */
  autoAdvance?: boolean
  /**
   * Roles the caller may pass to Bedrock. A syntactically valid roleArn that does not match
   * is refused like a missing iam:PassRole permission (403 AccessDeniedException).
   */
  roleArnPattern?: RegExp
}

export interface BedrockFake extends FakeServer {
  credentials: AwsFakeCredentials
  region: string
  /** Whether a GET moves a job one step; tests flip it to freeze jobs. */
  autoAdvance: boolean
  /** All jobs by 12-char id. */
  jobs: Map<string, BedrockJob>
  /** Looks a job up by id or ARN (undefined if unknown). */
  job(jobIdOrArn: string): BedrockJob | undefined
  /** Jump straight to the final state: Completed with output written (Failed if input is bad; Stopped if stopping). */
  finish(jobIdOrArn: string): Promise<BedrockJob>
  /** End as Expired: no output. */
  expire(jobIdOrArn: string): BedrockJob
  /** End as Failed with `message`. */
  fail(jobIdOrArn: string, message: string): BedrockJob
  /** End as PartiallyCompleted with only `count` records (default ≈ half) in the output. */
  partiallyComplete(jobIdOrArn: string, count?: number): Promise<BedrockJob>
}

function newRequestId(): string {
  return crypto.randomUUID()
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': newRequestId() },
  })
}

function errorResponse(err: BedrockError): Response {
  return new Response(JSON.stringify({ message: err.message }), {
    status: err.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.type, 'x-amzn-requestid': newRequestId() },
  })
}

/** AWS's answers for authentication failures on JSON services. */
function authError(f: SigV4Failure): BedrockError {
  switch (f.kind) {
    case 'missing':
      return new BedrockError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
    case 'malformed':
      return new BedrockError(400, 'IncompleteSignatureException', f.message)
    case 'unknown-key':
    case 'bad-token':
      return new BedrockError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
    default:
      return new BedrockError(403, 'InvalidSignatureException', f.message)
  }
}

export function startBedrockFake(opts: BedrockFakeOptions): BedrockFake {
  const s3 = opts.s3
  const credentials = opts.credentials ?? DEFAULT_AWS_CREDENTIALS
  let autoAdvance = opts.autoAdvance ?? true
  const jobs = new Map<string, BedrockJob>()
  const byToken = new Map<string, string>()
  const locks = new Map<string, Promise<unknown>>()
  let seq = 0

  /** Serialises lifecycle steps per job so concurrent polls cannot process a job twice. */
  function locked<T>(job: BedrockJob, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(job.id) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    locks.set(
      job.id,
      run.catch(() => {}),
    )
    return run
  }

  function lookup(identifier: string): BedrockJob | undefined {
    const id = identifier.slice(-12)
    const job = jobs.get(id)
    if (!job) return undefined
    if (identifier.length > 12 && identifier !== job.jobArn) return undefined
    return job
  }

  function mustFind(identifier: string): BedrockJob {
    if (!JOB_IDENTIFIER.test(identifier)) {
      throw validationError(
        `1 validation error detected: Value '${identifier}' at 'jobIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})`,
      )
    }
    const job = lookup(identifier)
    if (!job) throw new BedrockError(404, 'ResourceNotFoundException', `The specified model invocation job ${identifier} could not be found.`)
    return job
  }

  function helperJob(identifier: string): BedrockJob {
    const job = lookup(identifier)
    if (!job) throw new Error(`bedrock fake: no job ${identifier}`)
    return job
  }

  async function handle(req: Request, url: URL): Promise<Response> {
    try {
      // Non-S3 services sign the real body hash, so the body must be read before verifying.
      const body = new Uint8Array(await req.arrayBuffer())
      const auth = verifySigV4(req, url, { credentials, service: 'bedrock', bodySha256: sha256Hex(body) })
      if (!auth.ok) throw authError(auth)
      return await route(req, url, body)
    } catch (err) {
      if (err instanceof BedrockError) return errorResponse(err)
      throw err
    }
  }

  async function route(req: Request, url: URL, body: Uint8Array): Promise<Response> {
    const segs = url.pathname.split('/').filter(Boolean)
    const [root, rawId, action] = segs
    if (root === 'model-invocation-job' && segs.length === 1 && req.method === 'POST') return create(body)
    if (root === 'model-invocation-jobs' && segs.length === 1 && req.method === 'GET') return list(url.searchParams)
    if (root === 'model-invocation-job' && rawId !== undefined) {
      let identifier: string
      try {
        identifier = decodeURIComponent(rawId)
      } catch {
        throw validationError('Invalid job identifier')
      }
      if (segs.length === 2 && req.method === 'GET') return await get(identifier)
      if (segs.length === 3 && action === 'stop' && req.method === 'POST') return stop(identifier)
    }
    throw new BedrockError(404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`)
  }

  function create(raw: Uint8Array): Response {
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder().decode(raw))
    } catch {
      throw new BedrockError(400, 'SerializationException', 'Request body is not valid JSON')
    }
    const request = validateCreate(body)
    if (opts.roleArnPattern && !opts.roleArnPattern.test(request.roleArn)) {
      throw new BedrockError(
        403,
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/${credentials.accessKeyId} is not authorized to perform: iam:PassRole on resource: ${request.roleArn}`,
      )
    }
    // Idempotency (§1.1): the same clientRequestToken returns the job it created before.
    const token = request.clientRequestToken
    const existing = token === undefined ? undefined : jobs.get(byToken.get(token) ?? '')
    if (existing) return json({ jobArn: existing.jobArn })
    let id = newJobId()
    while (jobs.has(id)) id = newJobId()
    seq += 1
    const job = createJob(request, id, credentials.region, seq)
    jobs.set(id, job)
    if (token !== undefined) byToken.set(token, id)
    return json({ jobArn: job.jobArn })
  }

  async function get(identifier: string): Promise<Response> {
    const job = mustFind(identifier)
    // The client sees every status: the first poll shows Submitted, each later poll moves the
    // job one step before answering. A requested stop always completes on the next poll (shows
    // Stopped), even when automatic progress is frozen.
    const firstLook = !job.polled && job.status === 'Submitted'
    job.polled = true
    if (!firstLook && (autoAdvance || job.status === 'Stopping')) await locked(job, () => lifecycle.advance(s3, job))
    return json(jobJson(job))
  }

  function stop(identifier: string): Response {
    const job = mustFind(identifier)
    if (lifecycle.requestStop(job) === 'terminal') {
      throw validationError(`The model invocation job ${job.jobArn} is in ${job.status} status and cannot be stopped.`)
    }
    return json({})
  }

  function list(q: URLSearchParams): Response {
    const query = validateList(q)
    const needle = query.nameContains?.toLowerCase()
    const matching = [...jobs.values()]
      .filter((j) => !query.statusEquals || j.status === query.statusEquals)
      .filter((j) => !needle || j.jobName.toLowerCase().includes(needle))
      .filter((j) => query.submitTimeAfter === undefined || j.submitTime.getTime() > query.submitTimeAfter)
      .filter((j) => query.submitTimeBefore === undefined || j.submitTime.getTime() < query.submitTimeBefore)
      .sort((a, b) => (query.sortOrder === 'Ascending' ? a.seq - b.seq : b.seq - a.seq))
    const page = matching.slice(query.offset, query.offset + query.maxResults)
    const next = query.offset + query.maxResults
    const body: Record<string, unknown> = { invocationJobSummaries: page.map(jobJson) }
    if (next < matching.length) body.nextToken = encodeNextToken(next)
    return json(body)
  }

  const server = serveFake(handle)
  return {
    ...server,
    credentials,
    region: credentials.region,
    get autoAdvance() {
      return autoAdvance
    },
    set autoAdvance(on: boolean) {
      autoAdvance = on
    },
    jobs,
    job: lookup,
    finish: async (identifier) => {
      const job = helperJob(identifier)
      await locked(job, () => lifecycle.finish(s3, job))
      return job
    },
    expire: (identifier) => {
      const job = helperJob(identifier)
      lifecycle.expire(job)
      return job
    },
    fail: (identifier, message) => {
      const job = helperJob(identifier)
      lifecycle.fail(job, message)
      return job
    },
    partiallyComplete: async (identifier, count) => {
      const job = helperJob(identifier)
      await locked(job, () => lifecycle.partiallyComplete(s3, job, count))
      return job
    },
  }
}
