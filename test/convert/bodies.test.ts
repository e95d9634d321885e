import { describe, expect, test } from 'bun:test'
import { chatToAnthropicParams, chatToBedrockAnthropic } from '../../src/convert/bodies/anthropic-params'
import { chatToGeminiRequest } from '../../src/convert/bodies/gemini-request'
import { chatToNova } from '../../src/convert/bodies/nova-body'
import { chatToOpenAIBody } from '../../src/convert/bodies/openai-body'
import type { ChatRequest } from '../../src/core/chat'
import { chatRequest, type ExpectedError, expectGatewayError } from './helpers'

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }

/** Every neutral feature at once: system, image, text + tool call, tool result + text, tools. */
const RICH: ChatRequest = chatRequest({
  model: 'X',
  system: 'Be brief.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', mediaType: 'image/png', data: 'iVBOR' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } }] },
    { role: 'user', content: [{ type: 'tool_result', toolUseId: 'call_1', content: 'rain' }, { type: 'text', text: 'And now?' }] },
  ],
  maxTokens: 256,
  temperature: 0.5,
  topP: 0.9,
  stop: ['END'],
  tools: [{ name: 'weather', description: 'Weather by city', parameters: SCHEMA }],
  toolChoice: { type: 'auto' },
  user: 'u-1',
})
const MIN = chatRequest({ model: 'X' })
const TOOLS_ONLY = { tools: [{ name: 'f', parameters: { type: 'object' } }] }
const CALL_AND_ERROR: ChatRequest['messages'] = [
  { role: 'assistant', content: [{ type: 'tool_use', id: 'c9', name: 'f', input: {} }] },
  { role: 'user', content: [{ type: 'tool_result', toolUseId: 'c9', content: 'boom', isError: true }] },
]

const ANTHROPIC_RICH_MESSAGES = [
  { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } }] },
  { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'rain' }, { type: 'text', text: 'And now?' }] },
]
const ANTHROPIC_RICH_REST = {
  system: 'Be brief.',
  temperature: 0.5,
  top_p: 0.9,
  stop_sequences: ['END'],
  tools: [{ name: 'weather', description: 'Weather by city', input_schema: SCHEMA }],
  tool_choice: { type: 'auto' },
}

type Row = { name: string; req: ChatRequest; expected: unknown }

const TARGETS: Array<{ target: string; build: (req: ChatRequest) => unknown; rows: Row[] }> = [
  {
    target: 'chatToOpenAIBody',
    build: (req) => chatToOpenAIBody(req, 1),
    rows: [
      { name: 'minimal', req: MIN, expected: { model: 'X', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100 } },
      {
        name: 'rich',
        req: RICH,
        expected: {
          model: 'X',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }] },
            { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
            { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
            { role: 'user', content: 'And now?' },
          ],
          max_completion_tokens: 256,
          temperature: 0.5,
          top_p: 0.9,
          stop: ['END'],
          tools: [{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: SCHEMA } }],
          tool_choice: 'auto',
          user: 'u-1',
        },
      },
      {
        name: 'image URL, multi-text assistant, tool-only assistant, no max tokens, tool_choice any',
        req: chatRequest({
          model: 'X',
          maxTokens: null,
          messages: [
            { role: 'user', content: [{ type: 'image_url', url: 'https://x/y.png' }] },
            { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
            { role: 'user', content: [{ type: 'text', text: 'c' }, { type: 'text', text: 'd' }] },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { x: 1 } }] },
          ],
          ...TOOLS_ONLY,
          toolChoice: { type: 'any' },
        }),
        expected: {
          model: 'X',
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
            { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
            { role: 'user', content: [{ type: 'text', text: 'c' }, { type: 'text', text: 'd' }] },
            { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
          ],
          tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
          tool_choice: 'required',
        },
      },
      { name: 'tool_choice none', req: chatRequest({ model: 'X', toolChoice: { type: 'none' } }), expected: { model: 'X', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100, tool_choice: 'none' } },
      {
        name: 'tool_choice named',
        req: chatRequest({ model: 'X', ...TOOLS_ONLY, toolChoice: { type: 'tool', name: 'f' } }),
        expected: { model: 'X', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: { type: 'function', function: { name: 'f' } } },
      },
    ],
  },
  {
    target: 'chatToAnthropicParams',
    build: (req) => chatToAnthropicParams(req, 1),
    rows: [
      { name: 'minimal', req: MIN, expected: { model: 'X', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] } },
      { name: 'rich', req: RICH, expected: { model: 'X', max_tokens: 256, messages: ANTHROPIC_RICH_MESSAGES, ...ANTHROPIC_RICH_REST, metadata: { user_id: 'u-1' } } },
      {
        name: 'top_k, URL image, tool error result, named tool_choice',
        req: chatRequest({
          model: 'X',
          topK: 40,
          messages: [{ role: 'user', content: [{ type: 'image_url', url: 'https://x/y.png' }] }, ...CALL_AND_ERROR],
          ...TOOLS_ONLY,
          toolChoice: { type: 'tool', name: 'f' },
        }),
        expected: {
          model: 'X',
          max_tokens: 100,
          top_k: 40,
          messages: [
            { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'c9', name: 'f', input: {} }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c9', content: 'boom', is_error: true }] },
          ],
          tools: [{ name: 'f', input_schema: { type: 'object' } }],
          tool_choice: { type: 'tool', name: 'f' },
        },
      },
      { name: 'tool_choice none', req: chatRequest({ model: 'X', toolChoice: { type: 'none' } }), expected: { model: 'X', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], tool_choice: { type: 'none' } } },
    ],
  },
  {
    target: 'chatToBedrockAnthropic',
    build: (req) => chatToBedrockAnthropic(req, 1),
    rows: [
      { name: 'minimal', req: MIN, expected: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] } },
      // No model (the job names it) and no metadata (Bedrock's Claude body has none): user is ignored.
      { name: 'rich', req: RICH, expected: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages: ANTHROPIC_RICH_MESSAGES, ...ANTHROPIC_RICH_REST } },
      { name: 'tool_choice any', req: chatRequest({ ...TOOLS_ONLY, toolChoice: { type: 'any' } }), expected: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], tools: [{ name: 'f', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } } },
    ],
  },
  {
    target: 'chatToGeminiRequest',
    build: (req) => chatToGeminiRequest(req, 1),
    rows: [
      { name: 'minimal', req: MIN, expected: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: { maxOutputTokens: 100 } } },
      { name: 'no generation settings at all', req: chatRequest({ maxTokens: null }), expected: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] } },
      {
        name: 'rich (user is ignored)',
        req: RICH,
        expected: {
          contents: [
            { role: 'user', parts: [{ text: 'Look' }, { inlineData: { mimeType: 'image/png', data: 'iVBOR' } }] },
            { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { id: 'call_1', name: 'weather', args: { city: 'Oslo' } } }] },
            { role: 'user', parts: [{ functionResponse: { id: 'call_1', name: 'weather', response: { output: 'rain' } } }, { text: 'And now?' }] },
          ],
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          generationConfig: { maxOutputTokens: 256, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
          tools: [{ functionDeclarations: [{ name: 'weather', description: 'Weather by city', parametersJsonSchema: SCHEMA }] }],
          toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
        },
      },
      {
        name: 'top_k, tool error result, named tool_choice',
        req: chatRequest({ topK: 40, messages: CALL_AND_ERROR, ...TOOLS_ONLY, toolChoice: { type: 'tool', name: 'f' } }),
        expected: {
          contents: [
            { role: 'model', parts: [{ functionCall: { id: 'c9', name: 'f', args: {} } }] },
            { role: 'user', parts: [{ functionResponse: { id: 'c9', name: 'f', response: { error: 'boom' } } }] },
          ],
          generationConfig: { maxOutputTokens: 100, topK: 40 },
          tools: [{ functionDeclarations: [{ name: 'f', parametersJsonSchema: { type: 'object' } }] }],
          toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
        },
      },
      { name: 'tool_choice any', req: chatRequest({ toolChoice: { type: 'any' } }), expected: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: { maxOutputTokens: 100 }, toolConfig: { functionCallingConfig: { mode: 'ANY' } } } },
      { name: 'tool_choice none', req: chatRequest({ toolChoice: { type: 'none' } }), expected: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], generationConfig: { maxOutputTokens: 100 }, toolConfig: { functionCallingConfig: { mode: 'NONE' } } } },
    ],
  },
  {
    target: 'chatToNova',
    build: (req) => chatToNova(req, 1),
    rows: [
      { name: 'minimal', req: MIN, expected: { schemaVersion: 'messages-v1', messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 100 } } },
      { name: 'no inference settings', req: chatRequest({ maxTokens: null }), expected: { schemaVersion: 'messages-v1', messages: [{ role: 'user', content: [{ text: 'Hi' }] }] } },
      {
        name: 'rich (user is ignored)',
        req: RICH,
        expected: {
          schemaVersion: 'messages-v1',
          messages: [
            { role: 'user', content: [{ text: 'Look' }, { image: { format: 'png', source: { bytes: 'iVBOR' } } }] },
            { role: 'assistant', content: [{ text: 'Checking.' }, { toolUse: { toolUseId: 'call_1', name: 'weather', input: { city: 'Oslo' } } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: 'rain' }], status: 'success' } }, { text: 'And now?' }] },
          ],
          system: [{ text: 'Be brief.' }],
          inferenceConfig: { maxTokens: 256, temperature: 0.5, topP: 0.9, stopSequences: ['END'] },
          toolConfig: { tools: [{ toolSpec: { name: 'weather', description: 'Weather by city', inputSchema: { json: SCHEMA } } }], toolChoice: { auto: {} } },
        },
      },
      {
        name: 'top_k, jpeg, tool error result, named tool_choice',
        req: chatRequest({
          topK: 40,
          messages: [{ role: 'user', content: [{ type: 'image', mediaType: 'image/jpeg', data: '/9j/' }] }, ...CALL_AND_ERROR],
          ...TOOLS_ONLY,
          toolChoice: { type: 'tool', name: 'f' },
        }),
        expected: {
          schemaVersion: 'messages-v1',
          messages: [
            { role: 'user', content: [{ image: { format: 'jpeg', source: { bytes: '/9j/' } } }] },
            { role: 'assistant', content: [{ toolUse: { toolUseId: 'c9', name: 'f', input: {} } }] },
            { role: 'user', content: [{ toolResult: { toolUseId: 'c9', content: [{ text: 'boom' }], status: 'error' } }] },
          ],
          inferenceConfig: { maxTokens: 100, topK: 40 },
          toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }], toolChoice: { tool: { name: 'f' } } },
        },
      },
      {
        name: 'tools without tool_choice; tool_choice any',
        req: chatRequest({ ...TOOLS_ONLY, toolChoice: { type: 'any' } }),
        expected: { schemaVersion: 'messages-v1', messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 100 }, toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }], toolChoice: { any: {} } } },
      },
    ],
  },
]

for (const { target, build, rows } of TARGETS) {
  describe(target, () => {
    for (const row of rows) test(row.name, () => expect(build(row.req)).toEqual(row.expected))
  })
}

const ERRORS: Array<{ name: string; run: () => unknown; error: ExpectedError }> = [
  { name: 'OpenAI: top_k', run: () => chatToOpenAIBody(chatRequest({ topK: 5 }), 3), error: { message: "line 3 (request 'req-1'): top_k cannot be sent to OpenAI", line: 3, param: 'top_k' } },
  { name: 'OpenAI: tool result marked as error', run: () => chatToOpenAIBody(chatRequest({ messages: CALL_AND_ERROR }), 3), error: { message: 'is_error cannot be sent to OpenAI', param: 'is_error' } },
  { name: 'OpenAI: image in an assistant message', run: () => chatToOpenAIBody(chatRequest({ messages: [{ role: 'assistant', content: [{ type: 'image', mediaType: 'image/png', data: 'x' }] }] }), 3), error: { message: 'image cannot be sent to OpenAI', param: 'image' } },
  { name: 'OpenAI: tool_use in a user message', run: () => chatToOpenAIBody(chatRequest({ messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] })), error: { message: "request 'req-1': tool_use cannot be sent to OpenAI", param: 'tool_use' } },
  { name: 'Anthropic: missing max_tokens', run: () => chatToAnthropicParams(chatRequest({ maxTokens: null }), 3), error: { message: 'max_tokens cannot be sent to Anthropic: it is required there', line: 3, param: 'max_tokens' } },
  { name: 'Bedrock anthropic: missing max_tokens', run: () => chatToBedrockAnthropic(chatRequest({ maxTokens: null }), 3), error: { message: 'max_tokens cannot be sent to Bedrock (anthropic.*)', param: 'max_tokens' } },
  { name: 'Anthropic: temperature above 1', run: () => chatToAnthropicParams(chatRequest({ temperature: 1.5 }), 3), error: { message: 'temperature cannot be sent to Anthropic: it accepts 0 to 1, got 1.5', param: 'temperature' } },
  { name: 'Anthropic: bmp image', run: () => chatToAnthropicParams(chatRequest({ messages: [{ role: 'user', content: [{ type: 'image', mediaType: 'image/bmp', data: 'x' }] }] })), error: { message: 'media type image/bmp', param: 'image' } },
  { name: 'Bedrock anthropic: image URL', run: () => chatToBedrockAnthropic(chatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', url: 'https://x' }] }] })), error: { message: 'image_url cannot be sent to Bedrock (anthropic.*)', param: 'image_url' } },
  { name: 'Gemini: image URL', run: () => chatToGeminiRequest(chatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', url: 'https://x' }] }] })), error: { message: 'image_url cannot be sent to Gemini', param: 'image_url' } },
  { name: 'Gemini: tool result for an unknown call', run: () => chatToGeminiRequest(chatRequest({ messages: [{ role: 'user', content: [{ type: 'tool_result', toolUseId: 'zz', content: 'x' }] }] }), 8), error: { message: "no earlier tool call has id 'zz'", line: 8, param: 'tool_result' } },
  { name: 'Nova: temperature above 1', run: () => chatToNova(chatRequest({ temperature: 2 })), error: { message: 'temperature cannot be sent to Bedrock (amazon.nova)', param: 'temperature' } },
  { name: 'Nova: tool_choice none', run: () => chatToNova(chatRequest({ ...TOOLS_ONLY, toolChoice: { type: 'none' } })), error: { message: "Nova offers auto, any and tool, not 'none'", param: 'tool_choice' } },
  { name: 'Nova: tool_choice without tools', run: () => chatToNova(chatRequest({ toolChoice: { type: 'auto' } })), error: { message: 'toolChoice needs at least one tool', param: 'tool_choice' } },
  { name: 'Nova: image URL', run: () => chatToNova(chatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', url: 'https://x' }] }] })), error: { message: 'image_url cannot be sent to Bedrock (amazon.nova)', param: 'image_url' } },
  { name: 'Nova: bmp image', run: () => chatToNova(chatRequest({ messages: [{ role: 'user', content: [{ type: 'image', mediaType: 'image/bmp', data: 'x' }] }] })), error: { message: 'media type image/bmp is not jpeg, png, gif or webp', param: 'image' } },
]

describe('target errors', () => {
  for (const row of ERRORS) test(row.name, () => expectGatewayError(row.run, row.error))
})
