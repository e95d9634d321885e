// Issue 11 class 9: the same upstream failure gives the same error on every provider, in both
// dialects — one status, envelope type and code per failure kind (unreachable, timeout, reset
// mid-body, rate-limited, upstream 5xx, credentials refused), and a provider's retry-after /
// retry-after-ms passed on from every provider. Each provider's fake answers the way the real
// service does for that failure (its own envelope, headers and status); the table says what the
// client must see. The probe is a batch retrieve, which always asks the upstream while the batch
// is still running.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import type { Dialect } from '../../src/core/provider-name'
import { createBatchOn, FOUR_PROVIDERS, type FourProvider } from '../e2e/any-provider-batch'
import { type Gateway, startGateway } from '../e2e/gateway'
import type { Fault, FakeServer } from '../fakes/harness'
import { type AllFakes, startAllFakes } from '../fakes/start'

const PROVIDERS = FOUR_PROVIDERS
type ProviderName = FourProvider
const DIALECTS: Dialect[] = ['openai', 'anthropic']

type Kind = 'unreachable' | 'timeout' | 'reset mid-body' | 'rate-limited' | 'upstream 5xx' | 'credentials refused'

/** What each provider really sends for an answered failure (status, headers, its own envelope). */
const ANSWERS: Record<'rate-limited' | 'upstream 5xx' | 'credentials refused', Record<ProviderName, Fault>> = {
  'rate-limited': {
    openai: {
      status: 429,
      headers: { 'retry-after': '7', 'retry-after-ms': '7000' },
      body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    },
    anthropic: {
      status: 429,
      headers: { 'retry-after': '7', 'retry-after-ms': '7000' },
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your rate limit' } },
    },
    gemini: {
      status: 429,
      headers: { 'retry-after': '7', 'retry-after-ms': '7000' },
      body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
    },
    bedrock: {
      status: 429,
      headers: { 'retry-after': '7', 'retry-after-ms': '7000', 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
      body: { message: 'Too many requests, please wait before trying again.' },
    },
  },
  'upstream 5xx': {
    openai: { status: 503, body: { error: { message: 'The engine is currently overloaded', type: 'server_error', param: null, code: null } } },
    anthropic: { status: 503, body: { type: 'error', error: { type: 'api_error', message: 'Service unavailable' } } },
    gemini: { status: 503, body: { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } } },
    bedrock: { status: 503, headers: { 'x-amzn-errortype': 'ServiceUnavailableException' }, body: { message: 'Service unavailable' } },
  },
  'credentials refused': {
    openai: {
      status: 401,
      body: { error: { message: 'Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    },
    anthropic: { status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } },
    gemini: {
      status: 400,
      body: {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
        },
      },
    },
    bedrock: {
      status: 403,
      headers: { 'x-amzn-errortype': 'UnrecognizedClientException' },
      body: { message: 'The security token included in the request is invalid.' },
    },
  },
}

function faultFor(kind: Kind, provider: ProviderName): Fault {
  switch (kind) {
    case 'unreachable':
      // Bun's fetch re-sends a GET once when a pooled connection dies before answering.
      return { drop: true, times: 3 }
    case 'timeout':
      return { delayMs: 1500, times: 3 }
    case 'reset mid-body':
      return { truncate: 12, times: 3 }
    default:
      return { ...ANSWERS[kind][provider], times: 3 }
  }
}

interface Seen {
  status: number
  /** OpenAI `error.type` / Anthropic `error.type`. */
  type: string
  /** OpenAI `error.code`; Anthropic envelopes have none. */
  code: string | null
  retryAfter: string | null
  retryAfterMs: string | null
}

const RETRY = { retryAfter: '7', retryAfterMs: '7000' }
const NO_RETRY = { retryAfter: null, retryAfterMs: null }

/** The table: what every provider's failure of this kind looks like to a client. */
const WANT: Record<Kind, Record<Dialect, Seen>> = {
  unreachable: {
    openai: { status: 502, type: 'server_error', code: 'upstream_unreachable', ...NO_RETRY },
    anthropic: { status: 502, type: 'api_error', code: null, ...NO_RETRY },
  },
  timeout: {
    openai: { status: 504, type: 'server_error', code: 'upstream_timeout', ...NO_RETRY },
    anthropic: { status: 504, type: 'timeout_error', code: null, ...NO_RETRY },
  },
  'reset mid-body': {
    openai: { status: 502, type: 'server_error', code: 'upstream_connection_reset', ...NO_RETRY },
    anthropic: { status: 502, type: 'api_error', code: null, ...NO_RETRY },
  },
  'rate-limited': {
    openai: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', ...RETRY },
    anthropic: { status: 429, type: 'rate_limit_error', code: null, ...RETRY },
  },
  'upstream 5xx': {
    openai: { status: 503, type: 'server_error', code: 'upstream_server_error', ...NO_RETRY },
    anthropic: { status: 503, type: 'overloaded_error', code: null, ...NO_RETRY },
  },
  'credentials refused': {
    openai: { status: 502, type: 'server_error', code: 'upstream_credentials_refused', ...NO_RETRY },
    anthropic: { status: 502, type: 'api_error', code: null, ...NO_RETRY },
  },
}

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
let anthropic: Anthropic
/** A running batch per provider × dialect: gateway id and the tail of its upstream id. */
const batches = new Map<string, { id: string; upstreamTail: string }>()

const fakeOf = (provider: ProviderName): FakeServer => fakes[provider]

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway({ ...fakes.env, BATCHGATE_UPSTREAM_RETRIES: '0', BATCHGATE_UPSTREAM_TIMEOUT_MS: '600' })
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open-gateway', maxRetries: 0 })
  for (const provider of PROVIDERS) {
    const viaOpenAI = await createBatchOn({ openai, anthropic }, provider, 'openai')
    const viaAnthropic = await createBatchOn({ openai, anthropic }, provider, 'anthropic')
    for (const [dialect, id] of [['openai', viaOpenAI], ['anthropic', viaAnthropic]] as const) {
      const upstreamId = (await gw.store.batches.get(id, 'default'))?.upstreamId as string
      batches.set(`${provider}/${dialect}`, { id, upstreamTail: upstreamId.slice(upstreamId.lastIndexOf('/') + 1) })
    }
  }
})

afterAll(async () => {
  await gw.close()
  await fakes.close()
})

async function retrieveFailure(dialect: Dialect, id: string): Promise<Seen> {
  try {
    if (dialect === 'openai') await openai.batches.retrieve(id)
    else await anthropic.messages.batches.retrieve(id)
  } catch (err) {
    const e = err as { status?: number; error?: unknown; headers?: Headers }
    if (typeof e.status !== 'number') throw err
    const body = (dialect === 'openai' ? e.error : (e.error as { error?: unknown })?.error) as { type?: string; code?: string | null }
    return {
      status: e.status,
      type: body?.type ?? '',
      code: dialect === 'openai' ? (body?.code ?? null) : null,
      retryAfter: e.headers?.get('retry-after') ?? null,
      retryAfterMs: e.headers?.get('retry-after-ms') ?? null,
    }
  }
  throw new Error('expected the retrieve to fail')
}

describe('failure kind × provider × dialect → one status, type, code and retry headers', () => {
  for (const kind of Object.keys(WANT) as Kind[]) {
    for (const provider of PROVIDERS) {
      for (const dialect of DIALECTS) {
        test(`${kind}: ${provider}, ${dialect} dialect`, async () => {
          const batch = batches.get(`${provider}/${dialect}`)
          if (!batch) throw new Error('batch not created')
          const fake = fakeOf(provider)
          fake.faults.add({
            ...faultFor(kind, provider),
            match: (req, url) => req.method === 'GET' && decodeURIComponent(url.pathname).endsWith(batch.upstreamTail),
          })
          try {
            expect(await retrieveFailure(dialect, batch.id)).toEqual(WANT[kind][dialect])
          } finally {
            fake.faults.clear()
          }
          // The gateway serves on: the same call succeeds once the upstream is well again.
          const again = dialect === 'openai' ? await openai.batches.retrieve(batch.id) : await anthropic.messages.batches.retrieve(batch.id)
          expect(again.id).toBe(batch.id)
        })
      }
    }
  }
})
