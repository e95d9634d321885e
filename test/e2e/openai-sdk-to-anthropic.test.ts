// Official `openai` client → batchgate → Anthropic fake: the seed's inline-requests workflow,
// plus what the seed lacks — an uploaded OpenAI JSONL converted to Message Batch requests —
// with results read back as OpenAI output/error files.

import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, openaiWorld, uploadBatchFile } from './openai-seed'

const MODEL = 'claude-3-sonnet-20240229'

const world = openaiWorld()

describe('openai sdk → anthropic', () => {
  test('seed workflow: inline requests, OpenAI statuses only', async () => {
    const requests = [
      { custom_id: 'math-question', params: { model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'What is 15 * 7?' }] } },
      { custom_id: 'geography-question', params: { model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'What is the largest ocean?' }] } },
    ]
    const created = await world.client.batches.create({
      input_file_id: '',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      provider: 'anthropic',
      requests,
    } as never)
    expect(created.id).toMatch(/^batch_/)
    const { batch, seen } = await pollToEnd(world.client, created.id, { provider: 'anthropic' })
    expect(seen).not.toContain('ended')
    expect(batch.status).toBe('completed')
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
    const { answers } = await readResults(world.client, batch)
    expect(answers).toEqual({ 'math-question': 'Reply to: What is 15 * 7?', 'geography-question': 'Reply to: What is the largest ocean?' })
    expect(batch.error_file_id).toBeNull()
  })

  test('an uploaded OpenAI JSONL is kept by the gateway and converted at create', async () => {
    const file = await uploadBatchFile(
      world.client,
      jsonl(chatLine('u-1', 'first', MODEL), chatLine('u-2', 'FAIL second', MODEL)),
      { provider: 'anthropic' },
    )
    const created = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    const { batch } = await pollToEnd(world.client, created.id)
    expect(batch.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    const { answers, errors } = await readResults(world.client, batch)
    expect(answers).toEqual({ 'u-1': 'Reply to: first' })
    expect(Object.keys(errors)).toEqual(['u-2'])
    // The stored input is still the caller's own OpenAI JSONL.
    expect(await (await world.client.files.content(file.id)).text()).toContain('"custom_id":"u-1"')
  })

  test('cancel: cancelling, then cancelled with the unprocessed requests in the error file', async () => {
    world.fakes.anthropic.autoAdvance = false
    try {
      const created = await world.client.batches.create({
        input_file_id: '',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        provider: 'anthropic',
        requests: [{ custom_id: 'x1', params: { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } }],
      } as never)
      expect((await world.client.batches.cancel(created.id)).status).toBe('cancelling')
      const upstream = [...world.fakes.anthropic.batches.keys()].at(-1) as string
      world.fakes.anthropic.finish(upstream)
      const done = await world.client.batches.retrieve(created.id)
      expect(done.status).toBe('cancelled')
      const { errors } = await readResults(world.client, done)
      expect(errors).toEqual({ x1: { status_code: null, code: 'batch_cancelled' } })
    } finally {
      world.fakes.anthropic.autoAdvance = true
    }
  })

  test('neither requests nor a usable input_file_id is a 400', async () => {
    const err = await errorOf(
      world.client.batches.create({ input_file_id: '', endpoint: '/v1/chat/completions', completion_window: '24h', provider: 'anthropic' } as never),
    )
    expect(err.status).toBe(400)
    const empty = await errorOf(
      world.client.batches.create({ input_file_id: '', endpoint: '/v1/chat/completions', completion_window: '24h', provider: 'anthropic', requests: [] } as never),
    )
    expect(empty.status).toBe(400)
  })

  test('upstream 500 on create is surfaced and nothing is recorded', async () => {
    world.fakes.anthropic.faults.add({ status: 500, body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, match: (r, u) => r.method === 'POST' && u.pathname === '/v1/messages/batches' })
    const before = (await world.client.batches.list({ limit: 100 })).data.length
    const err = await errorOf(
      world.client.batches.create({
        input_file_id: '',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        provider: 'anthropic',
        requests: [{ custom_id: 'e1', params: { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } }],
      } as never),
    )
    expect(err.status).toBe(500)
    expect((await world.client.batches.list({ limit: 100 })).data.length).toBe(before)
  })
})
