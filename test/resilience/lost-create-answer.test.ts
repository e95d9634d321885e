// A create whose answer is lost after the provider made the batch (the connection drops once the
// upstream has done the work) must not leave a billed batch nobody can see: the gateway finds it
// by its own id and hands it to the caller as if the answer had arrived.

import { describe, expect, test } from 'bun:test'
import { chatLine, jsonl, openaiWorld, uploadBatchFile } from '../e2e/openai-seed'

const world = openaiWorld()

describe('a create whose answer is lost', () => {
  test('openai: the batch made upstream is adopted, not orphaned', async () => {
    const file = await uploadBatchFile(world.client, jsonl(chatLine('l-1', 'hello', 'gpt-4o-mini')))
    const before = world.fakes.openai.batches.size
    world.fakes.openai.faults.add({ afterHandler: true, drop: true, match: (r, u) => r.method === 'POST' && u.pathname === '/v1/batches' })
    const batch = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(world.fakes.openai.batches.size).toBe(before + 1)
    expect(batch.id).toMatch(/^batch_/)
    expect((await world.client.batches.retrieve(batch.id)).id).toBe(batch.id)
  })

  test('gemini: the same through the REST adapter', async () => {
    const file = await uploadBatchFile(world.client, jsonl(chatLine('g-1', 'hello', 'gemini-2.0-flash')), { provider: 'gemini' })
    const before = world.fakes.gemini.batches.size
    world.fakes.gemini.faults.add({ afterHandler: true, drop: true, match: (_r, u) => u.pathname.endsWith(':batchGenerateContent') })
    const batch = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'gemini-2.0-flash' } as never)
    expect(world.fakes.gemini.batches.size).toBe(before + 1)
    const listed = await world.client.batches.list({ limit: 100 })
    expect(listed.data.filter((b) => b.id === batch.id)).toHaveLength(1)
  })

  test('a dropped answer to a read is a 502 from the provider, not a gateway 500', async () => {
    const file = await uploadBatchFile(world.client, jsonl(chatLine('d-1', 'hello', 'gemini-2.0-flash')), { provider: 'gemini' })
    const batch = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: 'gemini-2.0-flash' } as never)
    world.fakes.gemini.faults.add({ afterHandler: true, drop: true, times: 3, match: (r, u) => r.method === 'GET' && u.pathname.includes('/batches/') })
    const res = await fetch(`${world.gw.url}/openai/batches/${batch.id}`)
    expect(res.status).toBe(502)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('server_error')
    expect(body.error.message).toContain('gemini')
  })
})
