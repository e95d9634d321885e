// The Mistral fake: files (/v1/files) and batch jobs (/v1/batch/jobs) behind strict Bearer auth,
// answering with Mistral's shapes and error envelopes (mistral/errors.ts). Clients use
// serverURL = `${fake.url}` with @mistralai/mistralai, or the gateway's `base_url`.

import { type FakeServer, serveFake } from './harness'
import { json, MistralApiError, unauthorized } from './mistral/errors'
import { FilesStore, type StoredMistralFile } from './mistral/files'
import { JobsStore, jobObject, type StoredJob } from './mistral/jobs'

export interface MistralFakeOptions {
  /** The only API key accepted (default `mistral-test-key`). */
  apiKey?: string
  /** When true (default) every job retrieve advances the job one lifecycle step. */
  autoAdvance?: boolean
}

export interface MistralFake extends FakeServer {
  apiKey: string
  files: Map<string, StoredMistralFile>
  jobs: Map<string, StoredJob>
  /** Mutable: set to false to freeze jobs mid-test. */
  autoAdvance: boolean
  /** Moves a job one lifecycle step, as an auto-advancing retrieve would. */
  advance(jobId: string): ReturnType<typeof jobObject>
  /** Ends a job as if its timeout_hours ran out. */
  expire(jobId: string): ReturnType<typeof jobObject>
  /** The text of a stored file (what a job reads or wrote). */
  fileText(fileId: string): string
}

export function startMistralFake(opts: MistralFakeOptions = {}): MistralFake {
  const apiKey = opts.apiKey ?? 'mistral-test-key'
  const files = new FilesStore()
  let fake: MistralFake | undefined
  const jobs = new JobsStore(files, () => fake?.autoAdvance ?? true)

  async function route(req: Request, url: URL): Promise<Response> {
    if (req.headers.get('authorization') !== `Bearer ${apiKey}`) throw unauthorized()
    const segments = url.pathname.split('/').filter(Boolean)
    const res =
      segments[0] === 'v1' && segments[1] === 'files'
        ? await files.handle(req, url, segments.slice(2))
        : segments[0] === 'v1' && segments[1] === 'batch' && segments[2] === 'jobs'
          ? await jobs.handle(req, url, segments.slice(3))
          : undefined
    return res ?? json(404, { detail: 'Not Found' })
  }

  const server = serveFake(async (req, url) => {
    try {
      return await route(req, url)
    } catch (err) {
      if (err instanceof MistralApiError) return json(err.status, err.body)
      throw err
    }
  })
  fake = {
    ...server,
    apiKey,
    files: files.files,
    jobs: jobs.jobs,
    autoAdvance: opts.autoAdvance ?? true,
    advance: (id) => jobObject(jobs.advance(id)),
    expire: (id) => jobObject(jobs.expire(id)),
    fileText: (id) => new TextDecoder().decode(files.get(id).bytes),
  }
  return fake
}
