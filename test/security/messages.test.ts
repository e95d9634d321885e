// Issue 11 class 10: messages a person can act on. Every schema failure names the field and the
// rule it broke ("metadata: at most 16 keys"), sets `param` in the OpenAI envelope, never reads
// like a schema summary and never echoes a large value. Redaction keeps the gateway's own
// guidance intact, even when a configured secret is an ordinary word.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { redact, registerSecrets } from '../../src/log'
import { failure } from '../resilience/api-failure'
import { batchItem, call, KEYS, startWorld, type World } from './world'

/** A tenant whose key is a word the gateway's messages use. */
const WORD_KEY = 'provider'

let world: World
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  world = await startWorld({ BATCHGATE_KEYS: `alice=${KEYS.alice},carol=${WORD_KEY}` })
  openai = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: `${world.gw.url}/anthropic`, apiKey: KEYS.alice, maxRetries: 0 })
})
afterAll(async () => {
  await world.close()
})

const create = (fields: Record<string, unknown>) =>
  openai.batches.create({ input_file_id: 'file-abc', endpoint: '/v1/chat/completions', completion_window: '24h', ...fields } as never)
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))
const LONG = 'x'.repeat(10_000)

interface Row {
  name: string
  run: () => Promise<unknown>
  /** The message must contain this. */
  says: string
  /** OpenAI envelope `param` (OpenAI rows only). */
  param?: string
}

const OPENAI_ROWS: Row[] = [
  { name: '17 metadata keys', run: () => create({ metadata: keys(17) }), says: 'metadata: at most 16 keys', param: 'metadata' },
  { name: 'metadata key of 70 characters', run: () => create({ metadata: { ['k'.repeat(70)]: 'v' } }), says: 'metadata: keys are 1 to 64 characters', param: 'metadata' },
  { name: 'metadata value too long', run: () => create({ metadata: { a: LONG } }), says: 'metadata.a: at most 512 characters (got 10000)', param: 'metadata.a' },
  { name: 'metadata value a number', run: () => create({ metadata: { a: 1 } }), says: 'metadata.a: expected a string, got a number', param: 'metadata.a' },
  { name: 'metadata a string', run: () => create({ metadata: 'tags' }), says: 'metadata: expected an object of strings or null, got a string', param: 'metadata' },
  { name: 'completion_window a number', run: () => create({ completion_window: 24 }), says: 'completion_window: expected a string, got a number', param: 'completion_window' },
  { name: 'input_file_id too long', run: () => create({ input_file_id: LONG }), says: 'input_file_id: at most 256 characters', param: 'input_file_id' },
  { name: 'output_expires_after seconds too small', run: () => create({ output_expires_after: { anchor: 'created_at', seconds: 10 } }), says: 'output_expires_after.seconds: must be an integer from 3600 to 2592000', param: 'output_expires_after.seconds' },
  { name: 'output_expires_after anchor wrong', run: () => create({ output_expires_after: { anchor: 'now', seconds: 3600 } }), says: "output_expires_after.anchor: must be 'created_at' (got 'now')", param: 'output_expires_after.anchor' },
  { name: 'empty model', run: () => create({ model: '' }), says: 'model: must not be empty', param: 'model' },
  { name: 'requests not an array', run: () => create({ input_file_id: '', requests: 'all' }), says: 'requests: expected an array, got a string', param: 'requests' },
  { name: 'missing endpoint', run: () => openai.batches.create({ input_file_id: 'file-abc', completion_window: '24h' } as never), says: "Missing required parameter: 'endpoint'", param: 'endpoint' },
  { name: 'unknown field', run: () => create({ colour: 'red' }), says: "Unrecognized request argument supplied: 'colour'", param: 'colour' },
  { name: 'files.list limit 0', run: () => openai.files.list({ limit: 0 }), says: 'limit: must be an integer from 1 to 10000', param: 'limit' },
  { name: 'files.list order sideways', run: () => openai.files.list({ order: 'sideways' as never }), says: "order: must be one of 'asc', 'desc' (got 'sideways')", param: 'order' },
  { name: 'batches.list limit 101', run: () => openai.batches.list({ limit: 101 }), says: 'limit: must be an integer from 1 to 100', param: 'limit' },
  { name: 'file id of 300 characters', run: () => openai.files.retrieve('f'.repeat(300)), says: 'id: at most 256 characters (got 300)', param: 'id' },
]

const ANTHROPIC_ROWS: Row[] = [
  { name: 'requests not an array', run: () => anthropic.messages.batches.create({ requests: 'all' as never }), says: 'requests: expected an array, got a string' },
  { name: 'requests missing', run: () => anthropic.messages.batches.create({} as never), says: "Missing required parameter: 'requests'" },
  { name: 'unknown field', run: () => anthropic.messages.batches.create({ requests: [batchItem('a')], colour: 'red' } as never), says: "Unrecognized request argument supplied: 'colour'" },
  { name: 'batches.list limit 0', run: () => anthropic.messages.batches.list({ limit: 0 }), says: 'limit: must be an integer from 1 to 1000' },
  { name: 'files.list before_id too long', run: () => anthropic.beta.files.list({ before_id: 'f'.repeat(300) } as never), says: 'before_id: at most 256 characters (got 300)' },
]

/** Wordings of a schema summary rather than a rule. */
const SUMMARY = /should be|Expected union value|\{"type"|Expected kind/i

describe('validation messages name the rule (OpenAI dialect, openai SDK)', () => {
  for (const row of OPENAI_ROWS) {
    test(row.name, async () => {
      const got = await failure(row.run())
      const error = got.error as { message: string; param: string | null; type: string }
      expect(got.status).toBe(400)
      expect(error.type).toBe('invalid_request_error')
      expect(error.message).toContain(row.says)
      expect(error.param).toBe(row.param ?? null)
      expect(error.message).not.toMatch(SUMMARY)
      // The value itself is never echoed: the message stays short whatever was sent.
      expect(error.message.length).toBeLessThan(400)
    })
  }
})

describe('validation messages name the rule (Anthropic dialect, @anthropic-ai/sdk)', () => {
  for (const row of ANTHROPIC_ROWS) {
    test(row.name, async () => {
      const got = await failure(row.run())
      const body = got.error as { type: string; error: { type: string; message: string } }
      expect(got.status).toBe(400)
      expect(body.error.type).toBe('invalid_request_error')
      expect(body.error.message).toContain(row.says)
      expect(body.error.message).not.toMatch(SUMMARY)
      expect(body.error.message.length).toBeLessThan(400)
    })
  }
})

describe('redaction leaves the gateway own guidance intact', () => {
  test('the 401 guidance keeps "Authorization: Bearer <key>" in both dialects', async () => {
    const oa = await call(world.gw.url, '/openai/v1/files', { key: null })
    expect(oa.status).toBe(401)
    expect((oa.json as { error: { message: string } }).error.message).toBe(
      "You didn't provide an API key. Send your batchgate key as 'Authorization: Bearer <key>'.",
    )
    const an = await call(world.gw.url, '/anthropic/v1/files', { key: null })
    expect(an.status).toBe(401)
    expect((an.json as { error: { message: string } }).error.message).toBe('x-api-key header is required (or Authorization: Bearer <key>).')
  })

  test(`a virtual key that is a word ('${WORD_KEY}') does not cut that word out of messages`, async () => {
    const got = await failure(openai.files.list({ provider: 'azure' } as never))
    expect(got.status).toBe(400)
    expect((got.error as { message: string }).message).toBe("Unknown provider 'azure'. Supported providers: openai, anthropic, gemini, bedrock.")
    // The tenant with that key still works, and its key is still a secret where it is one.
    const carol = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: WORD_KEY, maxRetries: 0 })
    expect((await carol.files.list()).data).toEqual([])
  })

  test('env var names and the word "key" survive; real secrets, including short ones, are still cut', () => {
    registerSecrets(['hunter22', 'sk-live-0123456789abcdefghij'])
    const guidance = 'Bedrock uploads need an S3 bucket: send storage_config[s3][bucket] or configure BEDROCK_S3_BUCKET; the key is AWS_SECRET_ACCESS_KEY.'
    expect(redact(guidance)).toBe(guidance)
    expect(redact('Send your batchgate key as Authorization: Bearer <key>.')).toBe('Send your batchgate key as Authorization: Bearer <key>.')
    expect(redact('password hunter22 and hunter222 and xhunter22')).toBe('password [redacted] and hunter222 and xhunter22')
    expect(redact('upstream said: bad key sk-live-0123456789abcdefghij.')).toBe('upstream said: bad key [redacted].')
    expect(redact('authorization: Bearer abc.def')).toBe('authorization: Bearer [redacted]')
    expect(redact('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe('Authorization: Basic [redacted]')
    expect(redact('x-api-key: sk-ant-123')).toBe('x-api-key: [redacted]')
  })
})
