// Official `openai` client → batchgate → Gemini fake: the seed's Gemini workflow, with results
// read back as OpenAI output/error files and OpenAI statuses only.

import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, openaiWorld, uploadBatchFile } from './openai-seed'

const MODEL = 'gemini-2.0-flash'

const world = openaiWorld()

describe('openai sdk → gemini', () => {
  test('seed workflow: upload converts to Gemini requests, batch results come back as OpenAI files', async () => {
    const input = jsonl(
      chatLine('req-1', 'What is 2+2?', MODEL),
      JSON.stringify({
        custom_id: 'req-2',
        method: 'POST',
        url: '/v1/chat/completions',
        body: {
          model: MODEL,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'What is the capital of France?' },
          ],
          max_tokens: 100,
          temperature: 0.2,
        },
      }),
      chatLine('req-3', 'FAIL this one', MODEL),
    )
    const file = await uploadBatchFile(world.client, input, { provider: 'gemini' })
    expect(file.id).toMatch(/^file-/)
    expect(file.purpose).toBe('batch')
    // What Gemini stored is its own request format, keyed by custom_id.
    const stored = [...world.fakes.gemini.files.values()].at(-1)
    const first = JSON.parse((await world.fakes.gemini.readFileText(stored?.name as string)).split('\n')[1] as string)
    expect(first).toEqual({
      key: 'req-2',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'What is the capital of France?' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { maxOutputTokens: 100, temperature: 0.2 },
      },
    })

    const created = await world.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      provider: 'gemini',
      model: MODEL,
    } as never)
    expect(created.status).toBe('validating')
    const { batch, seen } = await pollToEnd(world.client, created.id, { provider: 'gemini' })
    expect(seen).toEqual(['in_progress', 'completed'])
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 })
    const { answers, errors } = await readResults(world.client, batch)
    expect(answers).toEqual({ 'req-1': 'Reply to: What is 2+2?', 'req-2': 'Reply to: What is the capital of France?' })
    expect(Object.keys(errors)).toEqual(['req-3'])
    expect(errors['req-3']?.status_code).toBe(400)

    const listed = await world.client.batches.list({ provider: 'gemini' } as never)
    expect(listed.data.map((b) => b.id)).toContain(batch.id)
    expect(listed.data.every((b) => ['validating', 'in_progress', 'finalizing', 'completed', 'failed', 'expired', 'cancelling', 'cancelled'].includes(b.status))).toBe(true)
  })

  test('cancel goes straight to cancelled (Gemini has no cancelling state)', async () => {
    world.fakes.gemini.autoAdvance = false
    try {
      const file = await uploadBatchFile(world.client, jsonl(chatLine('c-1', 'hello', MODEL)), { provider: 'gemini' })
      const created = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never)
      const cancelled = await world.client.batches.cancel(created.id)
      expect(cancelled.status).toBe('cancelled')
    } finally {
      world.fakes.gemini.autoAdvance = true
    }
  })

  test('create without model is a 400 naming model', async () => {
    const file = await uploadBatchFile(world.client, jsonl(chatLine('m-1', 'x', MODEL)), { provider: 'gemini' })
    const err = await errorOf(world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    expect(err.status).toBe(400)
    expect(err.error).toMatchObject({ param: 'model' })
  })

  test('a line whose body cannot be converted is a 400 naming the field and line', async () => {
    const err = await errorOf(
      uploadBatchFile(world.client, jsonl(chatLine('ok', 'x', MODEL), chatLine('bad', 'y', MODEL, { n: 3 })), { provider: 'gemini' }),
    )
    expect(err.status).toBe(400)
    expect(err.message).toContain('line 2')
    expect(err.message).toContain('n')
  })

  test('upstream 429 on create is surfaced and nothing is recorded', async () => {
    const file = await uploadBatchFile(world.client, jsonl(chatLine('q-1', 'x', MODEL)), { provider: 'gemini' })
    const before = (await world.client.batches.list({ limit: 100 })).data.length
    world.fakes.gemini.faults.add({ status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }, match: (_r, u) => u.pathname.includes(':batchGenerateContent') })
    const err = await errorOf(world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never))
    expect(err.status).toBe(429)
    expect(err.message).toContain('Quota exceeded')
    expect((await world.client.batches.list({ limit: 100 })).data.length).toBe(before)
  })
})
