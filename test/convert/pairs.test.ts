import { describe, expect, test } from 'bun:test'
import {
  chatRequestWriter,
  REQUEST_PARSERS,
  REQUEST_SERIALIZERS,
  RESULT_PARSERS,
  RESULT_WRITERS,
  requestItemWriter,
  requestLineWriter,
  resultLineParser,
  resultLineWriter,
} from '../../src/convert/pairs'
import { chatToAnthropicParams } from '../../src/convert/bodies/anthropic-params'
import { chatToOpenAIBody } from '../../src/convert/bodies/openai-body'
import { ANTHROPIC_PARAMS_FIELDS } from '../../src/convert/requests/anthropic-fields'
import { anthropicRequestToChat } from '../../src/convert/requests/anthropic-request'
import { OPENAI_CHAT_FIELDS } from '../../src/convert/requests/openai-fields'
import { openaiChatBodyToChat, parseOpenAIBatchLine } from '../../src/convert/requests/openai-line'
import { expectGatewayError } from './helpers'

const chatBody = { model: 'm', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }], max_tokens: 50, temperature: 0.3 }
const openaiLine = { custom_id: 'req-1', method: 'POST', url: '/v1/chat/completions', body: chatBody }
const parsed = parseOpenAIBatchLine(openaiLine, 1)

describe('requestLineWriter (OpenAI upload lines → provider lines)', () => {
  const ROWS: Array<{ target: keyof typeof REQUEST_SERIALIZERS; model: string; expected: unknown }> = [
    { target: 'openai-line', model: 'm', expected: openaiLine },
    {
      target: 'anthropic-item',
      model: 'm',
      expected: { custom_id: 'req-1', params: { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], system: 'S', temperature: 0.3 } },
    },
    {
      target: 'gemini-line',
      model: 'm',
      expected: { key: 'req-1', request: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], systemInstruction: { parts: [{ text: 'S' }] }, generationConfig: { maxOutputTokens: 50, temperature: 0.3 } } },
    },
    {
      target: 'bedrock-record',
      model: 'anthropic.claude-3-haiku-20240307-v1:0',
      expected: { recordId: 'reqZ2D1', modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], system: 'S', temperature: 0.3 } },
    },
  ]
  for (const row of ROWS) {
    test(row.target, () => {
      const line = { ...parsed, body: { ...parsed.body, model: row.model } }
      const text = requestLineWriter(row.target)(line, 1)
      expect(JSON.parse(text)).toEqual(row.expected)
    })
  }

  test('OpenAI → OpenAI passes any endpoint and field through', () => {
    const embedding = parseOpenAIBatchLine({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: { model: 'x', input: 'y', dimensions: 8 } }, 2)
    expect(JSON.parse(requestLineWriter('openai-line')(embedding, 2))).toEqual({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: { model: 'x', input: 'y', dimensions: 8 } })
  })

  test('other targets refuse non-chat endpoints', () => {
    const embedding = parseOpenAIBatchLine({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: { model: 'x', input: 'y' } }, 2)
    expectGatewayError(() => requestLineWriter('gemini-line')(embedding, 2), { message: 'only /v1/chat/completions requests can be converted', line: 2, param: 'url' })
  })
})

describe('requestItemWriter (Anthropic create items → provider lines)', () => {
  const item = { custom_id: 'req-1', params: { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }], thinking: { type: 'enabled', budget_tokens: 1024 } } }
  test('Anthropic → Anthropic keeps Anthropic-only fields', () => expect(requestItemWriter('anthropic-item')(item, 0)).toEqual(item))
  test('Anthropic → OpenAI rejects them, naming the field', () => {
    expectGatewayError(() => requestItemWriter('openai-line')(item, 3), { message: 'requests.3.params.thinking: cannot be converted', param: 'requests.3.params.thinking' })
  })
  test('Anthropic → OpenAI line', () => {
    const plain = { custom_id: 'req-1', params: { model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] } }
    expect(requestItemWriter('openai-line')(plain, 0)).toEqual({ custom_id: 'req-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 50 } })
  })
  test('Anthropic → Bedrock record with an unsupported model names the model (items have no lines)', () => {
    const plain = { custom_id: 'req-1', params: { model: 'meta.llama3', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] } }
    expectGatewayError(() => requestItemWriter('bedrock-record')(plain, 4), { message: "request 'req-1': model cannot be sent to Bedrock", param: 'model' })
  })
})

describe('tables are complete', () => {
  test('every source, target, result format and dialect has an entry', () => {
    expect(Object.keys(REQUEST_PARSERS).sort()).toEqual(['anthropic-request', 'openai-line'])
    expect(Object.keys(REQUEST_SERIALIZERS).sort()).toEqual(['anthropic-item', 'bedrock-record', 'gemini-line', 'mistral-line', 'openai-line'])
    expect(Object.keys(RESULT_PARSERS).sort()).toEqual(['anthropic-results', 'bedrock-out', 'gemini-responses', 'mistral-output', 'openai-output', 'vertex-predictions'])
    expect(Object.keys(RESULT_WRITERS).sort()).toEqual(['anthropic', 'openai'])
  })
  test('chatRequestWriter writes what the serializer writes', () => {
    const req = REQUEST_PARSERS['openai-line']({ custom_id: 'c1', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } }, 1)
    expect(chatRequestWriter('gemini-line')(req, 1)).toEqual(REQUEST_SERIALIZERS['gemini-line'](req, 1))
  })
})

describe('round trips through the hub', () => {
  test('OpenAI body → ChatRequest → OpenAI body (normalized form)', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
        { role: 'user', content: 'Next' },
      ],
      max_completion_tokens: 9,
      temperature: 0.1,
      top_p: 0.2,
      stop: ['x'],
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      user: 'u',
    }
    expect<unknown>(chatToOpenAIBody(openaiChatBodyToChat('r', body, 1))).toEqual(body)
  })

  test('Anthropic params → ChatRequest → Anthropic params', () => {
    const params = {
      model: 'claude',
      max_tokens: 9,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'bad', is_error: true }] },
      ],
      system: 'S',
      temperature: 0.1,
      top_p: 0.2,
      top_k: 3,
      stop_sequences: ['x'],
      tools: [{ name: 'f', description: 'F', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      metadata: { user_id: 'u' },
    }
    expect<unknown>(chatToAnthropicParams(anthropicRequestToChat({ custom_id: 'r', params }, 0))).toEqual(params)
  })
})

describe('results: upstream format → dialect', () => {
  const anthropicLine = {
    custom_id: 'req-1',
    result: { type: 'succeeded', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'Hi' }], stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 } } },
  }
  test('Anthropic results → OpenAI output line', () => {
    const result = resultLineParser('anthropic-results', { model: null })(anthropicLine, 1)
    expect(resultLineWriter('openai', { created: 1234 })(result)).toEqual({
      id: expect.stringMatching(/^batch_req_[0-9a-f]{16}$/),
      custom_id: 'req-1',
      response: {
        status_code: 200,
        request_id: expect.stringMatching(/^batch_req_/),
        body: {
          id: 'msg_1',
          object: 'chat.completion',
          created: 1234,
          model: 'claude',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', refusal: null }, logprobs: null, finish_reason: 'length' }],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        },
      },
      error: null,
    })
  })
  test('Anthropic results → Anthropic dialect is lossless', () => {
    const result = resultLineParser('anthropic-results', { model: null })(anthropicLine, 1)
    expect(resultLineWriter('anthropic')(result)).toEqual(anthropicLine)
  })
  test('Gemini responses → Anthropic line, batch model as fallback', () => {
    const line = { key: 'k-1', response: { candidates: [{ content: { role: 'model', parts: [{ text: 'Yo' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2 } } }
    const result = resultLineParser('gemini-responses', { model: 'gemini-2.5-flash' })(line, 1)
    expect(resultLineWriter('anthropic')(result)).toEqual({
      custom_id: 'k-1',
      result: {
        type: 'succeeded',
        message: { id: 'msg_gemini_kZ2D1', type: 'message', role: 'assistant', model: 'gemini-2.5-flash', content: [{ type: 'text', text: 'Yo' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 2 } },
      },
    })
  })
  test('Bedrock error record → OpenAI error line', () => {
    const result = resultLineParser('bedrock-out', { model: 'amazon.nova-lite-v1:0' })({ recordId: 'reqZ2D9', modelInput: {}, error: { errorCode: 400, errorMessage: 'bad' } }, 1)
    const line = resultLineWriter('openai')(result)
    expect(line).toEqual({
      id: expect.stringMatching(/^batch_req_/),
      custom_id: 'req-9',
      response: { status_code: 400, request_id: expect.stringMatching(/^batch_req_/), body: { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } } },
      error: null,
    })
  })
})

describe('docs/conversions.md', () => {
  test('documents every OpenAI body field and every Anthropic params field', async () => {
    const doc = await Bun.file(new URL('../../docs/conversions.md', import.meta.url)).text()
    const missing = [...Object.keys(OPENAI_CHAT_FIELDS), ...Object.keys(ANTHROPIC_PARAMS_FIELDS)].filter((k) => !doc.includes(`\`${k}\``))
    expect(missing).toEqual([])
  })
})
