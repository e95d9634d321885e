// Official Anthropic SDKs (1.x and 0.x) → batchgate → the Bedrock + S3 fakes
// (`x-model-provider: bedrock`): inline requests become model-invocation records in
// BEDROCK_S3_BUCKET and a batch inference job; results come back as Anthropic result lines.
// Uploads land in the default bucket unchanged.

import { expect } from 'bun:test'
import { TEST_BUCKET } from '../fakes/start'
import { anthropicSdkSuite } from './anthropic-sdk-workflow'

anthropicSdkSuite({
  provider: 'bedrock',
  model: 'anthropic.claude-3-haiku-20240307-v1:0',
  upload: { name: 'notes.txt', content: 'Bedrock keeps this in S3.\n', type: 'text/plain' },
  downloadable: true,
  checkUpload: async (fakes, file) => {
    const key = `batchgate-input/${file.id}.jsonl`
    expect(await fakes.s3.getObjectText(TEST_BUCKET, key)).toBe('Bedrock keeps this in S3.\n')
  },
})
