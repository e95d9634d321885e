import { describe, expect, test } from 'bun:test'
import type { ChatRequest } from '../../src/core/chat'
import { anthropicRequestToChat, validateAnthropicRequest } from '../../src/convert/requests/anthropic-request'
import { chatRequest, type ExpectedError, expectGatewayError } from './helpers'

const params = { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }] }
const item = (p: Record<string, unknown>, customId: unknown = 'req-1') => ({ custom_id: customId, params: p })
const MIN: ChatRequest = chatRequest({ model: 'claude-sonnet-4-5', maxTokens: 1024, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] })

const CONVERSIONS: Array<{ name: string; params: Record<string, unknown>; expected: ChatRequest }> = [
  { name: 'minimal params', params, expected: MIN },
  {
    name: 'sampling, stop sequences, system string, metadata, stream false',
    params: { ...params, system: 'Be brief.', temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ['END'], metadata: { user_id: 'u-1' }, stream: false },
    expected: { ...MIN, system: 'Be brief.', temperature: 0.2, topP: 0.9, topK: 40, stop: ['END'], user: 'u-1' },
  },
  {
    name: 'system blocks join; ignored cache hints, service_tier and disabled thinking',
    params: {
      ...params,
      system: [
        { type: 'text', text: 'One.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Two.' },
      ],
      cache_control: { type: 'ephemeral' },
      service_tier: 'standard_only',
      thinking: { type: 'disabled' },
      metadata: { user_id: null },
    },
    expected: { ...MIN, system: 'One.\nTwo.' },
  },
  {
    name: 'content blocks: text, images, tool_use, tool_result (string, blocks, error)',
    params: {
      ...params,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look', cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'a' } }, { type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { q: 'b' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'not' }, { type: 'text', text: 'found' }], is_error: true },
            { type: 'tool_result', tool_use_id: 'toolu_3', is_error: false },
          ],
        },
      ],
      tools: [
        { name: 'lookup', description: 'Find things', input_schema: { type: 'object', properties: { q: { type: 'string' } } }, cache_control: { type: 'ephemeral' } },
        { type: 'custom', name: 'plain', input_schema: { type: 'object' }, strict: false },
      ],
      tool_choice: { type: 'tool', name: 'lookup', disable_parallel_tool_use: false },
    },
    expected: {
      ...MIN,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image', mediaType: 'image/jpeg', data: '/9j/' },
            { type: 'image_url', url: 'https://example.com/a.png' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'a' } },
            { type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { q: 'b' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', toolUseId: 'toolu_1', content: 'found' },
            { type: 'tool_result', toolUseId: 'toolu_2', content: 'not\nfound', isError: true },
            { type: 'tool_result', toolUseId: 'toolu_3', content: '' },
          ],
        },
      ],
      tools: [
        { name: 'lookup', description: 'Find things', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
        { name: 'plain', parameters: { type: 'object' } },
      ],
      toolChoice: { type: 'tool', name: 'lookup' },
    },
  },
  { name: 'tool_choice any', params: { ...params, tool_choice: { type: 'any' } }, expected: { ...MIN, toolChoice: { type: 'any' } } },
  { name: 'tool_choice none', params: { ...params, tool_choice: { type: 'none' } }, expected: { ...MIN, toolChoice: { type: 'none' } } },
  { name: 'tool_choice auto', params: { ...params, tool_choice: { type: 'auto' } }, expected: { ...MIN, toolChoice: { type: 'auto' } } },
]

describe('anthropicRequestToChat', () => {
  for (const row of CONVERSIONS) test(row.name, () => expect(anthropicRequestToChat(item(row.params), 0)).toEqual(row.expected))
})

/** Anthropic's own rules: failed by both validateAnthropicRequest and anthropicRequestToChat. */
const VALIDATION_ERRORS: Array<{ name: string; value: unknown; error: ExpectedError }> = [
  { name: 'item not an object', value: 'x', error: { message: 'requests.2: must be a JSON object', param: 'requests.2' } },
  { name: 'extra item key', value: { ...item(params), method: 'POST' }, error: { message: 'requests.2.method: Extra inputs are not permitted', param: 'requests.2.method' } },
  { name: 'missing custom_id', value: { params }, error: { message: 'requests.2.custom_id: Field required', param: 'requests.2.custom_id' } },
  { name: 'custom_id with a dot', value: item(params, 'a.b'), error: { message: "requests.2.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", param: 'requests.2.custom_id' } },
  { name: 'custom_id of 65 chars', value: item(params, 'x'.repeat(65)), error: { message: 'String should match pattern', param: 'requests.2.custom_id' } },
  { name: 'missing params', value: { custom_id: 'a' }, error: { message: 'requests.2.params: Field required', param: 'requests.2.params' } },
  { name: 'missing model', value: item({ ...params, model: undefined }), error: { message: 'requests.2.params.model: Field required', param: 'requests.2.params.model' } },
  { name: 'missing max_tokens', value: item({ ...params, max_tokens: undefined }), error: { message: 'requests.2.params.max_tokens: Field required', param: 'requests.2.params.max_tokens' } },
  { name: 'max_tokens 0', value: item({ ...params, max_tokens: 0 }), error: { message: 'requests.2.params.max_tokens: must be greater than or equal to 1', param: 'requests.2.params.max_tokens' } },
  { name: 'max_tokens float', value: item({ ...params, max_tokens: 2.5 }), error: { message: 'must be an integer', param: 'requests.2.params.max_tokens' } },
  { name: 'max_tokens null', value: item({ ...params, max_tokens: null }), error: { message: 'valid integer', param: 'requests.2.params.max_tokens' } },
  { name: 'missing messages', value: item({ ...params, messages: undefined }), error: { message: 'Field required', param: 'requests.2.params.messages' } },
  { name: 'empty messages', value: item({ ...params, messages: [] }), error: { message: 'at least 1 item', param: 'requests.2.params.messages' } },
  { name: 'system role message', value: item({ ...params, messages: [{ role: 'system', content: 'x' }] }), error: { message: "Input should be 'user' or 'assistant'", param: 'requests.2.params.messages.0.role' } },
  { name: 'content a number', value: item({ ...params, messages: [{ role: 'user', content: 1 }] }), error: { message: 'valid string or list', param: 'requests.2.params.messages.0.content' } },
  { name: 'block without type', value: item({ ...params, messages: [{ role: 'user', content: [{ text: 'x' }] }] }), error: { message: 'content block with a `type`', param: 'requests.2.params.messages.0.content.0' } },
  { name: 'text block without text', value: item({ ...params, messages: [{ role: 'user', content: [{ type: 'text' }] }] }), error: { message: 'Field required', param: 'requests.2.params.messages.0.content.0.text' } },
  { name: 'stream: true', value: item({ ...params, stream: true }), error: { message: 'streaming is not supported in the Message Batches API', param: 'requests.2.params.stream' } },
  { name: 'temperature 1.5', value: item({ ...params, temperature: 1.5 }), error: { message: 'must be less than or equal to 1', param: 'requests.2.params.temperature' } },
  { name: 'top_k negative', value: item({ ...params, top_k: -1 }), error: { message: 'greater than or equal to 0', param: 'requests.2.params.top_k' } },
  { name: 'stop_sequences with a number', value: item({ ...params, stop_sequences: [1] }), error: { message: 'valid string', param: 'requests.2.params.stop_sequences.0' } },
  { name: 'system image block', value: item({ ...params, system: [{ type: 'image' }] }), error: { message: 'text block', param: 'requests.2.params.system.0' } },
  { name: 'metadata.user_id number', value: item({ ...params, metadata: { user_id: 5 } }), error: { message: 'valid string', param: 'requests.2.params.metadata.user_id' } },
  { name: 'tool_choice without type', value: item({ ...params, tool_choice: {} }), error: { message: 'Field required', param: 'requests.2.params.tool_choice.type' } },
]

describe('Anthropic validation (both entry points)', () => {
  for (const row of VALIDATION_ERRORS) {
    test(`validateAnthropicRequest rejects ${row.name}`, () => expectGatewayError(() => validateAnthropicRequest(row.value, 2), row.error))
    test(`anthropicRequestToChat rejects ${row.name}`, () => expectGatewayError(() => anthropicRequestToChat(row.value, 2), row.error))
  }
})

/** Valid for Anthropic (pass-through keeps them) but not convertible to other providers. */
const CONVERSION_ERRORS: Array<{ name: string; params: Record<string, unknown>; error: ExpectedError }> = [
  { name: 'extended thinking', params: { ...params, thinking: { type: 'enabled', budget_tokens: 2000 } }, error: { message: 'requests.2.params.thinking: cannot be converted to OpenAI, Gemini or Bedrock: extended thinking', param: 'requests.2.params.thinking' } },
  { name: 'mcp_servers', params: { ...params, mcp_servers: [{}] }, error: { message: 'MCP servers exist only on Anthropic', param: 'requests.2.params.mcp_servers' } },
  { name: 'inference_geo', params: { ...params, inference_geo: 'us' }, error: { message: 'data-residency', param: 'requests.2.params.inference_geo' } },
  { name: 'container', params: { ...params, container: 'c' }, error: { message: 'containers', param: 'requests.2.params.container' } },
  { name: 'output_config', params: { ...params, output_config: { effort: 'low' } }, error: { message: 'output configuration', param: 'requests.2.params.output_config' } },
  { name: 'unknown field', params: { ...params, frequency_penalty: 1 }, error: { message: 'unknown field', param: 'requests.2.params.frequency_penalty' } },
  { name: 'document block', params: { ...params, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, error: { message: "content block type 'document' cannot be converted to OpenAI, Gemini or Bedrock", param: 'requests.2.params.messages.0.content.0.type' } },
  { name: 'thinking block', params: { ...params, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: '', signature: '' }] }] }, error: { message: "type 'thinking'", param: 'requests.2.params.messages.0.content.0.type' } },
  { name: 'file image source', params: { ...params, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, error: { message: "image source type 'file'", param: 'requests.2.params.messages.0.content.0.source.type' } },
  { name: 'bmp image', params: { ...params, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'x' } }] }] }, error: { message: 'must be one of image/jpeg', param: 'requests.2.params.messages.0.content.0.source.media_type' } },
  { name: 'citations on a text block', params: { ...params, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', citations: [{}] }] }] }, error: { message: 'citations', param: 'requests.2.params.messages.0.content.0.citations' } },
  { name: 'tool_use input not an object', params: { ...params, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: 'x' }] }] }, error: { message: 'must be a JSON object', param: 'requests.2.params.messages.0.content.0.input' } },
  { name: 'image inside a tool_result', params: { ...params, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: {} }] }] }] }, error: { message: 'only text tool results', param: 'requests.2.params.messages.0.content.0.content.0.type' } },
  { name: 'server tool', params: { ...params, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, error: { message: "tool type 'web_search_20250305' runs on Anthropic's servers", param: 'requests.2.params.tools.0.type' } },
  { name: 'strict tool', params: { ...params, tools: [{ name: 'f', input_schema: {}, strict: true }] }, error: { message: 'strict tool schemas', param: 'requests.2.params.tools.0.strict' } },
  { name: 'tool without input_schema', params: { ...params, tools: [{ name: 'f' }] }, error: { message: 'must be a JSON object', param: 'requests.2.params.tools.0.input_schema' } },
  { name: 'disable_parallel_tool_use', params: { ...params, tool_choice: { type: 'auto', disable_parallel_tool_use: true } }, error: { message: 'cannot be converted to OpenAI, Gemini or Bedrock', param: 'requests.2.params.tool_choice.disable_parallel_tool_use' } },
  { name: 'tool_choice tool without name', params: { ...params, tool_choice: { type: 'tool' } }, error: { message: 'field required', param: 'requests.2.params.tool_choice.name' } },
  { name: 'unknown tool_choice type', params: { ...params, tool_choice: { type: 'some' } }, error: { message: "must be 'auto', 'any', 'none' or 'tool'", param: 'requests.2.params.tool_choice.type' } },
  { name: 'metadata with another key', params: { ...params, metadata: { user_id: 'u', team: 'x' } }, error: { message: 'unknown field', param: 'requests.2.params.metadata.team' } },
]

describe('anthropicRequestToChat conversion errors', () => {
  for (const row of CONVERSION_ERRORS) {
    test(`rejects ${row.name}`, () => expectGatewayError(() => anthropicRequestToChat(item(row.params), 2), row.error))
  }
  test('the same Anthropic-only fields pass validateAnthropicRequest (pass-through)', () => {
    const anthropicOnly = { ...params, thinking: { type: 'enabled', budget_tokens: 2000 }, mcp_servers: [], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }
    expect(validateAnthropicRequest(item(anthropicOnly, 'my_id-9'), 0)).toBe('my_id-9')
  })
})
