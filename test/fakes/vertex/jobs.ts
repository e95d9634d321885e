// Vertex AI `projects.locations.batchPredictionJobs` for Gemini over Cloud Storage JSONL. Creates
// are checked like the real service (unknown fields, required fields, model path, formats, gs://
// URIs, buckets that exist) and answered with google.rpc errors. Jobs move QUEUED → PENDING →
// RUNNING → SUCCEEDED one step per GET (or by hand), cancel goes CANCELLING → CANCELLED. Running
// a job reads the input object from the GCS fake and writes a real predictions.jsonl under
// `{outputUriPrefix}/prediction-model-{time}/`: each row echoes the input line (fields beside
// `request` included) with `response` or a failure `status`, and rows come out in a different
// order than they went in, as Vertex does not keep order.

import { GoogleError, isObject, normaliseKeys, readJsonBody, rfc3339 } from '../gemini/common'
import type { Json, JsonObject } from '../gemini/common'
import { answer } from '../gemini/model'
import { checkRequest } from '../gemini/validate'
import type { GcsStore } from './gcs'

export type JobState =
  | 'JOB_STATE_QUEUED'
  | 'JOB_STATE_PENDING'
  | 'JOB_STATE_RUNNING'
  | 'JOB_STATE_SUCCEEDED'
  | 'JOB_STATE_FAILED'
  | 'JOB_STATE_CANCELLING'
  | 'JOB_STATE_CANCELLED'

const NEXT: Partial<Record<JobState, JobState>> = {
  JOB_STATE_QUEUED: 'JOB_STATE_PENDING',
  JOB_STATE_PENDING: 'JOB_STATE_RUNNING',
  JOB_STATE_RUNNING: 'JOB_STATE_SUCCEEDED',
  JOB_STATE_CANCELLING: 'JOB_STATE_CANCELLED',
}
const TERMINAL = new Set<JobState>(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'])

const JOB_FIELDS = [
  'displayName',
  'model',
  'inputConfig',
  'outputConfig',
  'labels',
  'modelParameters',
  'instanceConfig',
  'dedicatedResources',
  'manualBatchTuningParameters',
  'generateExplanation',
  'encryptionSpec',
  'serviceAccount',
  'modelVersionId',
  'disableContainerLogging',
] as const

export interface Job {
  seq: number
  id: string
  name: string
  displayName: string
  model: string
  inputUri: string
  outputPrefix: string
  state: JobState
  createTime: string
  updateTime: string
  startTime?: string
  endTime?: string
  outputDir?: string
  stats?: { successfulCount: number; failedCount: number; incompleteCount: number }
  error?: { code: number; message: string }
  /** The state a cancel interrupted (RUNNING jobs keep the rows they ran). */
  cancelledFrom?: JobState
}

const required = (field: string) =>
  new GoogleError('INVALID_ARGUMENT', `List of found errors:\t1.Field: batch_prediction_job.${field}; Message: Required field is not set.\t`, [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: `batch_prediction_job.${field}`, description: 'Required field is not set.' }] },
  ])

export class JobStore {
  readonly jobs = new Map<string, Job>()
  private seq = 0

  constructor(
    private readonly gcs: GcsStore,
    readonly parent: string,
    private readonly autoAdvance: () => boolean,
    /** Rows per predictions file: Vertex may split a job's output over several files. */
    private readonly rowsPerFile = Number.POSITIVE_INFINITY,
  ) {}

  async create(req: Request): Promise<Response> {
    const body = normaliseKeys(await readJsonBody(req, false), JOB_FIELDS, '')
    const displayName = body.displayName
    if (typeof displayName !== 'string' || displayName === '') throw required('display_name')
    if (displayName.length > 128) throw new GoogleError('INVALID_ARGUMENT', 'Display name must be at most 128 characters.')
    const model = body.model
    if (typeof model !== 'string' || model === '') throw required('model')
    const m = /^publishers\/google\/models\/([a-z0-9.-]+)(@[a-z0-9]+)?$/.exec(model)
    if (!m) throw new GoogleError('INVALID_ARGUMENT', `Invalid Model resource name: ${model}. It should be publishers/google/models/{model}.`)
    if (!(m[1] as string).startsWith('gemini-')) throw new GoogleError('NOT_FOUND', `Publisher Model \`${this.parent}/${model}\` not found.`)
    const inputUri = this.inputUri(body.inputConfig)
    const outputPrefix = this.outputPrefix(body.outputConfig)
    const now = rfc3339()
    const id = String(1_000_000_000_000_000_000n + BigInt(++this.seq) * 7919n)
    const job: Job = {
      seq: this.seq,
      id,
      name: `${this.parent}/batchPredictionJobs/${id}`,
      displayName,
      model,
      inputUri,
      outputPrefix,
      state: 'JOB_STATE_QUEUED',
      createTime: now,
      updateTime: now,
    }
    this.jobs.set(id, job)
    return Response.json(this.resource(job))
  }

  get(id: string): Job {
    const job = this.jobs.get(id)
    if (!job) throw new GoogleError('NOT_FOUND', `The BatchPredictionJob does not exist.`)
    return job
  }

  getResponse(id: string): Response {
    const job = this.get(id)
    if (this.autoAdvance()) this.advance(job)
    return Response.json(this.resource(job))
  }

  list(url: URL): Response {
    const filter = (url.searchParams.get('filter') ?? '').trim()
    let wanted: string | null = null
    if (filter !== '') {
      const m = /^display_name\s*=\s*"((?:[^"\\]|\\.)*)"$/.exec(filter)
      if (!m) throw new GoogleError('INVALID_ARGUMENT', `Unsupported filter: ${filter}`)
      wanted = (m[1] as string).replace(/\\(.)/g, '$1')
    }
    const size = Math.min(Number(url.searchParams.get('pageSize') ?? '100') || 100, 100)
    const token = url.searchParams.get('pageToken')
    const after = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^seq:/, '')) : Number.POSITIVE_INFINITY
    if (!Number.isFinite(after) && token) throw new GoogleError('INVALID_ARGUMENT', 'Invalid page token.')
    // Newest first, like the console.
    const all = [...this.jobs.values()].filter((j) => j.seq < after && (wanted === null || j.displayName === wanted)).sort((a, b) => b.seq - a.seq)
    const page = all.slice(0, size)
    const out: JsonObject = {}
    if (page.length > 0) out.batchPredictionJobs = page.map((j) => this.resource(j))
    if (all.length > size) out.nextPageToken = Buffer.from(`seq:${(page[page.length - 1] as Job).seq}`).toString('base64url')
    return Response.json(out)
  }

  cancel(id: string): Response {
    const job = this.get(id)
    if (TERMINAL.has(job.state) || job.state === 'JOB_STATE_CANCELLING') {
      throw new GoogleError('FAILED_PRECONDITION', `BatchPredictionJob ${job.name} is in state ${job.state} and cannot be cancelled.`)
    }
    job.cancelledFrom = job.state
    this.move(job, 'JOB_STATE_CANCELLING')
    return Response.json({})
  }

  delete(id: string): Response {
    const job = this.get(id)
    if (!TERMINAL.has(job.state)) {
      throw new GoogleError('FAILED_PRECONDITION', `BatchPredictionJob ${job.name} is in state ${job.state} and cannot be deleted; cancel it first.`)
    }
    this.jobs.delete(id)
    const now = rfc3339()
    return Response.json({
      name: `${job.name}/operations/${Date.now()}`,
      metadata: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata', genericMetadata: { createTime: now, updateTime: now } },
      done: true,
      response: { '@type': 'type.googleapis.com/google.protobuf.Empty' },
    })
  }

  /** One lifecycle step, as a GET does when auto-advancing. */
  advance(job: Job): void {
    const next = NEXT[job.state]
    if (!next) return
    if (next === 'JOB_STATE_RUNNING') {
      job.startTime = rfc3339()
      job.outputDir = `${job.outputPrefix}/prediction-model-${job.startTime.replace(/[:.]/g, '-')}`
    }
    if (next === 'JOB_STATE_SUCCEEDED') {
      this.run(job, Number.POSITIVE_INFINITY)
      if (job.state === 'JOB_STATE_FAILED') return
    }
    if (next === 'JOB_STATE_CANCELLED') this.run(job, job.cancelledFrom === 'JOB_STATE_RUNNING' ? 1 : 0)
    this.move(job, next)
  }

  finish(job: Job): void {
    while (!TERMINAL.has(job.state)) this.advance(job)
  }

  resource(job: Job): JsonObject {
    const out: JsonObject = {
      name: job.name,
      displayName: job.displayName,
      model: job.model,
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [job.inputUri] } },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: job.outputPrefix } },
      state: job.state,
      createTime: job.createTime,
      updateTime: job.updateTime,
      modelVersionId: '1',
    }
    if (job.startTime) out.startTime = job.startTime
    if (job.endTime) out.endTime = job.endTime
    if (job.outputDir) out.outputInfo = { gcsOutputDirectory: job.outputDir }
    if (job.stats) {
      const stats: JsonObject = {}
      // int64 counters as strings, zero ones omitted (proto3 JSON).
      for (const [k, v] of Object.entries(job.stats)) if (v > 0) stats[k] = String(v)
      out.completionStats = stats
    }
    if (job.error) out.error = job.error
    return out
  }

  private move(job: Job, state: JobState): void {
    job.state = state
    job.updateTime = rfc3339()
    if (TERMINAL.has(state)) job.endTime = job.updateTime
  }

  /** Runs up to `limit` rows and writes them as predictions; a missing input fails the job. */
  private run(job: Job, limit: number): void {
    const [bucket, ...rest] = job.inputUri.slice('gs://'.length).split('/')
    const input = this.gcs.get(bucket as string, rest.join('/'))
    if (!input) {
      job.error = { code: 3, message: `Failed to read the input file ${job.inputUri}: the object does not exist.` }
      this.move(job, 'JOB_STATE_FAILED')
      return
    }
    const lines = new TextDecoder().decode(input.bytes).split('\n').filter((l) => l.trim() !== '')
    const rows: JsonObject[] = []
    let ok = 0
    let failed = 0
    for (const line of lines.slice(0, Math.min(limit, lines.length))) {
      const row = this.row(line, job)
      if (row.response !== undefined) ok++
      else failed++
      rows.push(row)
    }
    job.stats = { successfulCount: ok, failedCount: failed, incompleteCount: lines.length - rows.length }
    if (rows.length === 0 || !job.outputDir) return
    // Vertex does not keep input order: the fake writes rows back to front.
    rows.reverse()
    const [outBucket, ...outPath] = job.outputDir.slice('gs://'.length).split('/')
    const files = Math.max(1, Math.ceil(rows.length / this.rowsPerFile))
    for (let i = 0; i < files; i++) {
      const text = `${rows.slice(i * this.rowsPerFile, (i + 1) * this.rowsPerFile).map((r) => JSON.stringify(r)).join('\n')}\n`
      const name = files === 1 ? 'predictions.jsonl' : `predictions_${String(i + 1).padStart(5, '0')}-of-${String(files).padStart(5, '0')}.jsonl`
      this.gcs.put(outBucket as string, `${outPath.join('/')}/${name}`, new TextEncoder().encode(text), 'application/jsonl')
    }
  }

  private row(line: string, job: Job): JsonObject {
    const processed_time = new Date().toISOString()
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      return { status: 'Bad Request: {"error": {"code": 400, "message": "Invalid JSON input row.", "status": "INVALID_ARGUMENT"}}', processed_time }
    }
    if (!isObject(parsed) || parsed.request === undefined) {
      return { ...(isObject(parsed) ? parsed : {}), status: 'Bad Request: {"error": {"code": 400, "message": "Input row has no request field.", "status": "INVALID_ARGUMENT"}}', processed_time }
    }
    const echo: JsonObject = { ...parsed }
    try {
      const checked = checkRequest(parsed.request as Json, 'request')
      const result = answer(checked, `${(job.model.split('/').pop() as string)}-001`)
      // Vertex replies name their creation time and an id of their own.
      if (result.ok) return { ...echo, status: '', processed_time, response: { ...result.response, createTime: processed_time, responseId: `vx-${job.id}-${processed_time.length}${Math.random().toString(36).slice(2, 10)}` } }
      return { ...echo, status: `Bad Request: ${JSON.stringify({ error: result.error })}`, processed_time }
    } catch (err) {
      if (!(err instanceof GoogleError)) throw err
      return { ...echo, status: `Bad Request: ${JSON.stringify({ error: { code: 400, message: err.message, status: err.status } })}`, processed_time }
    }
  }

  private inputUri(value: Json | undefined): string {
    if (!isObject(value)) throw required('input_config')
    const c = normaliseKeys(value, ['instancesFormat', 'gcsSource', 'bigquerySource', 'vertexMultimodalDatasetSource'], 'batch_prediction_job.input_config')
    if (c.instancesFormat !== 'jsonl') throw new GoogleError('INVALID_ARGUMENT', `Unsupported input instances format: ${JSON.stringify(c.instancesFormat ?? '')}; Gemini batch prediction from Cloud Storage takes "jsonl".`)
    const src = isObject(c.gcsSource) ? normaliseKeys(c.gcsSource, ['uris'], 'batch_prediction_job.input_config.gcs_source') : null
    const uris = src?.uris
    if (!Array.isArray(uris) || uris.length !== 1 || typeof uris[0] !== 'string') throw required('input_config.gcs_source.uris')
    return this.gsUri(uris[0], 'input_config.gcs_source.uris')
  }

  private outputPrefix(value: Json | undefined): string {
    if (!isObject(value)) throw required('output_config')
    const c = normaliseKeys(value, ['predictionsFormat', 'gcsDestination', 'bigqueryDestination', 'vertexMultimodalDatasetDestination'], 'batch_prediction_job.output_config')
    if (c.predictionsFormat !== 'jsonl') throw new GoogleError('INVALID_ARGUMENT', `Unsupported predictions format: ${JSON.stringify(c.predictionsFormat ?? '')}.`)
    const dest = isObject(c.gcsDestination) ? normaliseKeys(c.gcsDestination, ['outputUriPrefix'], 'batch_prediction_job.output_config.gcs_destination') : null
    if (typeof dest?.outputUriPrefix !== 'string') throw required('output_config.gcs_destination.output_uri_prefix')
    return this.gsUri(dest.outputUriPrefix, 'output_config.gcs_destination.output_uri_prefix').replace(/\/+$/, '')
  }

  private gsUri(uri: string, field: string): string {
    const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(\/.*)?$/.exec(uri)
    if (!m) throw new GoogleError('INVALID_ARGUMENT', `Invalid Cloud Storage URI for batch_prediction_job.${field}: ${uri}`)
    if (!this.gcs.buckets.has(m[1] as string)) {
      throw new GoogleError('FAILED_PRECONDITION', `Cloud Storage bucket ${m[1]} does not exist or the Vertex AI service agent cannot access it.`)
    }
    return uri
  }
}
