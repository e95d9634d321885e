// Issue 11 class 3: errors after the status line. Results the gateway streams from an upstream —
// derived OpenAI output files (files.content) and Anthropic results, for every provider — reach
// the upstream before the status line goes out: a failure before the first byte is the dialect's
// error envelope with the right status (upstream status passed on, 502 unreachable); a failure
// mid-stream aborts the response, so the SDK raises instead of returning a short 200.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { createBatchOn, FOUR_PROVIDERS, type FourProvider } from '../e2e/any-provider-batch'
import { type Gateway, startGateway } from '../e2e/gateway'
import type { Fault } from '../fakes/harness'
import { type AllFakes, startAllFakes } from '../fakes/start'

const PROVIDERS = FOUR_PROVIDERS
type Provider = FourProvider
const REQUESTS = 8
/** ~30 KB per answer: results far past one 64 KiB output chunk, so a cut can fall mid-stream. */
const prompt = (i: number) => `question ${i} ${'lorem ipsum '.repeat(2500)}`
/** Where each provider's results are read from (S3 `.out` objects for Bedrock). */
const RESULTS_PATH: Record<Provider, RegExp> = {
  openai: /^\/v1\/files\/[^/]+\/content$/,
  anthropic: /^\/v1\/messages\/batches\/[^/]+\/results$/,
  gemini: /^(?:\/download)?\/v1beta\/files\/[^/]+:download$/,
  bedrock: /\.jsonl\.out$/,
}
/** A realistic 503 per provider. */
const UNAVAILABLE: Record<Provider, Fault> = {
  openai: { status: 503, body: { error: { message: 'The server is overloaded.', type: 'server_error', param: null, code: null } } },
  anthropic: { status: 503, body: { type: 'error', error: { type: 'api_error', message: 'Service unavailable' } } },
  gemini: { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } },
  bedrock: {
    status: 503,
    headers: { 'content-type': 'application/xml' },
    body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
  },
}

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
let anthropic: Anthropic
/** Per provider: the OpenAI-dialect batch's output file and the Anthropic-dialect batch. */
const made = new Map<Provider, { outputFileId: string; msgBatchId: string }>()

const fakeFor = (p: Provider) => (p === 'bedrock' ? fakes.s3 : fakes[p])

function onResults(provider: Provider, fault: Fault): void {
  fakeFor(provider).faults.add({
    ...fault,
    times: 3,
    match: (req, url) => req.method === 'GET' && RESULTS_PATH[provider].test(decodeURIComponent(url.pathname)),
  })
}

beforeAll(async () => {
  fakes = startAllFakes()
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open-gateway', maxRetries: 0 })
  for (const provider of PROVIDERS) {
    const prompts = Array.from({ length: REQUESTS }, (_, i) => prompt(i))
    let batch = await openai.batches.retrieve(await createBatchOn({ openai, anthropic }, provider, 'openai', prompts))
    for (let i = 0; i < 40 && batch.status !== 'completed'; i++) batch = await openai.batches.retrieve(batch.id)
    expect(batch.status).toBe('completed')
    const msgId = await createBatchOn({ openai, anthropic }, provider, 'anthropic', prompts)
    let ended = ''
    for (let i = 0; i < 40 && ended !== 'ended'; i++) ended = (await anthropic.messages.batches.retrieve(msgId)).processing_status
    expect(ended).toBe('ended')
    made.set(provider, { outputFileId: batch.output_file_id as string, msgBatchId: msgId })
  }
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

const ids = (p: Provider) => made.get(p) as { outputFileId: string; msgBatchId: string }
const readOutput = async (p: Provider) => (await openai.files.content(ids(p).outputFileId)).text()
async function readResults(p: Provider): Promise<number> {
  let n = 0
  for await (const r of await anthropic.messages.batches.results(ids(p).msgBatchId)) if (r.result.type === 'succeeded') n++
  return n
}

async function thrown(run: () => Promise<unknown>): Promise<{ status?: number; error?: unknown; message: string }> {
  try {
    await run()
  } catch (err) {
    return err as { status?: number; error?: unknown; message: string }
  }
  throw new Error('expected the download to fail')
}

describe('results downloads: a failure before the first byte is an error envelope', () => {
  for (const provider of PROVIDERS) {
    test(`${provider}: upstream 503 → 503 in both dialects`, async () => {
      onResults(provider, UNAVAILABLE[provider])
      const viaOpenAI = await thrown(() => readOutput(provider))
      fakeFor(provider).faults.clear()
      onResults(provider, UNAVAILABLE[provider])
      const viaAnthropic = await thrown(() => readResults(provider))
      fakeFor(provider).faults.clear()
      expect(viaOpenAI).toBeInstanceOf(OpenAI.APIError)
      expect(viaOpenAI.status).toBe(503)
      expect(viaOpenAI.error).toMatchObject({ type: 'server_error', code: 'upstream_server_error' })
      expect(viaAnthropic).toBeInstanceOf(Anthropic.APIError)
      expect(viaAnthropic.status).toBe(503)
      expect(viaAnthropic.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
    })

    test(`${provider}: upstream unreachable → 502 in both dialects`, async () => {
      onResults(provider, { drop: true })
      const viaOpenAI = await thrown(() => readOutput(provider))
      fakeFor(provider).faults.clear()
      onResults(provider, { drop: true })
      const viaAnthropic = await thrown(() => readResults(provider))
      fakeFor(provider).faults.clear()
      expect(viaOpenAI.status).toBe(502)
      expect(viaOpenAI.error).toMatchObject({ type: 'server_error', code: 'upstream_unreachable' })
      expect(viaAnthropic.status).toBe(502)
      expect(viaAnthropic.error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
    })
  }
})

describe('results downloads: a failure mid-stream makes the SDK raise, never a short success', () => {
  for (const provider of PROVIDERS) {
    test(`${provider}: the upstream breaks off after ~150 KB`, async () => {
      // Unbroken, both reads give every result.
      expect((await readOutput(provider)).trim().split('\n')).toHaveLength(REQUESTS)
      expect(await readResults(provider)).toBe(REQUESTS)

      onResults(provider, { truncate: 150_000 })
      const viaOpenAI = await thrown(() => readOutput(provider))
      fakeFor(provider).faults.clear()
      onResults(provider, { truncate: 150_000 })
      const viaAnthropic = await thrown(() => readResults(provider))
      fakeFor(provider).faults.clear()
      // Either the read broke (mid-stream) or, if the cut came before the first output chunk,
      // an envelope; never a success.
      for (const err of [viaOpenAI, viaAnthropic]) {
        expect(err).toBeInstanceOf(Error)
        if (err.status !== undefined) expect(err.status).toBe(502)
      }
    })
  }
})
