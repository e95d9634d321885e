// Drives the Mistral fake with the official `@mistralai/mistralai` client (retries off): it must
// take what the client sends, on Mistral's paths, answer in shapes the client's schemas accept,
// refuse what Mistral refuses — a wrong key, unknown endpoints, missing or unknown input files,
// files not uploaded for batch — and walk jobs through Mistral's status sequences.

import { afterAll, describe, expect, test } from 'bun:test'
import { type MistralFake, startMistralFake } from './mistral'

// The SDK's typings widen the global ReadableStream (its lib/event-streams.d.ts `declare global`),
// which breaks the strict stream types elsewhere in this program; it is loaded untyped (a
// specifier TypeScript does not resolve) and typed here for what this test calls.
// biome-ignore lint/suspicious/noExplicitAny: the SDK's answers are checked by the assertions.
type Answer = Promise<any>
interface MistralClient {
  files: Record<'upload' | 'list' | 'retrieve' | 'delete' | 'download', (req?: object) => Answer>
  batch: { jobs: Record<'create' | 'get' | 'list' | 'cancel', (req?: object) => Answer> }
}
const [{ Mistral }, { MistralError }] = (await Promise.all([import('@mistralai/mistralai' as string), import('@mistralai/mistralai/models/errors' as string)])) as [
  { Mistral: new (opts: { apiKey: string; serverURL: string; retryConfig: { strategy: 'none' } }) => MistralClient },
  { MistralError: new (...args: never[]) => { statusCode: number; body: string } },
]

const fake: MistralFake = startMistralFake({ apiKey: 'mistral-key-one' })
const client = new Mistral({ apiKey: fake.apiKey, serverURL: fake.url, retryConfig: { strategy: 'none' } })
afterAll(() => fake.close())

const MODEL = 'mistral-small-latest'
const line = (id: string, prompt: string) => JSON.stringify({ custom_id: id, body: { max_tokens: 50, messages: [{ role: 'user', content: prompt }] } })

async function upload(content: string, purpose: 'batch' | 'fine-tune' = 'batch', fileName = 'batch.jsonl'): Answer {
  return client.files.upload({ file: { fileName, content: Buffer.from(content) }, purpose })
}

async function failure(p: Promise<unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    if (err instanceof MistralError) return { status: err.statusCode, body: JSON.parse(err.body) }
    throw err
  }
  throw new Error('expected the call to fail')
}

async function runToEnd(id: string) {
  const seen: string[] = []
  for (let i = 0; i < 10; i++) {
    const job = await client.batch.jobs.get({ jobId: id })
    seen.push(job.status)
    if (['SUCCESS', 'FAILED', 'TIMEOUT_EXCEEDED', 'CANCELLED'].includes(job.status)) return { job, seen }
  }
  throw new Error(`job ${id} did not end: ${seen.join(',')}`)
}

describe('Mistral fake, through @mistralai/mistralai', () => {
  test('a wrong key is a 401 with the gateway body on every route', async () => {
    const wrong = new Mistral({ apiKey: 'not-the-key', serverURL: fake.url, retryConfig: { strategy: 'none' } })
    // One call at a time: a call started before its turn could reject while the previous one is
    // awaited, which the test runner reports as an unhandled rejection.
    const calls = [() => wrong.batch.jobs.list(), () => wrong.files.list(), () => wrong.batch.jobs.get({ jobId: crypto.randomUUID() })]
    for (const call of calls) {
      const err = await failure(call())
      expect(err.status).toBe(401)
      expect(err.body.message).toBe('Unauthorized')
      expect(typeof err.body.request_id).toBe('string')
    }
  })

  test('files: upload with purpose batch, retrieve, download byte-exact, list, delete', async () => {
    const content = `${line('a', 'hello')}\n${line('b', 'FAIL this')}\n`
    const file = await upload(content)
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', sizeBytes: content.length, filename: 'batch.jsonl', sampleType: 'batch_request', source: 'upload', numLines: 2 })
    expect(await client.files.retrieve({ fileId: file.id })).toMatchObject({ id: file.id, deleted: false })
    expect(await new Response(await client.files.download({ fileId: file.id })).text()).toBe(content)
    expect((await client.files.list({ purpose: 'batch' })).data.map((f: { id: string }) => f.id)).toContain(file.id)
    expect(await client.files.delete({ fileId: file.id })).toEqual({ id: file.id, object: 'file', deleted: true })
    expect((await failure(client.files.retrieve({ fileId: file.id }))).status).toBe(404)
  })

  test('job: QUEUED → RUNNING → SUCCESS with counts, metadata and real output and error files', async () => {
    const file = await upload(`${line('a', 'hello')}\n${line('b', 'FAIL this')}\n`)
    const job = await client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions', model: MODEL, metadata: { run: 'one' }, timeoutHours: 48 })
    expect(job).toMatchObject({ object: 'batch', status: 'QUEUED', model: MODEL, metadata: { run: 'one' }, totalRequests: 0, inputFiles: [file.id] })
    const { job: done, seen } = await runToEnd(job.id)
    expect(seen).toEqual(['RUNNING', 'SUCCESS'])
    expect(done).toMatchObject({ totalRequests: 2, succeededRequests: 1, failedRequests: 1, completedRequests: 2 })
    expect(done.startedAt).toBeNumber()
    expect(done.completedAt).toBeNumber()
    const output = (await new Response(await client.files.download({ fileId: done.outputFile as string })).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(output).toHaveLength(1)
    expect(output[0]).toMatchObject({ custom_id: 'a', response: { status_code: 200, body: { object: 'chat.completion', model: MODEL, choices: [{ message: { content: 'Reply to: hello' } }] } }, error: null })
    const errors = (await new Response(await client.files.download({ fileId: done.errorFile as string })).text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(errors[0]).toMatchObject({ custom_id: 'b', response: { status_code: 400 } })
    expect((await client.files.retrieve({ fileId: done.outputFile as string })).sampleType).toBe('batch_result')
  })

  test('cancel: CANCELLATION_REQUESTED → CANCELLED; an ended job cannot be cancelled', async () => {
    const file = await upload(`${line('c', 'one')}\n`)
    const job = await client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions', model: MODEL })
    expect((await client.batch.jobs.cancel({ jobId: job.id })).status).toBe('CANCELLATION_REQUESTED')
    const { job: done, seen } = await runToEnd(job.id)
    expect(seen).toEqual(['CANCELLED'])
    expect(done.outputFile ?? null).toBeNull()
    const again = await failure(client.batch.jobs.cancel({ jobId: job.id }))
    expect(again.status).toBe(400)
    expect(again.body).toMatchObject({ object: 'error', type: 'invalid_request_error' })
  })

  test('malformed jobs are refused like Mistral: unknown endpoint, no input files, unknown file, wrong purpose, no model', async () => {
    const file = await upload(`${line('d', 'x')}\n`)
    const ft = await upload('{"messages":[]}\n', 'fine-tune', 'train.jsonl')
    const before = fake.jobs.size
    const endpoint = await failure(client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/nope', model: MODEL }))
    expect(endpoint.status).toBe(422)
    expect(JSON.stringify(endpoint.body)).toContain('endpoint')
    const none = await failure(client.batch.jobs.create({ inputFiles: [], endpoint: '/v1/chat/completions', model: MODEL }))
    expect(none.status).toBe(400)
    expect(none.body.message).toContain('input_files')
    const unknown = await failure(client.batch.jobs.create({ inputFiles: [crypto.randomUUID()], endpoint: '/v1/chat/completions', model: MODEL }))
    expect(unknown.status).toBe(404)
    const purpose = await failure(client.batch.jobs.create({ inputFiles: [ft.id], endpoint: '/v1/chat/completions', model: MODEL }))
    expect(purpose.status).toBe(400)
    expect(purpose.body.message).toContain("purpose 'fine-tune'")
    const noModel = await failure(client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions' }))
    expect(noModel.status).toBe(400)
    expect(fake.jobs.size).toBe(before)
  })

  test('list pages newest first and filters by status', async () => {
    const file = await upload(`${line('l', 'x')}\n`)
    const a = await client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions', model: MODEL })
    const b = await client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions', model: MODEL })
    const first = await client.batch.jobs.list({ page: 0, pageSize: 1 })
    expect(first.data?.map((j: { id: string }) => j.id)).toEqual([b.id])
    expect(first.total).toBe(fake.jobs.size)
    expect((await client.batch.jobs.list({ page: 1, pageSize: 1 })).data?.map((j: { id: string }) => j.id)).toEqual([a.id])
    const queued = await client.batch.jobs.list({ status: ['QUEUED'] })
    expect(queued.data?.every((j: { status: string }) => j.status === 'QUEUED')).toBe(true)
  })

  test('a job whose lines have no body fails with its errors', async () => {
    const file = await upload('{"custom_id":"x","messages":[]}\n')
    const job = await client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions', model: MODEL })
    const { job: done, seen } = await runToEnd(job.id)
    expect(seen).toEqual(['FAILED'])
    expect(done.errors[0]?.message).toContain('body')
  })
})
