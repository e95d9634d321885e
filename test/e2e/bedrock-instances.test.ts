// Two Bedrock instances in one gateway, each with its own default bucket and bucket allowlist, in
// front of the same Bedrock and S3 fakes. Each instance's files land in its own bucket, a bucket
// is accepted only on the instance that lists it (checked again at create, against the instance
// the input file belongs to), and the seed runs through the second instance by name.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { type AllFakes, startAllFakes, TEST_BUCKET, TEST_ROLE_ARN } from '../fakes/start'
import { type ConfigWorld, startConfigWorld } from './config-world'
import { chatLine, errorOf, jsonl, pollToEnd, readResults, uploadBatchFile } from './openai-seed'

const OTHER_BUCKET = 'batchgate-other'
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0'

function bedrockToml(name: string, fakes: AllFakes, bucket: string): string {
  return [
    `[providers.${name}]`,
    'kind = "bedrock"',
    'region = "us-east-1"',
    `base_url = "${fakes.bedrock.url}"`,
    `s3_endpoint = "${fakes.s3.url}"`,
    'access_key_id_env = "AWS_ACCESS_KEY_ID"',
    'secret_access_key_env = "AWS_SECRET_ACCESS_KEY"',
    `role_arn = "${TEST_ROLE_ARN}"`,
    `bucket = "${bucket}"`,
    `buckets = ["${bucket}"]`,
    `default_model = "${MODEL}"`,
    '',
  ].join('\n')
}

describe('two bedrock instances, two buckets', () => {
  let fakes: AllFakes
  let world: ConfigWorld
  let client: OpenAI
  beforeAll(async () => {
    fakes = startAllFakes()
    const toml = bedrockToml('bedrock-a', fakes, TEST_BUCKET) + bedrockToml('bedrock-b', fakes, OTHER_BUCKET)
    world = await startConfigWorld(toml, { AWS_ACCESS_KEY_ID: fakes.env.AWS_ACCESS_KEY_ID as string, AWS_SECRET_ACCESS_KEY: fakes.env.AWS_SECRET_ACCESS_KEY as string })
    client = new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  })
  afterAll(async () => {
    await world.close()
    await fakes.close()
  })

  test("each instance's uploads land in its own default bucket", async () => {
    const before = { a: fakes.s3.listKeys(TEST_BUCKET).length, b: fakes.s3.listKeys(OTHER_BUCKET).length }
    await uploadBatchFile(client, jsonl(chatLine('a-1', 'to a', MODEL)), { provider: 'bedrock-a' })
    expect(fakes.s3.listKeys(TEST_BUCKET).length).toBe(before.a + 1)
    await uploadBatchFile(client, jsonl(chatLine('b-1', 'to b', MODEL)), { provider: 'bedrock-b' })
    expect(fakes.s3.listKeys(OTHER_BUCKET).length).toBe(before.b + 1)
    expect(fakes.s3.listKeys(TEST_BUCKET).length).toBe(before.a + 1)
  })

  test("a bucket is accepted only on the instance that lists it, at upload and at create", async () => {
    const refused = await errorOf(uploadBatchFile(client, jsonl(chatLine('x-1', 'x', MODEL)), { provider: 'bedrock-a', 'storage_config[s3][bucket]': OTHER_BUCKET }))
    expect(refused.status).toBe(400)
    expect(refused.message).toContain('providers.bedrock-a.buckets')
    const ofB = await uploadBatchFile(client, jsonl(chatLine('x-2', 'x', MODEL)), { provider: 'bedrock-b', 'storage_config[s3][bucket]': OTHER_BUCKET })
    // No provider named: the dialect lets the bucket through (bedrock-a lists it), the file's
    // instance (bedrock-b) does not, and nothing reaches Bedrock.
    const jobs = fakes.bedrock.jobs.size
    const create = await errorOf(
      client.batches.create({ input_file_id: ofB.id, endpoint: '/v1/chat/completions', completion_window: '24h', output_s3_uri: `s3://${TEST_BUCKET}/out/` } as never),
    )
    expect(create.status).toBe(400)
    expect(create.error).toMatchObject({ param: 'output_s3_uri' })
    expect(fakes.bedrock.jobs.size).toBe(jobs)
  })

  test('seed workflow through bedrock-b: its default model, results from its bucket', async () => {
    const input = jsonl(chatLine('s-1', 'What is 2+2?', MODEL), chatLine('s-2', 'FAIL here', MODEL))
    const file = await uploadBatchFile(client, input, { provider: 'bedrock-b' })
    // No model in the create: the instance's default_model is used.
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect((await world.gw.store.batches.get(batch.id, 'default'))?.provider).toBe('bedrock-b')
    const { batch: done } = await pollToEnd(client, batch.id)
    expect(done.status).toBe('completed')
    const results = await readResults(client, done)
    expect(results.answers).toEqual({ 's-1': 'Reply to: What is 2+2?' })
    expect(Object.keys(results.errors)).toEqual(['s-2'])
    expect(fakes.s3.listKeys(OTHER_BUCKET).some((k) => k.startsWith('batchgate-output/'))).toBe(true)
  })
})
