// Starts every provider fake and returns them with the gateway environment that points at them,
// so an end-to-end test needs one call to get a whole world of upstreams.

import { type AnthropicFake, startAnthropicFake } from './anthropic'
import { type BedrockFake, startBedrockFake } from './bedrock'
import { type GeminiFake, startGeminiFake } from './gemini'
import { type OpenAIFake, startOpenAIFake } from './openai'
import { type S3Fake, startS3Fake } from './s3'

export interface AllFakes {
  openai: OpenAIFake
  anthropic: AnthropicFake
  gemini: GeminiFake
  s3: S3Fake
  bedrock: BedrockFake
  /** Environment for startGateway: every provider configured against its fake. */
  env: Record<string, string>
  close(): Promise<void>
}

export const TEST_BUCKET = 'batchgate-test'
export const TEST_ROLE_ARN = 'arn:aws:iam::123456789012:role/BedrockBatch'

export function startAllFakes(opts: { autoAdvance?: boolean } = {}): AllFakes {
  const openai = startOpenAIFake({ autoAdvance: opts.autoAdvance })
  const anthropic = startAnthropicFake({ autoAdvance: opts.autoAdvance })
  const gemini = startGeminiFake({ autoAdvance: opts.autoAdvance })
  const s3 = startS3Fake({ buckets: [TEST_BUCKET, 'batchgate-other'] })
  const bedrock = startBedrockFake({ s3, autoAdvance: opts.autoAdvance })
  const env = {
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: anthropic.url,
    GEMINI_API_KEY: 'gemini-test-key',
    GEMINI_BASE_URL: gemini.url,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret-test',
    AWS_REGION: 'us-east-1',
    BEDROCK_BASE_URL: bedrock.url,
    S3_ENDPOINT: s3.url,
    BEDROCK_S3_BUCKET: TEST_BUCKET,
    BEDROCK_ROLE_ARN: TEST_ROLE_ARN,
  }
  return {
    openai,
    anthropic,
    gemini,
    s3,
    bedrock,
    env,
    close: async () => {
      await Promise.all([openai.close(), anthropic.close(), gemini.close(), bedrock.close(), s3.close()])
    },
  }
}
