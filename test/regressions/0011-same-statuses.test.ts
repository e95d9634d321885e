// Issue 11 class 8: same input, same statuses and counts on every provider. Each scenario runs the
// same three requests on every provider that can produce it, in both dialects, and the client must
// see one status and one set of counts per dialect (docs/conversions.md, "Batch statuses and
// counts"). The fakes are driven to each ending the way the real services end a batch.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import type { Dialect } from '../../src/core/provider-name'
import { createBatchOn, FOUR_PROVIDERS, type FourProvider } from '../e2e/any-provider-batch'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'

const PROVIDERS = FOUR_PROVIDERS
type Provider = FourProvider
const DIALECTS: Dialect[] = ['openai', 'anthropic']

interface Seen {
  status: string
  counts: Record<string, number>
}

interface Scenario {
  name: string
  prompts: string[]
  /** Providers that can end a batch this way (Anthropic has no failed state; Gemini never expires part-way). */
  providers: readonly Provider[]
  /** Drives the fake (and the gateway, for a cancel) to the ending. */
  drive: (w: { provider: Provider; dialect: Dialect; id: string; upstreamId: string }) => Promise<void>
  want: Record<Dialect, Seen>
}

let fakes: AllFakes
let gw: Gateway
let openai: OpenAI
let anthropic: Anthropic

const finish = async (provider: Provider, upstreamId: string) => {
  if (provider === 'openai') fakes.openai.finish(upstreamId)
  else if (provider === 'anthropic') fakes.anthropic.finish(upstreamId)
  else if (provider === 'gemini') await fakes.gemini.finish(upstreamId)
  else await fakes.bedrock.finish(upstreamId)
}

const OK = ['one', 'two', 'three']

const SCENARIOS: Scenario[] = [
  {
    name: 'all succeed',
    prompts: OK,
    providers: PROVIDERS,
    drive: ({ provider, upstreamId }) => finish(provider, upstreamId),
    want: {
      openai: { status: 'completed', counts: { total: 3, completed: 3, failed: 0 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 } },
    },
  },
  {
    name: 'some errored',
    prompts: ['one', 'FAIL two', 'three'],
    providers: PROVIDERS,
    drive: ({ provider, upstreamId }) => finish(provider, upstreamId),
    want: {
      openai: { status: 'completed', counts: { total: 3, completed: 2, failed: 1 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 } },
    },
  },
  {
    name: 'expired before any request ran',
    prompts: OK,
    providers: PROVIDERS,
    drive: async ({ provider, upstreamId }) => {
      if (provider === 'openai') fakes.openai.expire(upstreamId)
      else if (provider === 'anthropic') fakes.anthropic.expire(upstreamId)
      else if (provider === 'gemini') await fakes.gemini.expire(upstreamId)
      else fakes.bedrock.expire(upstreamId)
    },
    want: {
      openai: { status: 'expired', counts: { total: 3, completed: 0, failed: 3 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 3 } },
    },
  },
  {
    name: 'expired part-way (2 of 3 ran)',
    prompts: OK,
    providers: ['openai', 'anthropic', 'bedrock'],
    drive: async ({ provider, upstreamId }) => {
      if (provider === 'openai') fakes.openai.expire(upstreamId, 2)
      else if (provider === 'anthropic') {
        fakes.anthropic.advance(upstreamId) // runs the first half: 2 of 3
        fakes.anthropic.expire(upstreamId)
      } else await fakes.bedrock.partiallyComplete(upstreamId, 2)
    },
    want: {
      openai: { status: 'expired', counts: { total: 3, completed: 2, failed: 1 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 1 } },
    },
  },
  {
    name: 'cancelled before any request ran',
    prompts: OK,
    providers: PROVIDERS,
    drive: async ({ provider, dialect, id, upstreamId }) => {
      if (dialect === 'openai') await openai.batches.cancel(id)
      else await anthropic.messages.batches.cancel(id)
      if (provider !== 'gemini' && provider !== 'bedrock') await finish(provider, upstreamId)
    },
    want: {
      openai: { status: 'cancelled', counts: { total: 3, completed: 0, failed: 3 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 0, errored: 0, canceled: 3, expired: 0 } },
    },
  },
  {
    name: 'failed',
    prompts: OK,
    providers: ['gemini', 'bedrock'],
    drive: async ({ provider, upstreamId }) => {
      if (provider === 'gemini') await fakes.gemini.fail(upstreamId, 'The batch could not be processed.')
      else fakes.bedrock.fail(upstreamId, 'The batch could not be processed.')
    },
    want: {
      openai: { status: 'failed', counts: { total: 3, completed: 0, failed: 3 } },
      anthropic: { status: 'ended', counts: { processing: 0, succeeded: 0, errored: 3, canceled: 0, expired: 0 } },
    },
  },
]

beforeAll(async () => {
  fakes = startAllFakes({ autoAdvance: false })
  gw = await startGateway(fakes.env)
  openai = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'open-gateway', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open-gateway', maxRetries: 0 })
})
afterAll(async () => {
  await gw.close()
  await fakes.close()
})

async function seen(dialect: Dialect, id: string): Promise<Seen> {
  for (let i = 0; i < 10; i++) {
    if (dialect === 'openai') {
      const b = await openai.batches.retrieve(id)
      if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return { status: b.status, counts: { ...b.request_counts } }
    } else {
      const b = await anthropic.messages.batches.retrieve(id)
      if (b.processing_status === 'ended') return { status: b.processing_status, counts: { ...b.request_counts } }
    }
  }
  throw new Error(`batch ${id} did not end`)
}

describe('one status and one set of counts per scenario and dialect, whichever provider ran it', () => {
  for (const scenario of SCENARIOS) {
    for (const provider of scenario.providers) {
      for (const dialect of DIALECTS) {
        test(`${scenario.name}: ${provider}, ${dialect} dialect`, async () => {
          const id = await createBatchOn({ openai, anthropic }, provider, dialect, scenario.prompts)
          const upstreamId = (await gw.store.batches.get(id, 'default'))?.upstreamId as string
          await scenario.drive({ provider, dialect, id, upstreamId })
          expect(await seen(dialect, id)).toEqual(scenario.want[dialect])
        })
      }
    }
  }
})
