// Batches created through the official `openai` client and never polled by it: the watcher
// takes each to its end on all four providers, settles usage once (equal to the sums of the
// result files), and a receiver gets exactly one verified webhook per batch (issue 15).

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import type { Gateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { eventually, type Receiver, startReceiver } from './receiver'
import { setAutoAdvance, startWatchedGateway } from './watched-gateway'

interface Lane {
  provider: 'openai' | 'anthropic' | 'gemini' | 'bedrock'
  model: string
  upload: Record<string, unknown>
  expire(fakes: AllFakes, upstreamId: string): Promise<unknown> | unknown
  /** Ends the batch as failed, where the provider has such an end. */
  fail?(fakes: AllFakes, upstreamId: string): Promise<unknown> | unknown
}

const LANES: Lane[] = [
  { provider: 'openai', model: 'gpt-4o-mini', upload: {}, expire: (f, id) => f.openai.expire(id) },
  { provider: 'anthropic', model: 'claude-3-haiku-20240307', upload: { provider: 'anthropic' }, expire: (f, id) => f.anthropic.expire(id) },
  {
    provider: 'gemini',
    model: 'gemini-2.0-flash',
    upload: { provider: 'gemini' },
    expire: (f, id) => f.gemini.expire(id),
    fail: (f, id) => f.gemini.fail(id, 'internal error'),
  },
  {
    provider: 'bedrock',
    model: 'anthropic.claude-3-haiku-20240307-v1:0',
    upload: { provider: 'bedrock', storage_config: { s3: { bucket: TEST_BUCKET, region: 'us-east-1', prefix: 'reporting' } } },
    expire: (f, id) => f.bedrock.expire(id),
    fail: (f, id) => f.bedrock.fail(id, 'input could not be read'),
  },
]

type Ending = 'completed' | 'expired' | 'cancelled' | 'failed'
const ENDINGS: Ending[] = ['completed', 'expired', 'cancelled', 'failed']
const endings = (lane: Lane) => ENDINGS.filter((e) => e !== 'failed' || lane.fail)

let fakes: AllFakes
let gw: Gateway
let client: OpenAI
let receiver: Receiver
const made: Array<{ lane: Lane; ending: Ending; id: string }> = []

const setAdvance = (on: boolean) => setAutoAdvance(fakes, on)

beforeAll(async () => {
  fakes = startAllFakes()
  receiver = startReceiver()
  gw = await startWatchedGateway(fakes, receiver)
  client = new OpenAI({ baseURL: `${gw.url}/openai`, apiKey: 'x', maxRetries: 0 })
  // Frozen upstreams while the batches are made, so expiry and cancel land before they finish.
  setAdvance(false)
  for (const lane of LANES) {
    for (const ending of endings(lane)) {
      const input = jsonl(
        chatLine(`${ending}-1`, 'What is 2+2?', lane.model),
        chatLine(`${ending}-2`, 'Name a colour, please, in one word.', lane.model),
        chatLine(`${ending}-3`, 'FAIL this one', lane.model),
      )
      const file = await uploadBatchFile(client, input, lane.upload)
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        provider: lane.provider,
        model: lane.model,
      } as never)
      if (ending === 'expired') await lane.expire(fakes, (await gw.store.batches.get(batch.id, 'default'))?.upstreamId as string)
      if (ending === 'cancelled') await client.batches.cancel(batch.id)
      if (ending === 'failed') await lane.fail?.(fakes, (await gw.store.batches.get(batch.id, 'default'))?.upstreamId as string)
      made.push({ lane, ending, id: batch.id })
    }
  }
  setAdvance(true)
  gw.services.watcher.start()
  await eventually(async () => {
    const stored = await Promise.all(made.map((m) => gw.store.batches.get(m.id, 'default')))
    return stored.every((b) => b?.usage)
  }, 20_000, 'every batch settled')
  await eventually(() => made.every((m) => receiver.eventsFor(m.id).length > 0), 20_000, 'a webhook per batch')
})

afterAll(async () => {
  await gw.services.watcher.stop()
  await gw.close()
  await fakes.close()
  receiver.close()
})

/** Sums computed straight from the result files the client can download. */
async function fromResultFiles(batch: OpenAI.Batch) {
  const sums = { input: 0, cached: 0, output: 0, reasoning: 0, succeeded: 0, errored: 0, expired: 0, cancelled: 0 }
  for (const fileId of [batch.output_file_id, batch.error_file_id]) {
    if (!fileId) continue
    const text = await (await client.files.content(fileId)).text()
    for (const line of text.split('\n').filter(Boolean)) {
      const o = JSON.parse(line)
      if (o.response?.status_code === 200) {
        const u = o.response.body.usage
        sums.succeeded++
        sums.input += u.prompt_tokens
        sums.output += u.completion_tokens
        sums.cached += u.prompt_tokens_details?.cached_tokens ?? 0
        sums.reasoning += u.completion_tokens_details?.reasoning_tokens ?? 0
      } else if (o.error?.code === 'batch_expired') sums.expired++
      else if (o.error?.code === 'batch_cancelled') sums.cancelled++
      else sums.errored++
    }
  }
  return sums
}

describe('watcher + settlement through the OpenAI dialect', () => {
  for (const lane of LANES) {
    for (const ending of endings(lane)) {
      test(`${lane.provider}: a ${ending} batch ends without client polls; usage equals its result files`, async () => {
        const { id } = made.find((m) => m.lane === lane && m.ending === ending) as (typeof made)[number]
        const stored = await gw.store.batches.get(id, 'default')
        expect(stored?.snapshot.status).toBe(ending)
        // The status history was recorded by the watcher, ending in the terminal status.
        expect((await gw.store.batches.statusHistory(id)).map((s) => s.status)).toContain(ending)

        const batch = await client.batches.retrieve(id)
        const sums = await fromResultFiles(batch)
        expect(batch.usage).toEqual({
          input_tokens: sums.input,
          input_tokens_details: { cached_tokens: sums.cached },
          output_tokens: sums.output,
          output_tokens_details: { reasoning_tokens: sums.reasoning },
          total_tokens: sums.input + sums.output,
        })
        const usage = stored?.usage
        const total = (k: 'succeeded' | 'errored' | 'expired' | 'cancelled') => usage?.models.reduce((n, m) => n + m[k], 0)
        expect({ succeeded: total('succeeded'), errored: total('errored'), expired: total('expired'), cancelled: total('cancelled') }).toEqual({
          succeeded: sums.succeeded,
          errored: sums.errored,
          expired: sums.expired,
          cancelled: sums.cancelled,
        })
        expect(usage?.badLines).toBe(0)
        // A failed batch never ran: its three requests have no result line and count as missing.
        expect(usage?.missingLines).toBe(ending === 'failed' ? 3 : 0)
        if (ending === 'completed') {
          expect(sums.succeeded).toBe(2)
          expect(sums.errored).toBe(1)
          expect(usage?.costUsd).toBeGreaterThan(0)
        }

        const events = receiver.eventsFor(id)
        expect(events).toHaveLength(1)
        expect(events[0]?.event).toMatchObject({ object: 'event', type: `batch.${ending}`, data: { id } })
        expect(events[0]?.event.id).toMatch(/^evt_/)
      })
    }
  }

  test('no delivery failed verification', () => {
    expect(receiver.rejected).toBe(0)
  })

  test('counters move: tokens and cost per provider and model, deliveries by outcome', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const value = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0)
    for (const lane of LANES) {
      expect(value(new RegExp(`batchgate_tokens_total\\{provider="${lane.provider}",model="[^"]+",kind="input"\\} (\\S+)`, 'g'))).toBeGreaterThan(0)
      expect(value(new RegExp(`batchgate_cost_usd_total\\{provider="${lane.provider}",model="[^"]+"\\} (\\S+)`, 'g'))).toBeGreaterThan(0)
    }
    // The registry is shared by every test file in this process: at least this file's deliveries.
    expect(value(/batchgate_webhook_deliveries_total\{outcome="delivered"\} (\S+)/g)).toBeGreaterThanOrEqual(made.length)
  })
})
