// Issue 11 class 4: no upstream identifier ever reaches a client. What the stored state decides
// (cancel of an ended batch) is answered locally — one 400 in both dialects for every provider,
// nothing sent upstream — and every upstream message goes through one filter: the upstream ids of
// the batch or file the call was about become gateway ids; any other provider id, ARN, AWS
// account id or S3 location is removed.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import type { Dialect } from '../../src/core/provider-name'
import { scrubUpstreamIds } from '../../src/upstream-ids'
import { createBatchOn, FOUR_PROVIDERS, type FourProvider } from '../e2e/any-provider-batch'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'

const PROVIDERS = FOUR_PROVIDERS
type Provider = FourProvider
const DIALECTS: Dialect[] = ['openai', 'anthropic']

/** Upstream id shapes of every provider, plus an ARN with an account id and an S3 location. */
const FOREIGN =
  'arn:aws:iam::123456789012:role/BedrockBatch cannot read s3://customer-bucket/batch-input/in.jsonl ' +
  '(files/abc-123xyz, batches/9f8e7d6c5b, file-AbC123dEf456GhI789, batch_6789abcdef012345, ' +
  'msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d, file_011CNha8iCJcU1wXNR6q4V8w, account 210987654321)'
// Specific to FOREIGN: gateway ids of the Anthropic dialect start with msgbatch_ too.
const LEAKS = [/arn:aws/, /123456789012/, /210987654321/, /s3:\/\//, /files\/abc/, /batches\/9f8e/, /file-AbC/, /batch_6789/, /msgbatch_01Hkc/, /file_011/]

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open-gateway', maxRetries: 0 })
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

const createBatch = (provider: Provider, dialect: Dialect) => createBatchOn({ openai, anthropic }, provider, dialect)

const retrieve = (dialect: Dialect, id: string) =>
  dialect === 'openai' ? openai.batches.retrieve(id) : anthropic.messages.batches.retrieve(id)
const cancel = (dialect: Dialect, id: string) => (dialect === 'openai' ? openai.batches.cancel(id) : anthropic.messages.batches.cancel(id))

async function untilEnded(dialect: Dialect, id: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const b = (await retrieve(dialect, id)) as { status?: string; processing_status?: string }
    if (b.processing_status === 'ended' || ['completed', 'failed', 'expired', 'cancelled'].includes(b.status ?? '')) return
  }
  throw new Error(`batch ${id} did not end`)
}

async function rejection(call: Promise<unknown>): Promise<{ status: number; type: string; message: string }> {
  try {
    await call
  } catch (err) {
    const e = err as { status?: number; error?: { error?: { type?: string; message?: string }; type?: string; message?: string } }
    if (typeof e.status !== 'number') throw err
    const inner = e.error?.error ?? e.error
    return { status: e.status, type: inner?.type ?? '', message: inner?.message ?? '' }
  }
  throw new Error('expected the call to fail')
}

const upstreamIdOf = async (id: string) => (await gw.store.batches.get(id, 'default'))?.upstreamId as string
const cancelCalls = (provider: Provider) =>
  fakes[provider].requests.filter((r) => r.method === 'POST' && /cancel|stop/.test(r.path)).length

function expectClean(message: string, upstreamId: string): void {
  expect(message).not.toContain(upstreamId)
  expect(message).not.toContain(upstreamId.slice(upstreamId.lastIndexOf('/') + 1))
  for (const leak of LEAKS) expect(message).not.toMatch(leak)
}

describe('cancel of an ended batch: one local 400, nothing upstream', () => {
  for (const provider of PROVIDERS) {
    for (const dialect of DIALECTS) {
      test(`${provider}, ${dialect} dialect`, async () => {
        const id = await createBatch(provider, dialect)
        await untilEnded(dialect, id)
        const before = cancelCalls(provider)
        const err = await rejection(cancel(dialect, id))
        expect(err).toMatchObject({ status: 400, type: 'invalid_request_error' })
        expect(err.message).toContain(id)
        expectClean(err.message, await upstreamIdOf(id))
        expect(cancelCalls(provider)).toBe(before)
      })

      test(`${provider}, ${dialect} dialect: ended upstream since last seen — the upstream's refusal is not passed on`, async () => {
        const id = await createBatch(provider, dialect)
        await untilEnded(dialect, id)
        // The gateway's last look still saw it running; the upstream has ended it since.
        const stored = await gw.store.batches.get(id, 'default')
        if (!stored) throw new Error('no batch')
        await gw.store.batches.saveSnapshot(id, { ...stored.snapshot, status: 'in_progress' })
        const err = await rejection(cancel(dialect, id))
        expect(err).toMatchObject({ status: 400, type: 'invalid_request_error' })
        expect(err.message).toContain(id)
        expectClean(err.message, stored.upstreamId)
      })
    }
  }
})

/** A realistic not-found answer per provider, quoting the upstream id and more besides. */
function notFoundAnswer(provider: Provider, upstreamId: string) {
  const also = ` ${FOREIGN}`
  switch (provider) {
    case 'openai':
      return { status: 404, body: { error: { message: `No batch found with id '${upstreamId}'.${also}`, type: 'invalid_request_error', param: null, code: null } } }
    case 'anthropic':
      return { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `Message batch ${upstreamId} not found.${also}` } } }
    case 'gemini':
      return { status: 404, body: { error: { code: 404, message: `Batch ${upstreamId} not found.${also}`, status: 'NOT_FOUND' } } }
    case 'bedrock':
      return {
        status: 404,
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
        body: { message: `The specified model invocation job ${upstreamId} could not be found.${also}` },
      }
  }
}

describe('upstream errors quoting ids: known ids become gateway ids, others are removed', () => {
  for (const provider of PROVIDERS) {
    for (const dialect of DIALECTS) {
      test(`${provider}, ${dialect} dialect`, async () => {
        const id = await createBatch(provider, dialect)
        const upstreamId = await upstreamIdOf(id)
        const stored = await gw.store.batches.get(id, 'default')
        if (!stored) throw new Error('no batch')
        // Running as far as the gateway knows: the retrieve asks the upstream.
        await gw.store.batches.saveSnapshot(id, { ...stored.snapshot, status: 'in_progress' })
        const tail = upstreamId.slice(upstreamId.lastIndexOf('/') + 1)
        fakes[provider].faults.add({
          ...notFoundAnswer(provider, upstreamId),
          match: (req, url) => req.method === 'GET' && decodeURIComponent(url.pathname).endsWith(tail),
        })
        const err = await rejection(retrieve(dialect, id))
        fakes[provider].faults.clear()
        expect(err.status).toBe(404)
        expect(err.message).toContain(id)
        expectClean(err.message, upstreamId)
      })
    }
  }

  test('file downloads: the upstream file id becomes the gateway file id (every provider with upstream files)', async () => {
    for (const provider of PROVIDERS) {
      const extra = provider === 'bedrock' ? { storage_config: { s3: { bucket: TEST_BUCKET, region: 'us-east-1', prefix: 'ids' } } } : {}
      const file = await openai.files.create({ file: await toFile(Buffer.from('notes'), 'notes.txt'), purpose: 'user_data', provider, ...extra } as never)
      const stored = await gw.store.files.get(file.id, 'default')
      const location = stored?.location
      if (location?.kind !== 'upstream') throw new Error(`${provider}: not an upstream file`)
      const quoted = location.key ?? location.upstreamId
      fakes[provider === 'bedrock' ? 's3' : provider].faults.add({
        status: 404,
        body: { error: { message: `No such File object: ${location.upstreamId} (${quoted}).${FOREIGN}`, type: 'invalid_request_error' } },
        match: (req) => req.method === 'GET',
      })
      const err = await rejection(openai.files.content(file.id, { query: { provider } } as never))
      fakes[provider === 'bedrock' ? 's3' : provider].faults.clear()
      expect(err.status, provider).toBe(404)
      expectClean(err.message, location.upstreamId)
      expect(err.message, provider).not.toContain(quoted)
    }
  })
})

describe('the filter itself', () => {
  test('maps known ids (whole and by last segment) and strips every other upstream id shape', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdef123456'
    const out = scrubUpstreamIds(`Job ${arn} (abcdef123456) failed. ${FOREIGN}`, {
      [arn]: 'batch_01JGATEWAY',
      abcdef123456: 'batch_01JGATEWAY',
    })
    expect(out).toStartWith('Job batch_01JGATEWAY (batch_01JGATEWAY) failed.')
    for (const leak of LEAKS) expect(out).not.toMatch(leak)
  })

  test('leaves words and codes alone', () => {
    const text = 'Invalid file_id: expected a batch_size of 12 or a file-name; see files/ and batches/ docs.'
    expect(scrubUpstreamIds(text)).toBe(text)
  })
})
