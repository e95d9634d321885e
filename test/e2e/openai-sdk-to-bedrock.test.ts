// Official `openai` client → batchgate → Bedrock + S3 fakes: the seed's Bedrock workflow
// (storage_config upload, model + output_s3_uri create) with OpenAI output/error files back.

import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { TEST_BUCKET } from '../fakes/start'
import { startGateway } from './gateway'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, openaiWorld, uploadBatchFile } from './openai-seed'

const MODEL = 'anthropic.claude-3-sonnet-20240229-v1:0'
const storage = { storage_config: { s3: { bucket: TEST_BUCKET, region: 'us-east-1', prefix: 'batch-input' } } }

const world = openaiWorld()

describe('openai sdk → bedrock', () => {
  test('seed workflow: records in S3, a model invocation job, OpenAI result files', async () => {
    const input = jsonl(
      chatLine('req-1', 'What is 2+2?', MODEL),
      chatLine('req_2.b', 'What is the capital of France?', MODEL),
      chatLine('req-3', 'FAIL here', MODEL),
    )
    const file = await uploadBatchFile(world.client, input, { provider: 'bedrock', ...storage })
    expect(file.id).toMatch(/^file-/)
    const keys = world.fakes.s3.listKeys(TEST_BUCKET, 'batch-input/')
    expect(keys).toEqual([`batch-input/${file.id}.jsonl`])
    const record = JSON.parse((await world.fakes.s3.getObjectText(TEST_BUCKET, keys[0] as string)).split('\n')[0] as string)
    expect(record).toEqual({
      recordId: 'reqZ2D1',
      modelInput: {
        anthropic_version: 'bedrock-2023-05-31',
        max_tokens: 100,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }] }],
      },
    })

    // Seed: list/retrieve/content with the provider in extra_query.
    const listed = await world.client.files.list({ provider: 'bedrock', storage_config: storage.storage_config } as never)
    expect(listed.data.map((f) => f.id)).toContain(file.id)
    expect((await world.client.files.retrieve(file.id, { query: { provider: 'bedrock' } } as never)).bytes).toBeGreaterThan(0)

    const created = await world.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      provider: 'bedrock',
      model: MODEL,
      output_s3_uri: `s3://${TEST_BUCKET}/batch-output`,
    } as never)
    expect(created.id).toMatch(/^batch_/)
    expect(JSON.stringify(created)).not.toContain('arn:aws')
    const { batch, seen } = await pollToEnd(world.client, created.id, { provider: 'bedrock' })
    expect(seen.at(-1)).toBe('completed')
    expect(new Set(seen)).toEqual(new Set(['validating', 'in_progress', 'completed']))
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 })
    const { answers, errors } = await readResults(world.client, batch)
    expect(answers).toEqual({ 'req-1': 'Reply to: What is 2+2?', 'req_2.b': 'Reply to: What is the capital of France?' })
    expect(Object.keys(errors)).toEqual(['req-3'])
  })

  test('amazon.nova models get Nova bodies', async () => {
    const nova = 'amazon.nova-lite-v1:0'
    const file = await uploadBatchFile(world.client, jsonl(chatLine('n-1', 'Hello Nova', nova)), { provider: 'bedrock' })
    const created = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '48h', model: nova } as never)
    const { batch } = await pollToEnd(world.client, created.id)
    const { answers } = await readResults(world.client, batch)
    expect(answers).toEqual({ 'n-1': 'Reply to: Hello Nova' })
  })

  test('stop ends cancelled', async () => {
    world.fakes.bedrock.autoAdvance = false
    try {
      const file = await uploadBatchFile(world.client, jsonl(chatLine('s-1', 'x', MODEL)), { provider: 'bedrock' })
      const created = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', model: MODEL } as never)
      // Stop answers Stopping; the fake finishes stopping by the adapter's follow-up GET.
      const cancelling = await world.client.batches.cancel(created.id)
      expect(['cancelling', 'cancelled']).toContain(cancelling.status)
      expect((await world.client.batches.retrieve(created.id)).status).toBe('cancelled')
    } finally {
      world.fakes.bedrock.autoAdvance = true
    }
  })

  test('bad input: no bucket, foreign bucket, unknown family', async () => {
    const noBucket = await startGateway({ ...world.fakes.env, BEDROCK_S3_BUCKET: undefined, BATCHGATE_S3_BUCKETS: TEST_BUCKET })
    try {
      const c = new OpenAI({ baseURL: `${noBucket.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const err = await errorOf(uploadBatchFile(c, jsonl(chatLine('a', 'x', MODEL)), { provider: 'bedrock' }))
      expect(err.status).toBe(400)
      expect(err.error).toMatchObject({ param: 'storage_config' })
    } finally {
      await noBucket.close()
    }
    const foreign = await errorOf(
      uploadBatchFile(world.client, jsonl(chatLine('a', 'x', MODEL)), { provider: 'bedrock', storage_config: { s3: { bucket: 'someone-elses' } } }),
    )
    expect(foreign.status).toBe(400)
    const family = await errorOf(uploadBatchFile(world.client, jsonl(chatLine('a', 'x', MODEL), chatLine('b', 'y', 'meta.llama3-8b')), { provider: 'bedrock' }))
    expect(family.status).toBe(400)
    expect(family.message).toContain('line 2')
  })

  test('a bucket that does not exist surfaces the S3 error', async () => {
    const gw2 = await startGateway({ ...world.fakes.env, BATCHGATE_S3_BUCKETS: `${TEST_BUCKET},missing-bucket` })
    try {
      const c = new OpenAI({ baseURL: `${gw2.url}/openai`, apiKey: 'x', maxRetries: 0 })
      const err = await errorOf(uploadBatchFile(c, jsonl(chatLine('a', 'x', MODEL)), { provider: 'bedrock', storage_config: { s3: { bucket: 'missing-bucket' } } }))
      expect(err.status).toBe(404)
      expect(err.message).toContain('NoSuchBucket')
    } finally {
      await gw2.close()
    }
  })
})
