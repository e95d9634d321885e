// The seed workflows of the Anthropic SDK document (files + message batches through
// `x-model-provider`), run with both SDK generations — `@anthropic-ai/sdk` 1.x and the 0.x alias —
// against a gateway in front of every provider fake. Each anthropic-sdk-to-*.test.ts calls
// `anthropicSdkSuite` with what differs per provider.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile } from '@anthropic-ai/sdk'
import { Page } from '@anthropic-ai/sdk/pagination'
import Anthropic0, { toFile as toFile0 } from '@anthropic-ai/sdk-0'
import { Page as Page0 } from '@anthropic-ai/sdk-0/pagination'
import type { ProviderName } from '../../src/core/provider-name'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { type Gateway, startGateway } from './gateway'

/** Both generations expose the same resources at run time; the tests type them as 1.x. */
export type Client = Anthropic

export interface Generation {
  name: string
  make(opts: { baseURL: string; apiKey: string; defaultHeaders?: Record<string, string> }): Client
  toFile(content: string, name: string, type: string): Promise<File>
  /** The `Page` class (beta list shape: first_id/last_id/has_more) of this generation. */
  Page: unknown
}

export const GENERATIONS: Generation[] = [
  {
    name: '@anthropic-ai/sdk 1.x',
    make: (opts) => new Anthropic({ ...opts, maxRetries: 0 }),
    toFile: (content, name, type) => toFile(Buffer.from(content), name, { type }) as Promise<File>,
    Page,
  },
  {
    name: '@anthropic-ai/sdk 0.x',
    make: (opts) => new Anthropic0({ ...opts, maxRetries: 0 }) as unknown as Client,
    toFile: (content, name, type) => toFile0(Buffer.from(content), name, { type }) as Promise<File>,
    Page: Page0,
  },
]

export interface ApiFailure {
  status: number
  error: { type: string; error: { type: string; message: string }; request_id?: string }
  message: string
}

/** The SDK error a call failed with (either generation's APIError: both carry status + body). */
export async function errorOf(p: Promise<unknown>): Promise<ApiFailure> {
  try {
    await p
  } catch (err) {
    const e = err as Partial<ApiFailure>
    if (typeof e.status === 'number') return e as ApiFailure
    throw err
  }
  throw new Error('expected the call to fail')
}

export const request = (customId: string, prompt: string, model: string) => ({
  custom_id: customId,
  params: { model, max_tokens: 100, messages: [{ role: 'user' as const, content: prompt }] },
})

export const ENDED_OR_RUNNING = ['in_progress', 'canceling', 'ended']

/** Polls `retrieve` until ended, checking Anthropic's count rules on every snapshot. */
export async function pollToEnded(client: Client, id: string, total: number) {
  const seen: string[] = []
  for (let i = 0; i < 30; i++) {
    const b = await client.beta.messages.batches.retrieve(id)
    seen.push(b.processing_status)
    expect(ENDED_OR_RUNNING).toContain(b.processing_status)
    const c = b.request_counts
    expect(c.processing + c.succeeded + c.errored + c.canceled + c.expired).toBe(total)
    if (b.processing_status !== 'ended') {
      expect(c.processing).toBe(total)
      expect(b.results_url).toBeNull()
      expect(b.ended_at).toBeNull()
    } else {
      expect(c.processing).toBe(0)
      return { batch: b, seen }
    }
  }
  throw new Error(`batch ${id} never ended: ${seen.join(',')}`)
}

/** `results()` as the seed reads it: custom_id → answer text, or the result type when not succeeded. */
export async function readResults(client: Client, id: string, beta = true): Promise<Record<string, string>> {
  const stream = beta ? await client.beta.messages.batches.results(id) : await client.messages.batches.results(id)
  const out: Record<string, string> = {}
  for await (const line of stream) {
    expect(out[line.custom_id]).toBeUndefined()
    const r = line.result
    if (r.type === 'succeeded') {
      // The Message object as Anthropic's own results carry it, whichever provider answered.
      expect(r.message).toMatchObject({ type: 'message', role: 'assistant' })
      expect(r.message.id.length).toBeGreaterThan(0)
      expect(r.message.model.length).toBeGreaterThan(0)
      expect(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal']).toContain(r.message.stop_reason as string)
      expect(r.message.usage.input_tokens).toBeGreaterThan(0)
      expect(r.message.usage.output_tokens).toBeGreaterThan(0)
      const block = r.message.content[0]
      out[line.custom_id] = block?.type === 'text' ? block.text : `non-text ${block?.type}`
    } else {
      if (r.type === 'errored') {
        // Anthropic nests a whole error envelope in `result.error`.
        expect(r.error.type).toBe('error')
        expect(['invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'request_too_large', 'rate_limit_error', 'timeout_error', 'api_error', 'overloaded_error']).toContain(r.error.error.type)
        expect(r.error.error.message.length).toBeGreaterThan(0)
      }
      out[line.custom_id] = r.type
    }
  }
  return out
}

export const API_KEY = 'virtual-key-or-dummy-key'

export interface SuiteOptions {
  provider: ProviderName
  /** Model every batch request names. */
  model: string
  /** The file the seed uploads for this provider. */
  upload: { name: string; content: string; type: string }
  /** Whether the provider hands uploaded bytes back (Anthropic and Gemini do not). */
  downloadable: boolean
  /** Extra provider-specific checks after an upload (what the upstream fake stored). */
  checkUpload?: (fakes: AllFakes, file: { id: string; size_bytes: number }) => Promise<void> | void
  /** A gateway of the test's own (named instances from BATCHGATE_CONFIG); default: every env fake. */
  world?: () => Promise<{ gw: Gateway; close(): Promise<void> }>
  /** The files the paging test uploads (default: small text files; Groq keeps only JSONL). */
  pageFile?: (i: number) => { content: string; name: string; type: string }
}

export function anthropicSdkSuite(opts: SuiteOptions): void {
  let fakes: AllFakes | undefined
  let gw: Gateway
  let closeWorld: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (opts.world) {
      const world = await opts.world()
      gw = world.gw
      closeWorld = world.close
      return
    }
    fakes = startAllFakes()
    // A keyed gateway: 1.x authenticates with `Authorization: Bearer`, 0.x with `x-api-key`.
    gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: `default=${API_KEY}` })
  })
  afterAll(async () => {
    await gw?.close()
    await fakes?.close()
    await closeWorld?.()
  })
  const pageFile = opts.pageFile ?? ((i: number) => ({ content: `page file ${i}\n`, name: `page-${i}.txt`, type: 'text/plain' }))

  const prompts = { 'q-1': 'What is 15 * 7?', 'q_2': 'What is the largest ocean?', 'q-3': 'FAIL this request' }
  const expected = {
    'q-1': 'Reply to: What is 15 * 7?',
    'q_2': 'Reply to: What is the largest ocean?',
    'q-3': 'errored',
  }
  const requests = () => Object.entries(prompts).map(([id, prompt]) => request(id, prompt, opts.model))

  for (const gen of GENERATIONS) {
    describe(`${gen.name} → ${opts.provider}`, () => {
      // Anthropic is the default: the seed omits the header for it; every other provider sends it.
      const client = () =>
        gen.make({
          baseURL: `${gw.url}/anthropic`,
          apiKey: API_KEY,
          ...(opts.provider === 'anthropic' ? {} : { defaultHeaders: { 'x-model-provider': opts.provider } }),
        })
      // A client that names no provider: ids alone must be enough after create.
      const plain = () => gen.make({ baseURL: `${gw.url}/anthropic`, apiKey: API_KEY })

      test('batch workflow: create, poll, list, results, delete', async () => {
        const c = client()
        const created = await c.beta.messages.batches.create({ requests: requests() })
        expect(created.id).toMatch(/^msgbatch_[0-9a-z]{26}$/)
        expect(created.type).toBe('message_batch')
        expect(created.processing_status).toBe('in_progress')
        expect(created.request_counts).toEqual({ processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 })
        expect(created.results_url).toBeNull()
        expect(new Date(created.created_at).toISOString()).toBe(created.created_at)
        expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBeGreaterThan(0)
        expect((await gw.store.batches.get(created.id, 'default'))?.provider).toBe(opts.provider)

        const { batch, seen } = await pollToEnded(c, created.id, 3)
        expect(seen.at(-1)).toBe('ended')
        expect(batch.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 })
        expect(batch.ended_at).toBeString()
        expect(batch.cancel_initiated_at).toBeNull()
        expect(batch.results_url).toBe(`${gw.url}/anthropic/v1/messages/batches/${batch.id}/results`)

        // Seed step 3: the batch is in the list (beta and GA namespaces).
        const listed = await c.beta.messages.batches.list({ limit: 20 })
        expect(listed.data.map((b) => b.id)).toContain(batch.id)
        const ga = await c.messages.batches.list({ limit: 20 })
        expect(ga.data.find((b) => b.id === batch.id)?.processing_status).toBe('ended')

        // Seed step 4: results, followed through results_url verbatim by the SDK.
        expect(await readResults(c, batch.id)).toEqual(expected)
        expect(await readResults(plain(), batch.id, false)).toEqual(expected)

        const deleted = await c.beta.messages.batches.delete(batch.id)
        expect(deleted).toEqual({ id: batch.id, type: 'message_batch_deleted' })
        const gone = await errorOf(c.beta.messages.batches.retrieve(batch.id))
        expect(gone.status).toBe(404)
        expect(gone.error.error.type).toBe('not_found_error')
      })

      test('GA namespace: create and retrieve by id alone, without the provider header', async () => {
        const created = await client().messages.batches.create({ requests: [request('only-one', 'Hello there', opts.model)] })
        const { batch } = await pollToEnded(plain(), created.id, 1)
        expect(batch.request_counts.succeeded).toBe(1)
        expect(await readResults(plain(), created.id, false)).toEqual({ 'only-one': 'Reply to: Hello there' })
        await plain().messages.batches.delete(created.id)
      })

      test('cancel: canceling, then ended with every request accounted for', async () => {
        const c = client()
        const created = await c.beta.messages.batches.create({ requests: requests() })
        const canceled = await c.beta.messages.batches.cancel(created.id)
        expect(['canceling', 'ended']).toContain(canceled.processing_status)
        expect(canceled.cancel_initiated_at).toBeString()
        const { batch } = await pollToEnded(c, created.id, 3)
        expect(batch.cancel_initiated_at).toBeString()
        const results = await readResults(c, batch.id)
        for (const [id, value] of Object.entries(results)) {
          expect(Object.keys(prompts)).toContain(id)
          expect([expected[id as keyof typeof expected], 'canceled']).toContain(value)
        }
        // Once ended it can be deleted.
        await c.beta.messages.batches.delete(batch.id)
      })

      test('delete of a batch that has not ended is refused', async () => {
        const c = client()
        const created = await c.beta.messages.batches.create({ requests: [request('d-1', 'not yet', opts.model)] })
        const err = await errorOf(c.beta.messages.batches.delete(created.id))
        expect(err.status).toBe(400)
        expect(err.error.error.type).toBe('invalid_request_error')
        expect(err.error.error.message).toContain('cancel')
      })

      test('list filters by provider only when the header is sent', async () => {
        const c = client()
        const created = await c.beta.messages.batches.create({ requests: [request('l-1', 'listed', opts.model)] })
        const all: string[] = []
        for await (const b of plain().beta.messages.batches.list({ limit: 2 })) all.push(b.id)
        expect(all).toContain(created.id)
        expect(new Set(all).size).toBe(all.length)
        const mine: string[] = []
        for await (const b of c.beta.messages.batches.list({ limit: 2 })) mine.push(b.id)
        expect(mine).toContain(created.id)
        for (const id of mine) expect((await gw.store.batches.get(id, 'default'))?.provider).toBe(opts.provider)
      })

      test('files workflow: upload, list, metadata, download, delete', async () => {
        const c = client()
        const file = await c.beta.files.upload({ file: await gen.toFile(opts.upload.content, opts.upload.name, opts.upload.type) })
        expect(file.id).toMatch(/^file_[0-9a-z]{26}$/)
        expect(file).toMatchObject({
          type: 'file',
          filename: opts.upload.name,
          mime_type: opts.upload.type,
          size_bytes: Buffer.byteLength(opts.upload.content),
          downloadable: opts.downloadable,
        })
        expect(new Date(file.created_at).toISOString()).toBe(file.created_at)
        if (fakes) await opts.checkUpload?.(fakes, file)

        const listed = await c.beta.files.list()
        expect(listed.data.map((f) => f.id)).toContain(file.id)
        const meta = await plain().beta.files.retrieveMetadata(file.id)
        expect(meta).toEqual(file)

        if (opts.downloadable) {
          const res = await plain().beta.files.download(file.id)
          expect(await res.text()).toBe(opts.upload.content)
        } else {
          const err = await errorOf(plain().beta.files.download(file.id))
          expect(err.status).toBeGreaterThanOrEqual(400)
          expect(err.status).toBeLessThan(500)
        }

        const deleted = await plain().beta.files.delete(file.id)
        expect(deleted).toEqual({ id: file.id, type: 'file_deleted' })
        const gone = await errorOf(c.beta.files.retrieveMetadata(file.id))
        expect(gone.status).toBe(404)
        expect(gone.error.error.type).toBe('not_found_error')
      })

      test('file lists page in both generations’ shapes (auto-pagination over 6 files)', async () => {
        const c = client()
        const ids: string[] = []
        for (let i = 0; i < 6; i++) {
          const page = pageFile(i)
          const f = await c.beta.files.upload({ file: await gen.toFile(page.content, page.name, page.type) })
          ids.push(f.id)
        }
        // This generation's own list (PageCursor: `page` = next_page) in the beta and GA namespaces.
        for (const list of [c.beta.files.list({ limit: 2 }), c.files.list({ limit: 2 })]) {
          const seen: string[] = []
          for await (const f of list) seen.push(f.id)
          expect(new Set(seen).size).toBe(seen.length)
          for (const id of ids) expect(seen).toContain(id)
          // Newest first.
          expect(seen.indexOf(ids[5] as string)).toBeLessThan(seen.indexOf(ids[0] as string))
        }
        const first = await c.beta.files.list({ limit: 2 })
        expect(first.data).toHaveLength(2)

        // SDK ≤ 0.121 (`Page`: after_id = last_id while has_more), driven through this client.
        const PageClass = gen.Page as typeof Page
        const betaHeaders = { 'anthropic-beta': 'files-api-2025-04-14' }
        const seenBeta: string[] = []
        for await (const f of c.getAPIList<{ id: string }, Page<{ id: string }>>('/v1/files', PageClass<{ id: string }>, {
          query: { limit: 2 },
          headers: betaHeaders,
        })) {
          seenBeta.push(f.id)
        }
        expect(new Set(seenBeta).size).toBe(seenBeta.length)
        for (const id of ids) expect(seenBeta).toContain(id)

        // …and backwards: before_id walks towards newer files, first_id by first_id.
        const seenBack: string[] = []
        for await (const f of c.getAPIList<{ id: string }, Page<{ id: string }>>('/v1/files', PageClass<{ id: string }>, {
          query: { limit: 2, before_id: ids[0] },
          headers: betaHeaders,
        })) {
          seenBack.push(f.id)
        }
        for (const id of ids.slice(1)) expect(seenBack).toContain(id)
        expect(seenBack).not.toContain(ids[0])
        for (const id of ids) await c.beta.files.delete(id)
      })
    })
  }
}
