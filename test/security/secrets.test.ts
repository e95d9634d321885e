// Secrets hygiene (issue 7 §10): a full run — both SDKs, every provider, with virtual keys — plus
// upstream errors crafted to echo provider keys, SigV4 signatures, presigned URLs and upstream
// addresses. Neither the gateway's log (captured through log.ts's sink) nor anything a client
// receives may hold a provider key, a virtual key, a signature or presigned query; error bodies
// may not name an upstream base URL; and no provider ever sees a client's virtual key.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic, { toFile as toAnthropicFile } from '@anthropic-ai/sdk'
import Anthropic0 from '@anthropic-ai/sdk-0'
import OpenAI from 'openai'
import { type EnvProviderName, PROVIDER_NAMES } from '../../src/core/provider-name'
import { setLogLevel, setLogSink } from '../../src/log'
import { pollToEnded, readResults as readAnthropicResults, request } from '../e2e/anthropic-sdk-workflow'
import { chatLine, jsonl, pollToEnd, readResults, uploadBatchFile } from '../e2e/openai-seed'
import { KEYS, MODELS, startWorld, type World } from './world'

let world: World
const logLines: string[] = []
/** Every body the gateway sent a client, with its status. */
const replies: Array<{ status: number; url: string; text: string }> = []

/** A fetch that keeps a copy of each reply, for the SDK clients. */
const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const res = await fetch(input, init)
  replies.push({ status: res.status, url: String(input instanceof Request ? input.url : input), text: await res.clone().text() })
  return res
}

beforeAll(async () => {
  world = await startWorld()
  setLogLevel('debug')
  setLogSink((_level, line) => logLines.push(line))
})
afterAll(async () => {
  setLogSink(null)
  setLogLevel('warn')
  await world.close()
})

/** What a call failed with. The SDKs' lazy API promises are awaited plainly, not via expect().rejects. */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the call to fail')
}

const openaiClient = () =>
  new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: KEYS.alice, maxRetries: 0, fetch: recordingFetch as typeof fetch })

describe('a full run', () => {
  for (const provider of PROVIDER_NAMES) {
    test(`OpenAI SDK, provider ${provider}: upload, batch, poll, output and error files, list, delete`, async () => {
      const client = openaiClient()
      const model = provider === 'openai' || provider === 'anthropic' ? MODELS.openai : MODELS[provider]
      const lineModel = provider === 'anthropic' ? MODELS.anthropic : model
      const file = await uploadBatchFile(client, jsonl(chatLine('ok-1', 'hello', lineModel), chatLine('bad-1', 'FAIL this', lineModel)), {
        provider,
      })
      const created = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        ...(provider === 'gemini' || provider === 'bedrock' ? { model } : {}),
      } as never)
      const { batch } = await pollToEnd(client, created.id)
      expect(batch.status).toBe('completed')
      const { answers, errors } = await readResults(client, batch)
      expect(answers['ok-1']).toBe('Reply to: hello')
      expect(Object.keys(errors)).toEqual(['bad-1'])
      expect((await client.files.list()).data.map((f) => f.id)).toContain(file.id)
      await client.files.delete(file.id)
    })
  }

  const generations = [
    { name: '1.x (Bearer)', make: () => new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: KEYS.bob, maxRetries: 0, fetch: recordingFetch as typeof fetch }) },
    {
      name: '0.x (x-api-key)',
      make: () =>
        new Anthropic0({ baseURL: `${world.gw.url}/anthropic`, apiKey: KEYS.bob, maxRetries: 0, fetch: recordingFetch as typeof fetch }) as unknown as Anthropic,
    },
  ]
  for (const provider of PROVIDER_NAMES) {
    for (const generation of generations) {
      test(`Anthropic SDK ${generation.name}, provider ${provider}: batch, poll, results, delete; a file`, async () => {
        const client = generation.make()
        const opts = { headers: { 'x-model-provider': provider } }
        const created = await client.beta.messages.batches.create(
          { requests: [request('ok-1', 'hello', MODELS[provider]), request('bad-1', 'FAIL this', MODELS[provider])] },
          opts,
        )
        await pollToEnded(client, created.id, 2)
        expect(await readAnthropicResults(client, created.id)).toEqual({ 'ok-1': 'Reply to: hello', 'bad-1': 'errored' })
        await client.beta.messages.batches.delete(created.id)
        const file = await client.beta.files.upload({ file: await toAnthropicFile(Buffer.from('notes'), 'notes.txt', { type: 'text/plain' }) }, opts)
        await client.beta.files.delete(file.id)
      })
    }
  }
})

/** Provider errors written the way careless upstreams write them: echoing what they were sent. */
function echoingFaults(w: World) {
  const { fakes } = w
  const env = fakes.env
  const sigHex = 'f'.repeat(64)
  const presigned =
    `https://batchgate-test.s3.us-east-1.amazonaws.com/in.jsonl?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
    `&X-Amz-Credential=${env.AWS_ACCESS_KEY_ID}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z` +
    `&X-Amz-Expires=900&X-Amz-Security-Token=FQoGZXIvYXdzEJr&X-Amz-SignedHeaders=host&X-Amz-Signature=${sigHex}`
  const sigv4 = `AWS4-HMAC-SHA256 Credential=${env.AWS_ACCESS_KEY_ID}/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sigHex}`
  fakes.openai.faults.add({
    match: (req, url) => req.method === 'POST' && url.pathname === '/v1/files',
    status: 401,
    body: { error: { message: `Incorrect API key provided: ${env.OPENAI_API_KEY}. You called ${fakes.openai.url}/v1/files with Authorization: Bearer ${env.OPENAI_API_KEY}`, type: 'invalid_request_error' } },
  })
  fakes.anthropic.faults.add({
    match: (req, url) => req.method === 'POST' && url.pathname === '/v1/messages/batches',
    status: 400,
    body: { type: 'error', error: { type: 'invalid_request_error', message: `x-api-key: ${env.ANTHROPIC_API_KEY} is not allowed at ${fakes.anthropic.url}` } },
  })
  fakes.gemini.faults.add({
    match: (req) => req.method === 'POST',
    status: 400,
    body: {
      error: {
        code: 400,
        message: `API key not valid (x-goog-api-key: ${env.GEMINI_API_KEY}); resume at ${fakes.gemini.url}/upload/v1beta/files?upload_id=AB12cd34&upload_protocol=resumable or ?key=${env.GEMINI_API_KEY}`,
        status: 'INVALID_ARGUMENT',
      },
    },
  })
  fakes.s3.faults.add({
    match: (req) => req.method === 'PUT',
    status: 403,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Denied ${presigned} signed as ${sigv4} (secret ${env.AWS_SECRET_ACCESS_KEY}) at ${fakes.s3.url}</Message></Error>`,
  })
  fakes.bedrock.faults.add({
    match: (req) => req.method === 'POST',
    status: 400,
    headers: { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
    body: { message: `Authorization: ${sigv4} rejected by ${fakes.bedrock.url}; token ${env.AWS_SECRET_ACCESS_KEY}` },
  })
}

describe('upstream errors that echo secrets', () => {
  test('are scrubbed from what the client gets, in both dialects', async () => {
    echoingFaults(world)
    const client = openaiClient()
    const line = (provider: EnvProviderName) => chatLine('x-1', 'hello', provider === 'anthropic' || provider === 'openai' ? MODELS.openai : MODELS[provider])
    for (const provider of ['openai', 'bedrock'] as const) {
      expect(await rejection(uploadBatchFile(client, jsonl(line(provider)), { provider }))).toBeInstanceOf(OpenAI.APIError)
    }
    const anthropic = new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: KEYS.bob, maxRetries: 0, fetch: recordingFetch as typeof fetch })
    for (const provider of ['anthropic', 'gemini', 'bedrock'] as const) {
      const create = anthropic.beta.messages.batches.create(
        { requests: [request('x-1', 'hello', MODELS[provider])] },
        { headers: { 'x-model-provider': provider } },
      )
      expect(await rejection(create)).toBeInstanceOf(Anthropic.APIError)
    }
    // Every upstream answered with its echo once: OpenAI and S3 to the uploads, Anthropic, Gemini
    // and the Bedrock job (its S3 input was written: that fault was spent) to the creates.
    const failures = replies.filter((r) => r.status >= 400)
    const echoes = ['Incorrect API key', 'S3 AccessDenied', 'is not allowed at', 'API key not valid', 'ValidationException']
    expect(echoes.map((echo) => failures.filter((f) => f.text.includes(echo)).length)).toEqual([1, 1, 1, 1, 1])
    expect(failures.length).toBe(5)
    const upstreamUrls = [world.fakes.openai, world.fakes.anthropic, world.fakes.gemini, world.fakes.s3, world.fakes.bedrock].map((f) => f.url)
    for (const failure of failures) {
      expect(failure.text).toContain('[redacted]')
      for (const url of upstreamUrls) expect(failure.text).not.toContain(url)
    }
  })
})

describe('after the run', () => {
  const forbidden = (): Array<string | RegExp> => {
    const env = world.fakes.env
    return [
      env.OPENAI_API_KEY as string,
      env.ANTHROPIC_API_KEY as string,
      env.GEMINI_API_KEY as string,
      env.AWS_ACCESS_KEY_ID as string,
      env.AWS_SECRET_ACCESS_KEY as string,
      KEYS.alice,
      KEYS.bob,
      /Signature=(?!\[redacted\])/i,
      /X-Amz-(?:Credential|Security-Token)=(?!\[redacted\])/i,
      /x-goog-api-key["']?\s*[:=]\s*["']?[^\s"'[]/i,
      /[?&](?:key|upload_id)=(?!\[redacted\])/,
    ]
  }
  const holds = (text: string, needle: string | RegExp) => (typeof needle === 'string' ? text.includes(needle) : needle.test(text))

  test('the log holds no key, signature or presigned query', () => {
    const log = logLines.join('\n')
    // The run logged the echoed failures (so the check below is not vacuous).
    expect(logLines.filter((l) => l.includes('"request failed"')).length).toBeGreaterThanOrEqual(5)
    expect(log).toContain('[redacted]')
    for (const needle of forbidden()) expect(holds(log, needle), String(needle)).toBe(false)
  })

  test('no reply to a client holds one either', () => {
    expect(replies.length).toBeGreaterThan(100)
    for (const reply of replies) {
      for (const needle of forbidden()) expect(holds(reply.text, needle), `${reply.url}: ${String(needle)}`).toBe(false)
    }
  })

  test("no provider ever saw a client's virtual key", () => {
    const { openai, anthropic, gemini, s3, bedrock } = world.fakes
    const seen = [openai, anthropic, gemini, s3, bedrock].flatMap((f) => f.requests)
    expect(seen.length).toBeGreaterThan(50)
    for (const r of seen) {
      const wire = `${r.path}${r.query} ${JSON.stringify(r.headers)}`
      expect(wire).not.toContain(KEYS.alice)
      expect(wire).not.toContain(KEYS.bob)
    }
  })
})
