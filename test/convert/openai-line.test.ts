import { describe, expect, test } from 'bun:test'
import type { ChatRequest } from '../../src/core/chat'
import { openaiChatBodyToChat, openaiLineToChat, parseOpenAIBatchLine } from '../../src/convert/requests/openai-line'
import { chatRequest, type ExpectedError, expectGatewayError } from './helpers'

const user = (text: string) => ({ role: 'user', content: text })

describe('parseOpenAIBatchLine', () => {
  test('accepts a chat line and returns its parts', () => {
    const body = { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100 }
    expect(parseOpenAIBatchLine({ custom_id: 'req-1', method: 'POST', url: '/v1/chat/completions', body }, 1)).toEqual({
      customId: 'req-1',
      method: 'POST',
      url: '/v1/chat/completions',
      body,
    })
  })

  test('accepts other batch endpoints untouched', () => {
    const body = { model: 'text-embedding-3-small', input: 'x' }
    expect(parseOpenAIBatchLine({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body }, 2)).toEqual({
      customId: 'e',
      method: 'POST',
      url: '/v1/embeddings',
      body,
    })
  })

  const valid = { custom_id: 'req-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } }
  const ERRORS: Array<{ name: string; value: unknown; error: ExpectedError }> = [
    { name: 'not an object', value: [1], error: { message: 'line 4: must be a JSON object', line: 4 } },
    { name: 'missing custom_id', value: { ...valid, custom_id: undefined }, error: { message: 'line 4: custom_id: field required', line: 4, param: 'custom_id' } },
    { name: 'empty custom_id', value: { ...valid, custom_id: '' }, error: { message: 'custom_id: must not be empty', param: 'custom_id' } },
    { name: 'numeric custom_id', value: { ...valid, custom_id: 7 }, error: { message: 'custom_id: must be a string', param: 'custom_id' } },
    { name: 'method GET', value: { ...valid, method: 'GET' }, error: { message: "method: must be 'POST'", param: 'method' } },
    { name: 'unknown url', value: { ...valid, url: '/v1/chat' }, error: { message: 'url: must be one of /v1/responses, /v1/chat/completions', param: 'url' } },
    { name: 'body not an object', value: { ...valid, body: 'x' }, error: { message: 'body: must be a JSON object', param: 'body' } },
    { name: 'stream: true', value: { ...valid, body: { stream: true } }, error: { message: 'batch requests cannot stream', line: 4, param: 'body.stream' } },
    { name: 'extra envelope key', value: { ...valid, priority: 1 }, error: { message: 'priority: unknown field', param: 'priority' } },
  ]
  for (const row of ERRORS) test(`rejects ${row.name}`, () => expectGatewayError(() => parseOpenAIBatchLine(row.value, 4), row.error))
})

const MIN: ChatRequest = chatRequest({ model: 'gpt-4o-mini' })

const CONVERSIONS: Array<{ name: string; body: Record<string, unknown>; expected: ChatRequest }> = [
  { name: 'minimal body', body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100 }, expected: MIN },
  {
    name: 'no max tokens stays null',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')] },
    expected: { ...MIN, maxTokens: null },
  },
  {
    name: 'max_completion_tokens, equal max_tokens, sampling, stop string, user',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_completion_tokens: 50, max_tokens: 50, temperature: 1.5, top_p: 0.5, stop: 'END', user: 'u-1' },
    expected: { ...MIN, maxTokens: 50, temperature: 1.5, topP: 0.5, stop: ['END'], user: 'u-1' },
  },
  {
    name: 'stop array and safety_identifier',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100, stop: ['a', 'b'], safety_identifier: 's-1' },
    expected: { ...MIN, stop: ['a', 'b'], user: 's-1' },
  },
  {
    name: 'null values mean unset; harmless defaults and ignored fields are accepted',
    body: {
      model: 'gpt-4o-mini',
      messages: [user('Hi')],
      max_tokens: 100,
      temperature: null,
      seed: null,
      n: 1,
      stream: false,
      logprobs: false,
      presence_penalty: 0,
      frequency_penalty: 0,
      logit_bias: {},
      parallel_tool_calls: true,
      response_format: { type: 'text' },
      modalities: ['text'],
      store: false,
      service_tier: 'auto',
      metadata: { team: 'a' },
      prompt_cache_key: 'k',
      prompt_cache_retention: '24h',
    },
    expected: MIN,
  },
  {
    name: 'system and developer join; images; tool calls; consecutive tool messages merge',
    body: {
      model: 'gpt-4o',
      max_tokens: 10,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }, { type: 'text', text: 'No emoji.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR', detail: 'auto' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: '',
          refusal: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }, { type: 'text', text: 'CET' }] },
        { role: 'user', content: 'Thanks' },
        { role: 'assistant', content: [{ type: 'text', text: 'You are welcome.' }] },
      ],
      tools: [
        { type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false } },
        { type: 'function', function: { name: 'time' } },
      ],
      tool_choice: 'required',
    },
    expected: {
      ...MIN,
      model: 'gpt-4o',
      maxTokens: 10,
      system: 'Be brief.\nUse metric.\nNo emoji.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image', mediaType: 'image/png', data: 'iVBOR' },
            { type: 'image_url', url: 'https://example.com/cat.jpg' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
            { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', toolUseId: 'call_1', content: 'rain' },
            { type: 'tool_result', toolUseId: 'call_2', content: '12:00\nCET' },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'You are welcome.' }] },
      ],
      tools: [
        { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        { name: 'time', parameters: { type: 'object', properties: {} } },
      ],
      toolChoice: { type: 'any' },
    },
  },
  {
    name: 'tool_choice auto / none / named function',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100, tool_choice: { type: 'function', function: { name: 'f' } } },
    expected: { ...MIN, toolChoice: { type: 'tool', name: 'f' } },
  },
  {
    name: 'tool_choice none',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100, tool_choice: 'none' },
    expected: { ...MIN, toolChoice: { type: 'none' } },
  },
  {
    name: 'tool_choice auto',
    body: { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100, tool_choice: 'auto' },
    expected: { ...MIN, toolChoice: { type: 'auto' } },
  },
]

describe('openaiChatBodyToChat', () => {
  for (const row of CONVERSIONS) test(row.name, () => expect(openaiChatBodyToChat('req-1', row.body, 3)).toEqual(row.expected))
})

const base = { model: 'gpt-4o-mini', messages: [user('Hi')], max_tokens: 100 }
const withMessage = (message: unknown) => ({ ...base, messages: [message] })

const BODY_ERRORS: Array<{ name: string; body: Record<string, unknown>; error: ExpectedError }> = [
  { name: 'n: 2', body: { ...base, n: 2 }, error: { message: 'body.n: cannot be converted to Anthropic, Gemini or Bedrock: only n = 1', line: 7, param: 'body.n' } },
  { name: 'logprobs: true', body: { ...base, logprobs: true }, error: { message: 'body.logprobs: cannot be converted', param: 'body.logprobs' } },
  { name: 'top_logprobs', body: { ...base, top_logprobs: 2 }, error: { message: 'body.top_logprobs: cannot be converted', param: 'body.top_logprobs' } },
  { name: 'seed', body: { ...base, seed: 42 }, error: { message: 'body.seed: cannot be converted', param: 'body.seed' } },
  { name: 'presence_penalty', body: { ...base, presence_penalty: 0.5 }, error: { message: 'only 0 can be converted', param: 'body.presence_penalty' } },
  { name: 'frequency_penalty', body: { ...base, frequency_penalty: -1 }, error: { message: 'only 0 can be converted', param: 'body.frequency_penalty' } },
  { name: 'logit_bias', body: { ...base, logit_bias: { '50256': -100 } }, error: { message: 'only {} can be converted', param: 'body.logit_bias' } },
  { name: 'response_format json_schema', body: { ...base, response_format: { type: 'json_schema', json_schema: {} } }, error: { message: 'structured output', param: 'body.response_format' } },
  { name: 'parallel_tool_calls: false', body: { ...base, parallel_tool_calls: false }, error: { message: 'cannot forbid parallel tool calls', param: 'body.parallel_tool_calls' } },
  { name: 'store: true', body: { ...base, store: true }, error: { message: 'store: true asks OpenAI', param: 'body.store' } },
  { name: 'service_tier flex', body: { ...base, service_tier: 'flex' }, error: { message: "only 'auto' or 'default'", param: 'body.service_tier' } },
  { name: 'stream: true', body: { ...base, stream: true }, error: { message: 'batch requests cannot stream', param: 'body.stream' } },
  { name: 'reasoning_effort', body: { ...base, reasoning_effort: 'low' }, error: { message: 'reasoning effort', param: 'body.reasoning_effort' } },
  { name: 'legacy functions', body: { ...base, functions: [] }, error: { message: 'legacy function calling', param: 'body.functions' } },
  { name: 'audio modality', body: { ...base, modalities: ['text', 'audio'] }, error: { message: 'only ["text"]', param: 'body.modalities' } },
  { name: 'unknown field', body: { ...base, temprature: 1 }, error: { message: 'body.temprature: unknown field', param: 'body.temprature' } },
  { name: 'missing model', body: { messages: [user('Hi')] }, error: { message: 'body.model: field required', param: 'body.model' } },
  { name: 'empty messages', body: { ...base, messages: [] }, error: { message: 'body.messages: must contain at least one message', param: 'body.messages' } },
  { name: 'only a system message', body: { ...base, messages: [{ role: 'system', content: 'x' }] }, error: { message: 'at least one user or assistant message', param: 'body.messages' } },
  { name: 'max_tokens 0', body: { ...base, max_tokens: 0 }, error: { message: 'body.max_tokens: must be greater than or equal to 1', param: 'body.max_tokens' } },
  { name: 'max_tokens float', body: { ...base, max_tokens: 1.5 }, error: { message: 'must be an integer', param: 'body.max_tokens' } },
  { name: 'conflicting max tokens', body: { ...base, max_completion_tokens: 5 }, error: { message: 'conflicts with max_tokens', param: 'body.max_completion_tokens' } },
  { name: 'temperature 3', body: { ...base, temperature: 3 }, error: { message: 'must be less than or equal to 2', param: 'body.temperature' } },
  { name: 'stop with a number', body: { ...base, stop: ['a', 1] }, error: { message: 'must be a string', param: 'body.stop.1' } },
  { name: 'user vs safety_identifier', body: { ...base, user: 'a', safety_identifier: 'b' }, error: { message: 'conflicts with user', param: 'body.safety_identifier' } },
  { name: 'function role', body: withMessage({ role: 'function', name: 'f', content: 'x' }), error: { message: "role 'function' cannot be converted", param: 'body.messages.0.role' } },
  { name: 'participant name', body: withMessage({ role: 'user', content: 'x', name: 'bob' }), error: { message: 'participant names', param: 'body.messages.0.name' } },
  { name: 'image detail high', body: withMessage({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'high' } }] }), error: { message: "only 'auto'", param: 'body.messages.0.content.0.image_url.detail' } },
  { name: 'non-base64 data URL', body: withMessage({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:text/plain,hi' } }] }), error: { message: 'base64-encoded images', param: 'body.messages.0.content.0.image_url.url' } },
  { name: 'input_audio part', body: withMessage({ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }), error: { message: "content part type 'input_audio' cannot be converted", param: 'body.messages.0.content.0.type' } },
  { name: 'empty user parts', body: withMessage({ role: 'user', content: [] }), error: { message: 'at least one content part', param: 'body.messages.0.content' } },
  { name: 'image in a system message', body: { ...base, messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }, user('Hi')] }, error: { message: "only 'text'", param: 'body.messages.0.content.0.type' } },
  { name: 'assistant refusal', body: withMessage({ role: 'assistant', content: 'x', refusal: 'no' }), error: { message: 'earlier refusals', param: 'body.messages.0.refusal' } },
  { name: 'empty assistant', body: withMessage({ role: 'assistant', content: null }), error: { message: 'needs content or tool_calls', param: 'body.messages.0' } },
  { name: 'assistant with only an empty string', body: withMessage({ role: 'assistant', content: '' }), error: { message: 'needs content or tool_calls', param: 'body.messages.0' } },
  { name: 'tool arguments not JSON', body: withMessage({ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad' } }] }), error: { message: 'must be a JSON-encoded object', param: 'body.messages.0.tool_calls.0.function.arguments' } },
  { name: 'tool arguments an array', body: withMessage({ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }), error: { message: 'must be a JSON-encoded object', param: 'body.messages.0.tool_calls.0.function.arguments' } },
  { name: 'custom tool call', body: withMessage({ role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', custom: {} }] }), error: { message: 'unknown field', param: 'body.messages.0.tool_calls.0.custom' } },
  { name: 'tool message without id', body: withMessage({ role: 'tool', content: 'x' }), error: { message: 'field required', param: 'body.messages.0.tool_call_id' } },
  { name: 'custom tool', body: { ...base, tools: [{ type: 'custom', custom: { name: 'x' } }] }, error: { message: 'unknown field', param: 'body.tools.0.custom' } },
  { name: 'strict tool', body: { ...base, tools: [{ type: 'function', function: { name: 'f', strict: true } }] }, error: { message: 'strict schema adherence', param: 'body.tools.0.function.strict' } },
  { name: 'allowed_tools tool_choice', body: { ...base, tool_choice: { type: 'allowed_tools', allowed_tools: {} } }, error: { message: 'unknown field', param: 'body.tool_choice.allowed_tools' } },
  { name: 'tool_choice of another type', body: { ...base, tool_choice: { type: 'custom' } }, error: { message: "only 'auto', 'none', 'required' or a named function", param: 'body.tool_choice.type' } },
]

describe('openaiChatBodyToChat errors', () => {
  for (const row of BODY_ERRORS) test(`rejects ${row.name}`, () => expectGatewayError(() => openaiChatBodyToChat('req-1', row.body, 7), row.error))
})

describe('openaiLineToChat', () => {
  test('converts a full line', () => {
    expect(openaiLineToChat({ custom_id: 'req-1', method: 'POST', url: '/v1/chat/completions', body: base }, 1)).toEqual(MIN)
  })
  test('refuses endpoints other than chat completions', () => {
    expectGatewayError(() => openaiLineToChat({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: { model: 'x', input: 'y' } }, 9), {
      message: 'line 9: url: only /v1/chat/completions requests can be converted to another provider, not /v1/embeddings',
      line: 9,
      param: 'url',
    })
  })
})
