import { describe, expect, test } from 'bun:test'
import { chatToAnthropicItem } from '../../src/convert/requests/to-anthropic-item'
import { bedrockFamily, chatToBedrockRecord } from '../../src/convert/requests/to-bedrock-record'
import { chatToGeminiLine } from '../../src/convert/requests/to-gemini-line'
import { chatToOpenAILine } from '../../src/convert/requests/to-openai-line'
import { chatRequest, type ExpectedError, expectGatewayError } from './helpers'

const HI_ANTHROPIC = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]

describe('line envelopes', () => {
  const ROWS: Array<{ name: string; run: () => unknown; expected: unknown }> = [
    {
      name: 'OpenAI input line',
      run: () => chatToOpenAILine(chatRequest({ customId: 'any id: é', model: 'gpt-4o' })),
      expected: { custom_id: 'any id: é', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100 } },
    },
    {
      name: 'Anthropic item',
      run: () => chatToAnthropicItem(chatRequest({ customId: 'req_1-A', model: 'claude-sonnet-4-5' })),
      expected: { custom_id: 'req_1-A', params: { model: 'claude-sonnet-4-5', max_tokens: 100, messages: HI_ANTHROPIC } },
    },
    {
      name: 'Gemini line keeps the custom_id as key',
      run: () => chatToGeminiLine(chatRequest({ customId: 'any id: é', model: 'gemini-2.5-flash' })),
      expected: { key: 'any id: é', request: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: { maxOutputTokens: 100 } } },
    },
    {
      name: 'Bedrock record, anthropic.* model',
      run: () => chatToBedrockRecord(chatRequest({ customId: 'request-1', model: 'anthropic.claude-3-haiku-20240307-v1:0' })),
      expected: { recordId: 'requestZ2D1', modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: HI_ANTHROPIC } },
    },
    {
      name: 'Bedrock record, cross-region anthropic profile',
      run: () => chatToBedrockRecord(chatRequest({ customId: 'r1', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' })),
      expected: { recordId: 'r1', modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: HI_ANTHROPIC } },
    },
    {
      name: 'Bedrock record, amazon.nova model',
      run: () => chatToBedrockRecord(chatRequest({ customId: 'a b', model: 'amazon.nova-lite-v1:0' })),
      expected: { recordId: 'aZ20b', modelInput: { schemaVersion: 'messages-v1', messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 100 } } },
    },
    {
      name: 'Bedrock record, cross-region Nova profile without max tokens',
      run: () => chatToBedrockRecord(chatRequest({ customId: 'x', model: 'us.amazon.nova-pro-v1:0', maxTokens: null })),
      expected: { recordId: 'x', modelInput: { schemaVersion: 'messages-v1', messages: [{ role: 'user', content: [{ text: 'Hi' }] }] } },
    },
  ]
  for (const row of ROWS) test(row.name, () => expect(row.run()).toEqual(row.expected))
})

describe('bedrockFamily', () => {
  const ROWS: Array<[string, 'anthropic' | 'nova' | null]> = [
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'anthropic'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic'],
    ['eu.anthropic.claude-3-haiku-20240307-v1:0', 'anthropic'],
    ['apac.anthropic.claude-3-haiku-20240307-v1:0', 'anthropic'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic'],
    ['amazon.nova-micro-v1:0', 'nova'],
    ['us.amazon.nova-premier-v1:0', 'nova'],
    ['global.amazon.nova-2-lite-v1:0', 'nova'],
    ['amazon.nova-canvas-v1:0', null],
    ['amazon.nova-reel-v1:1', null],
    ['amazon.nova-sonic-v1:0', null],
    ['amazon.titan-text-express-v1', null],
    ['meta.llama3-70b-instruct-v1:0', null],
    ['xx.anthropic.claude-3', null],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc', null],
  ]
  for (const [model, family] of ROWS) test(`${model} → ${family}`, () => expect(bedrockFamily(model)).toBe(family))
})

describe('target line errors', () => {
  const ROWS: Array<{ name: string; run: () => unknown; error: ExpectedError }> = [
    {
      name: 'Anthropic item with a custom_id outside the pattern',
      run: () => chatToAnthropicItem(chatRequest({ customId: 'req.1' }), 5),
      error: { message: "line 5: custom_id 'req.1' cannot be sent to Anthropic: it must match ^[a-zA-Z0-9_-]{1,64}$", line: 5, param: 'custom_id' },
    },
    {
      name: 'Anthropic item with a 65-character custom_id',
      run: () => chatToAnthropicItem(chatRequest({ customId: 'a'.repeat(65) })),
      error: { message: 'cannot be sent to Anthropic', param: 'custom_id' },
    },
    {
      name: 'Anthropic item without max tokens',
      run: () => chatToAnthropicItem(chatRequest({ maxTokens: null }), 2),
      error: { message: 'max_tokens cannot be sent to Anthropic', line: 2, param: 'max_tokens' },
    },
    {
      name: 'Bedrock record for an unsupported family',
      run: () => chatToBedrockRecord(chatRequest({ model: 'meta.llama3-70b-instruct-v1:0' }), 4),
      error: { message: "line 4 (request 'req-1'): model cannot be sent to Bedrock: batchgate writes request bodies only for anthropic.* and amazon.nova-* text models (optionally with a us./eu./apac./global. inference-profile prefix), not 'meta.llama3-70b-instruct-v1:0'", line: 4, param: 'model' },
    },
    {
      name: 'Bedrock anthropic record without max tokens',
      run: () => chatToBedrockRecord(chatRequest({ model: 'anthropic.claude-3-haiku-20240307-v1:0', maxTokens: null }), 4),
      error: { message: 'max_tokens cannot be sent to Bedrock (anthropic.*)', line: 4, param: 'max_tokens' },
    },
  ]
  for (const row of ROWS) test(row.name, () => expectGatewayError(row.run, row.error))
})
