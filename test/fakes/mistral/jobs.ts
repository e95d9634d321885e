// Mistral batch jobs: create (input_files, endpoint, model, metadata, timeout_hours), get, paged
// list with status/metadata/model filters, cancel. A job reads its input lines (`{custom_id,
// body}`) when it starts RUNNING; each retrieve of an auto-advancing job moves it one step:
// QUEUED → RUNNING → SUCCESS (or FAILED when no line could be read), and a cancel goes through
// CANCELLATION_REQUESTED → CANCELLED. Output and error files are real files of the Files store.

import { countTokens, modelReply } from '../harness'
import { apiError, json, UUID, validation } from './errors'
import type { FilesStore } from './files'

/** `ApiEndpoint`: every endpoint a job may name. */
export const ENDPOINTS = [
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/fim/completions',
  '/v1/moderations',
  '/v1/chat/moderations',
  '/v1/ocr',
  '/v1/classifications',
  '/v1/chat/classifications',
  '/v1/conversations',
  '/v1/audio/transcriptions',
] as const

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'TIMEOUT_EXCEEDED' | 'CANCELLATION_REQUESTED' | 'CANCELLED'
const TERMINAL: readonly JobStatus[] = ['SUCCESS', 'FAILED', 'TIMEOUT_EXCEEDED', 'CANCELLED']

interface Line {
  customId: string | null
  body: Record<string, unknown>
}

export interface StoredJob {
  id: string
  seq: number
  input_files: string[]
  endpoint: string
  model: string
  metadata: Record<string, string> | null
  timeout_hours: number
  status: JobStatus
  created_at: number
  started_at: number | null
  completed_at: number | null
  total_requests: number
  succeeded_requests: number
  failed_requests: number
  output_file: string | null
  error_file: string | null
  errors: Array<{ message: string; count: number }>
  lines: Line[]
}

export function jobObject(j: StoredJob) {
  return {
    id: j.id,
    object: 'batch',
    input_files: j.input_files,
    metadata: j.metadata,
    endpoint: j.endpoint,
    model: j.model,
    agent_id: null,
    output_file: j.output_file,
    error_file: j.error_file,
    errors: j.errors,
    outputs: null,
    status: j.status,
    created_at: j.created_at,
    total_requests: j.total_requests,
    completed_requests: j.succeeded_requests + j.failed_requests,
    succeeded_requests: j.succeeded_requests,
    failed_requests: j.failed_requests,
    started_at: j.started_at,
    completed_at: j.completed_at,
  }
}

const now = () => Math.floor(Date.now() / 1000)

export class JobsStore {
  readonly jobs = new Map<string, StoredJob>()
  private seq = 0

  constructor(
    private readonly files: FilesStore,
    private readonly autoAdvance: () => boolean,
  ) {}

  async handle(req: Request, url: URL, rest: string[]): Promise<Response | undefined> {
    if (rest.length === 0 && req.method === 'POST') return json(200, jobObject(await this.create(req)))
    if (rest.length === 0 && req.method === 'GET') return this.list(url)
    const [id, tail] = rest
    if (id === undefined || rest.length > 2) return undefined
    if (tail === 'cancel' && req.method === 'POST') return json(200, jobObject(this.cancel(id)))
    if (tail === undefined && req.method === 'GET') {
      const job = this.get(id)
      if (this.autoAdvance()) this.advance(job.id)
      return json(200, jobObject(job))
    }
    return undefined
  }

  get(id: string): StoredJob {
    if (!UUID.test(id)) throw validation(['path', 'job_id'], 'Input should be a valid UUID', 'uuid_parsing', id)
    const job = this.jobs.get(id)
    if (!job) throw apiError(404, `Batch job with id ${id} not found`, '3404')
    return job
  }

  /** One lifecycle step, as an auto-advancing retrieve makes. */
  advance(id: string): StoredJob {
    const job = this.get(id)
    if (job.status === 'QUEUED') this.start(job)
    else if (job.status === 'RUNNING') this.finish(job)
    else if (job.status === 'CANCELLATION_REQUESTED') this.end(job, 'CANCELLED')
    return job
  }

  /** Ends a queued or running job as if its timeout_hours ran out: nothing more runs. */
  expire(id: string): StoredJob {
    const job = this.get(id)
    if (job.status === 'QUEUED') this.start(job)
    return this.end(job, 'TIMEOUT_EXCEEDED')
  }

  private async create(req: Request): Promise<StoredJob> {
    let body: Record<string, unknown>
    try {
      body = (await req.json()) as Record<string, unknown>
    } catch {
      throw validation(['body'], 'JSON decode error', 'json_invalid', null)
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation(['body'], 'Input should be a valid dictionary', 'dict_type', body)
    const allowed = new Set(['input_files', 'requests', 'endpoint', 'model', 'agent_id', 'metadata', 'timeout_hours'])
    for (const key of Object.keys(body)) if (!allowed.has(key)) throw validation(['body', key], 'Extra inputs are not permitted', 'extra_forbidden', body[key])
    if (body.endpoint === undefined) throw validation(['body', 'endpoint'], 'Field required', 'missing', body)
    if (!(ENDPOINTS as readonly unknown[]).includes(body.endpoint)) {
      throw validation(['body', 'endpoint'], `Input should be ${ENDPOINTS.map((e) => `'${e}'`).join(', ')}`, 'enum', body.endpoint)
    }
    const inputs = body.input_files
    if (inputs !== undefined && inputs !== null && (!Array.isArray(inputs) || inputs.some((f) => typeof f !== 'string' || !UUID.test(f)))) {
      throw validation(['body', 'input_files'], 'Input should be a valid list of UUIDs', 'uuid_parsing', inputs)
    }
    if (!Array.isArray(inputs) || inputs.length === 0) throw apiError(400, 'Either input_files or requests must be provided', '3400')
    if (typeof body.model !== 'string' || body.model === '') throw apiError(400, 'A model or an agent_id must be provided', '3400')
    const metadata = body.metadata ?? null
    if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))) {
      throw validation(['body', 'metadata'], 'Input should be a valid dictionary of strings', 'dict_type', metadata)
    }
    const hours = body.timeout_hours ?? 24
    if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 1 || hours > 168) {
      throw validation(['body', 'timeout_hours'], 'Input should be an integer between 1 and 168', 'int_range', hours)
    }
    for (const id of inputs as string[]) {
      const file = this.files.files.get(id)
      if (!file) throw apiError(404, `File with id ${id} not found`, '1404')
      if (file.purpose !== 'batch') throw apiError(400, `File ${id} has purpose '${file.purpose}'; batch jobs need files with purpose 'batch'`, '3400')
    }
    const job: StoredJob = {
      id: crypto.randomUUID(),
      seq: ++this.seq,
      input_files: inputs as string[],
      endpoint: body.endpoint as string,
      model: body.model,
      metadata: metadata as Record<string, string> | null,
      timeout_hours: hours,
      status: 'QUEUED',
      created_at: now(),
      started_at: null,
      completed_at: null,
      // Mistral counts requests once it has read the input, when the job starts.
      total_requests: 0,
      succeeded_requests: 0,
      failed_requests: 0,
      output_file: null,
      error_file: null,
      errors: [],
      lines: [],
    }
    this.jobs.set(job.id, job)
    return job
  }

  private cancel(id: string): StoredJob {
    const job = this.get(id)
    if (TERMINAL.includes(job.status)) throw apiError(400, `Batch job ${id} has status ${job.status} and cannot be cancelled`, '3400')
    if (job.status !== 'CANCELLATION_REQUESTED') job.status = 'CANCELLATION_REQUESTED'
    return job
  }

  /** Reads every input line; unreadable lines are the job's errors (a job with no readable line fails). */
  private start(job: StoredJob): void {
    job.status = 'RUNNING'
    job.started_at = now()
    const bad: string[] = []
    for (const fileId of job.input_files) {
      const text = new TextDecoder().decode(this.files.files.get(fileId)?.bytes ?? new Uint8Array())
      text.split('\n').forEach((raw, i) => {
        if (raw.trim() === '') return
        let value: unknown
        try {
          value = JSON.parse(raw)
        } catch {
          bad.push(`line ${i + 1}: not valid JSON`)
          return
        }
        const o = value as { custom_id?: unknown; body?: unknown }
        if (typeof o !== 'object' || o === null || typeof o.body !== 'object' || o.body === null || Array.isArray(o.body)) {
          bad.push(`line ${i + 1}: each line needs a "body" object`)
          return
        }
        job.lines.push({ customId: typeof o.custom_id === 'string' ? o.custom_id : null, body: o.body as Record<string, unknown> })
      })
    }
    if (bad.length > 0) job.errors.push({ message: `Invalid input lines: ${bad.slice(0, 5).join('; ')}`, count: bad.length })
    job.total_requests = job.lines.length
    if (job.lines.length === 0) this.end(job, 'FAILED')
  }

  /** Runs every line: replies go to the output file, failures to the error file. */
  private finish(job: StoredJob): void {
    const out: string[] = []
    const err: string[] = []
    job.lines.forEach((line, index) => {
      const id = `batch-${job.id}-${index}`
      const answer = this.run(job, line.body)
      const record = { id, custom_id: line.customId, response: answer, error: null }
      if (answer.status_code === 200) {
        job.succeeded_requests++
        out.push(JSON.stringify(record))
      } else {
        job.failed_requests++
        err.push(JSON.stringify(record))
      }
    })
    if (out.length > 0) job.output_file = this.files.add(`${job.id}.jsonl`, `${out.join('\n')}\n`, 'batch_result').id
    if (err.length > 0) job.error_file = this.files.add(`${job.id}_error.jsonl`, `${err.join('\n')}\n`, 'batch_error').id
    this.end(job, 'SUCCESS')
  }

  /** One chat completion as Mistral's chat API answers it (only chat jobs are run by this fake). */
  private run(job: StoredJob, body: Record<string, unknown>): { status_code: number; body: unknown } {
    const fail = (message: string) => ({ status_code: 400, body: { object: 'error', message, type: 'invalid_request_error', param: null, code: null } })
    if (job.endpoint !== '/v1/chat/completions') return fail(`This fake runs only /v1/chat/completions, not ${job.endpoint}`)
    const messages = body.messages
    if (!Array.isArray(messages) || messages.length === 0) return fail('messages: List should have at least 1 item after validation, not 0')
    if ('max_completion_tokens' in body) return fail('max_completion_tokens: Extra inputs are not permitted')
    const last = messages.at(-1) as { content?: unknown }
    const prompt = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '')
    const reply = modelReply(prompt)
    if (!reply.ok) return fail(reply.message)
    const prompt_tokens = countTokens(prompt)
    const completion_tokens = countTokens(reply.text)
    return {
      status_code: 200,
      body: {
        id: crypto.randomUUID().replaceAll('-', ''),
        object: 'chat.completion',
        model: job.model,
        usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
        created: now(),
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text, tool_calls: null, prefix: false }, finish_reason: 'stop' }],
      },
    }
  }

  private end(job: StoredJob, status: JobStatus): StoredJob {
    job.status = status
    job.completed_at = now()
    return job
  }

  private list(url: URL): Response {
    const q = url.searchParams
    const page = Number(q.get('page') ?? '0')
    const size = Number(q.get('page_size') ?? '100')
    if (!Number.isInteger(page) || page < 0) throw validation(['query', 'page'], 'Input should be a valid integer', 'int_parsing', q.get('page'))
    if (!Number.isInteger(size) || size < 1) throw validation(['query', 'page_size'], 'Input should be a valid integer', 'int_parsing', q.get('page_size'))
    const statuses = q.getAll('status')
    const model = q.get('model')
    const metadata = q.get('metadata')
    let wanted: Record<string, string> | null = null
    try {
      wanted = metadata ? (JSON.parse(metadata) as Record<string, string>) : null
    } catch {
      throw validation(['query', 'metadata'], 'Input should be a valid JSON object', 'json_invalid', metadata)
    }
    const order = q.get('order_by') ?? '-created'
    const all = [...this.jobs.values()]
      .filter((j) => statuses.length === 0 || statuses.includes(j.status))
      .filter((j) => !model || j.model === model)
      .filter((j) => !wanted || Object.entries(wanted).every(([k, v]) => j.metadata?.[k] === v))
      .sort((a, b) => (order === 'created' ? a.seq - b.seq : b.seq - a.seq))
    return json(200, { data: all.slice(page * size, page * size + size).map(jobObject), object: 'list', total: all.length })
  }
}
