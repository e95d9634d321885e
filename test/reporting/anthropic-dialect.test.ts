// Message Batches created through the official @anthropic-ai/sdk on all four providers and never
// polled by it: the watcher ends them, usage is settled equal to the sums of their results, and
// the receiver gets one verified batch.<status> webhook per batch with its msgbatch_ id.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import type { Gateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'
import { eventually, type Receiver, startReceiver } from './receiver'
import { setAutoAdvance, startWatchedGateway } from './watched-gateway'

interface Lane {
  provider: 'openai' | 'anthropic' | 'gemini' | 'bedrock'
  model: string
  expire(fakes: AllFakes, upstreamId: string): Promise<unknown> | unknown
}

const LANES: Lane[] = [
  { provider: 'anthropic', model: 'claude-3-haiku-20240307', expire: (f, id) => f.anthropic.expire(id) },
  { provider: 'openai', model: 'gpt-4o-mini', expire: (f, id) => f.openai.expire(id) },
  { provider: 'gemini', model: 'gemini-2.0-flash', expire: (f, id) => f.gemini.expire(id) },
  { provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0', expire: (f, id) => f.bedrock.expire(id) },
]
type Ending = 'completed' | 'expired' | 'cancelled'
const ENDINGS: Ending[] = ['completed', 'expired', 'cancelled']

let fakes: AllFakes
let gw: Gateway
let receiver: Receiver
const made: Array<{ lane: Lane; ending: Ending; id: string }> = []
const sdk = (lane: Lane) =>
  new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: 'open', maxRetries: 0, defaultHeaders: { 'x-model-provider': lane.provider } })

const setAdvance = (on: boolean) => setAutoAdvance(fakes, on)

beforeAll(async () => {
  fakes = startAllFakes()
  receiver = startReceiver()
  gw = await startWatchedGateway(fakes, receiver)
  setAdvance(false)
  for (const lane of LANES) {
    for (const ending of ENDINGS) {
      const params = (prompt: string) => ({ model: lane.model, max_tokens: 50, messages: [{ role: 'user' as const, content: prompt }] })
      const batch = await sdk(lane).messages.batches.create({
        requests: [
          { custom_id: `${ending}-1`, params: params('What is 2+2?') },
          { custom_id: `${ending}-2`, params: params('Name three colours in one line.') },
          { custom_id: `${ending}-3`, params: params('FAIL this one') },
        ],
      })
      if (ending === 'expired') await lane.expire(fakes, (await gw.store.batches.get(batch.id, 'default'))?.upstreamId as string)
      if (ending === 'cancelled') await sdk(lane).messages.batches.cancel(batch.id)
      made.push({ lane, ending, id: batch.id })
    }
  }
  setAdvance(true)
  gw.services.watcher.start()
  await eventually(async () => (await Promise.all(made.map((m) => gw.store.batches.get(m.id, 'default')))).every((b) => b?.usage), 20_000, 'settled')
  await eventually(() => made.every((m) => receiver.eventsFor(m.id).length > 0), 20_000, 'webhooks')
})

afterAll(async () => {
  await gw.services.watcher.stop()
  await gw.close()
  await fakes.close()
  receiver.close()
})

describe('watcher + settlement through the Anthropic dialect', () => {
  for (const lane of LANES) {
    for (const ending of ENDINGS) {
      test(`${lane.provider}: a ${ending} message batch settles to the sums of its results; one msgbatch_ webhook`, async () => {
        const { id } = made.find((m) => m.lane === lane && m.ending === ending) as (typeof made)[number]
        const client = sdk(lane)
        const batch = await client.messages.batches.retrieve(id)
        expect(batch.processing_status).toBe('ended')
        const sums = { input: 0, output: 0, succeeded: 0, errored: 0, expired: 0, canceled: 0 }
        for await (const r of await client.messages.batches.results(id)) {
          sums[r.result.type]++
          if (r.result.type === 'succeeded') {
            sums.input += r.result.message.usage.input_tokens
            sums.output += r.result.message.usage.output_tokens
          }
        }
        // The SDK's counts, the results and the settled usage agree.
        expect(batch.request_counts).toMatchObject({ succeeded: sums.succeeded, errored: sums.errored, expired: sums.expired, canceled: sums.canceled })
        const usage = (await gw.store.batches.get(id, 'default'))?.usage
        const total = (k: 'succeeded' | 'errored' | 'expired' | 'cancelled' | 'inputTokens' | 'outputTokens') =>
          usage?.models.reduce((n, m) => n + m[k], 0)
        expect([total('succeeded'), total('errored'), total('expired'), total('cancelled')]).toEqual([sums.succeeded, sums.errored, sums.expired, sums.canceled])
        expect([total('inputTokens'), total('outputTokens')]).toEqual([sums.input, sums.output])
        expect(usage?.badLines).toBe(0)
        if (ending === 'completed') expect(sums.succeeded).toBe(2)

        const events = receiver.eventsFor(id)
        expect(events).toHaveLength(1)
        expect(id).toMatch(/^msgbatch_/)
        expect(events[0]?.event).toMatchObject({ object: 'event', type: `batch.${ending}`, data: { id } })
      })
    }
  }
})
