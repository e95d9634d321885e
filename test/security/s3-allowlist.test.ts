// The S3 allowlist (issue 7 §3): a client may name only buckets in BATCHGATE_S3_BUCKETS (default:
// BEDROCK_S3_BUCKET) in storage_config or output_s3_uri, and only a real region, so the gateway's
// AWS credentials never sign a request for a bucket or host the client picked. Every refusal is a
// 400 before any S3 or Bedrock call.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { TEST_BUCKET } from '../fakes/start'
import { batchLine, call, expectError, MODELS, multipart, startWorld, upstreamRequests, type World } from './world'

const OTHER_BUCKET = 'batchgate-other' // exists on the S3 fake, so only the gateway can refuse it

const line = (id: string) => batchLine(id, { model: MODELS.bedrock })

function bedrockUpload(world: World, fields: Record<string, string>) {
  const form = multipart([
    { name: 'purpose', value: 'batch' },
    { name: 'provider', value: 'bedrock' },
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
    { name: 'file', value: `${line('r-1')}\n`, filename: 'in.jsonl' },
  ])
  return call(world.gw.url, '/openai/v1/files', { body: form.body, headers: form.headers })
}

const createBody = (fileId: string, extra: Record<string, unknown>) => ({
  input_file_id: fileId,
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
  provider: 'bedrock',
  model: MODELS.bedrock,
  ...extra,
})

describe('default allowlist: BEDROCK_S3_BUCKET only', () => {
  let world: World
  let inputFile: string
  beforeAll(async () => {
    world = await startWorld()
    const made = await bedrockUpload(world, {})
    expect(made.status).toBe(200)
    inputFile = (made.json as { id: string }).id
  })
  afterAll(async () => {
    await world.close()
  })

  const refused: Array<[string, Record<string, string>, string]> = [
    ['a bucket outside the list', { 'storage_config[s3][bucket]': OTHER_BUCKET }, 'storage_config[s3][bucket]'],
    ['the same bucket as a JSON field', { storage_config: JSON.stringify({ s3: { bucket: OTHER_BUCKET } }) }, 'storage_config[s3][bucket]'],
    ['an invalid bucket name', { 'storage_config[s3][bucket]': 'Bad_Bucket..name' }, 'storage_config[s3][bucket]'],
    ['a region that is a host', { 'storage_config[s3][region]': 'evil.example.com/#' }, 'storage_config[s3][region]'],
    ['a region with a path', { 'storage_config[s3][region]': 'us-east-1.evil.example.com' }, 'storage_config[s3][region]'],
    ['a prefix climbing out', { 'storage_config[s3][prefix]': '../../other' }, 'storage_config[s3][prefix]'],
    ['an unknown storage key', { 'storage_config[s3][endpoint]': 'http://evil.example.com' }, 'storage_config[s3][endpoint]'],
    ['a storage kind other than s3', { 'storage_config[gcs][bucket]': OTHER_BUCKET }, 'storage_config'],
  ]
  for (const [name, fields, param] of refused) {
    test(`upload storage_config: ${name} → 400 naming ${param}, before any S3 call`, async () => {
      const before = upstreamRequests(world.fakes)
      expectError('openai', await bedrockUpload(world, fields), { status: 400, type: 'invalid_request_error', names: param })
      expect(upstreamRequests(world.fakes)).toEqual(before)
      expect(world.fakes.s3.listKeys(OTHER_BUCKET)).toEqual([])
    })
  }

  const uris: Array<[string, string]> = [
    ['a bucket outside the list', `s3://${OTHER_BUCKET}/out/`],
    ['a bucket that is not a bucket name', 's3://evil.example.com:443/out/'],
    ['not an s3 URI', `https://${TEST_BUCKET}.s3.amazonaws.com/out/`],
    ['a prefix climbing out', `s3://${TEST_BUCKET}/out/../../elsewhere/`],
  ]
  for (const [name, uri] of uris) {
    test(`batch output_s3_uri: ${name} → 400, before any Bedrock or S3 call`, async () => {
      const before = upstreamRequests(world.fakes)
      const reply = await call(world.gw.url, '/openai/v1/batches', { json: createBody(inputFile, { output_s3_uri: uri }) })
      expectError('openai', reply, { status: 400, type: 'invalid_request_error', names: 'output_s3_uri' })
      expect(upstreamRequests(world.fakes)).toEqual(before)
      expect(world.fakes.bedrock.jobs.size).toBe(0)
    })
  }

  test('the listed bucket is accepted for both', async () => {
    const made = await bedrockUpload(world, { 'storage_config[s3][bucket]': TEST_BUCKET, 'storage_config[s3][region]': 'us-east-1' })
    expect(made.status).toBe(200)
    const created = await call(world.gw.url, '/openai/v1/batches', {
      json: createBody((made.json as { id: string }).id, { output_s3_uri: `s3://${TEST_BUCKET}/out` }),
    })
    expect(created.status).toBe(200)
    expect(world.fakes.bedrock.jobs.size).toBe(1)
  })
})

describe('BATCHGATE_S3_BUCKETS names the buckets', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld({ BATCHGATE_S3_BUCKETS: OTHER_BUCKET })
  })
  afterAll(async () => {
    await world.close()
  })

  test('a listed bucket is used; the default bucket, when named by the client, is refused', async () => {
    const made = await bedrockUpload(world, { 'storage_config[s3][bucket]': OTHER_BUCKET })
    expect(made.status).toBe(200)
    expect(world.fakes.s3.listKeys(OTHER_BUCKET)).toHaveLength(1)
    const refused = await bedrockUpload(world, { 'storage_config[s3][bucket]': TEST_BUCKET })
    expectError('openai', refused, { status: 400, type: 'invalid_request_error', names: 'storage_config[s3][bucket]' })
  })

  test("the operator's default bucket still takes uploads that name no bucket (Anthropic dialect)", async () => {
    const form = multipart([{ name: 'file', value: 'notes', filename: 'notes.txt' }])
    const reply = await call(world.gw.url, '/anthropic/v1/files', {
      body: form.body,
      headers: { ...form.headers, 'x-model-provider': 'bedrock' },
    })
    expect(reply.status, reply.text).toBe(200)
    expect(world.fakes.s3.listKeys(TEST_BUCKET)).toHaveLength(1)
  })
})
