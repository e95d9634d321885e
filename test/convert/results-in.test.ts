import { describe, expect, test } from 'bun:test'
import { anthropicResultLineToResult } from '../../src/convert/results/anthropic-result'
import { bedrockOutRecordToResult } from '../../src/convert/results/bedrock-out'
import { geminiResponseLineToResult } from '../../src/convert/results/gemini-response'
import { openaiOutputLineToResult } from '../../src/convert/results/openai-output'
import type { ChatReply, ChatResult } from '../../src/core/chat'
import { type ExpectedError, expectGatewayError } from './helpers'

type Row = { name: string; value: Record<string, unknown>; expected: ChatResult }
type ErrorRow = { name: string; value: unknown; error: ExpectedError }

const reply = (overrides: Partial<ChatReply>): ChatReply => ({
  id: 'id',
  model: 'm',
  content: [],
  stopReason: 'end_turn',
  stopSequence: null,
  usage: { inputTokens: 0, outputTokens: 0 },
  createdAt: null,
  ...overrides,
})

// ---------------------------------------------------------------- OpenAI output / error lines

const completion = (message: Record<string, unknown>, finish: string | null, usage: unknown = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }) => ({
  id: 'batch_req_1',
  custom_id: 'req-1',
  response: {
    status_code: 200,
    request_id: 'req_abc',
    body: { id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage },
  },
  error: null,
})
const openaiOk = (value: Record<string, unknown>, r: Partial<ChatReply>): Row['expected'] => ({
  customId: 'req-1',
  type: 'succeeded',
  reply: reply({ id: 'chatcmpl-1', model: 'gpt-4o-mini', usage: { inputTokens: 10, outputTokens: 5 }, createdAt: 1700000000, ...r }),
  requestId: 'req_abc',
  raw: { format: 'openai-output', value },
})
const openaiError = (status: number, type: string, code: string | null) => ({
  id: 'batch_req_2',
  custom_id: 'req-2',
  response: { status_code: status, request_id: 'req_e', body: { error: { message: 'nope', type, param: null, code } } },
  error: null,
})
const noResponse = (code: string, message = 'm') => ({ id: 'batch_req_3', custom_id: 'req-3', response: null, error: { code, message } })

const OPENAI_ROWS: Row[] = [
  (() => {
    const value = completion({ content: 'Hi there' }, 'stop')
    return { name: 'text reply', value, expected: openaiOk(value, { content: [{ type: 'text', text: 'Hi there' }] }) }
  })(),
  (() => {
    const value = completion(
      {
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{oops' } },
        ],
      },
      'tool_calls',
    )
    return {
      name: 'tool calls (invalid JSON arguments kept as text)',
      value,
      expected: openaiOk(value, {
        content: [
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'call_2', name: 'time', input: '{oops' },
        ],
        stopReason: 'tool_use',
      }),
    }
  })(),
  (() => {
    const value = completion({ content: 'Once upon' }, 'length')
    return { name: 'length → max_tokens', value, expected: openaiOk(value, { content: [{ type: 'text', text: 'Once upon' }], stopReason: 'max_tokens' }) }
  })(),
  (() => {
    const value = completion({ content: '' }, 'content_filter')
    return { name: 'content_filter → refusal, empty text dropped', value, expected: openaiOk(value, { stopReason: 'refusal' }) }
  })(),
  (() => {
    const value = completion({ content: null, refusal: "I can't help with that." }, 'stop')
    return { name: 'refusal message → refusal text', value, expected: openaiOk(value, { content: [{ type: 'text', text: "I can't help with that." }], stopReason: 'refusal' }) }
  })(),
  (() => {
    const value = completion({ content: 'x' }, 'something_new', null)
    return { name: 'unknown finish reason → other; missing usage → 0', value, expected: openaiOk(value, { content: [{ type: 'text', text: 'x' }], stopReason: 'other', usage: { inputTokens: 0, outputTokens: 0 } }) }
  })(),
  {
    name: '400 error line',
    value: openaiError(400, 'invalid_request_error', 'invalid_value'),
    expected: { customId: 'req-2', type: 'errored', error: { type: 'invalid_request', message: 'nope', status: 400, code: 'invalid_value' }, requestId: 'req_e' },
  },
  { name: '401 error line', value: openaiError(401, 'invalid_request_error', 'invalid_api_key'), expected: { customId: 'req-2', type: 'errored', error: { type: 'authentication', message: 'nope', status: 401, code: 'invalid_api_key' }, requestId: 'req_e' } },
  { name: '404 error line', value: openaiError(404, 'invalid_request_error', 'model_not_found'), expected: { customId: 'req-2', type: 'errored', error: { type: 'not_found', message: 'nope', status: 404, code: 'model_not_found' }, requestId: 'req_e' } },
  { name: '429 error line', value: openaiError(429, 'requests', null), expected: { customId: 'req-2', type: 'errored', error: { type: 'rate_limit', message: 'nope', status: 429, code: null }, requestId: 'req_e' } },
  { name: '500 error line', value: openaiError(500, 'server_error', null), expected: { customId: 'req-2', type: 'errored', error: { type: 'server_error', message: 'nope', status: 500, code: null }, requestId: 'req_e' } },
  { name: '503 error line', value: openaiError(503, 'server_error', null), expected: { customId: 'req-2', type: 'errored', error: { type: 'overloaded', message: 'nope', status: 503, code: null }, requestId: 'req_e' } },
  { name: 'batch_expired', value: noResponse('batch_expired'), expected: { customId: 'req-3', type: 'expired' } },
  { name: 'batch_cancelled', value: noResponse('batch_cancelled'), expected: { customId: 'req-3', type: 'canceled' } },
  {
    name: 'another code without a response',
    value: noResponse('internal_error', 'It broke.'),
    expected: { customId: 'req-3', type: 'errored', error: { type: 'server_error', message: 'It broke.', status: 500, code: 'internal_error' }, requestId: null },
  },
]

const OPENAI_ERRORS: ErrorRow[] = [
  { name: 'not an object', value: 'x', error: { kind: 'upstream', message: 'openai-output result line 6: (line): expected a JSON object', line: 6 } },
  { name: 'missing custom_id', value: { response: null, error: { code: 'x' } }, error: { kind: 'upstream', message: 'custom_id: expected a string' } },
  { name: 'two choices', value: { ...completion({ content: 'a' }, 'stop'), response: { status_code: 200, body: { id: 'c', model: 'm', choices: [{}, {}] } } }, error: { kind: 'upstream', message: 'expected exactly one choice (n = 1), got 2' } },
  { name: 'bad status', value: { custom_id: 'a', response: { status_code: 'ok', body: {} } }, error: { kind: 'upstream', message: 'response.status_code: expected an HTTP status code' } },
]

// ---------------------------------------------------------------- Anthropic results

const anthropicMessage = (overrides: Record<string, unknown>) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [{ type: 'text', text: 'Hi' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0 },
  ...overrides,
})
const anthropicOk = (message: Record<string, unknown>) => ({ custom_id: 'req-1', result: { type: 'succeeded', message } })
const anthropicRow = (name: string, message: Record<string, unknown>, r: Partial<ChatReply>): Row => {
  const value = anthropicOk(message)
  return {
    name,
    value,
    expected: {
      customId: 'req-1',
      type: 'succeeded',
      reply: reply({ id: 'msg_01', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Hi' }], usage: { inputTokens: 10, outputTokens: 5 }, ...r }),
      requestId: null,
      raw: { format: 'anthropic-results', value },
    },
  }
}

const ANTHROPIC_ROWS: Row[] = [
  anthropicRow('text reply', anthropicMessage({}), {}),
  anthropicRow(
    'tool use',
    anthropicMessage({ content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }], stop_reason: 'tool_use' }),
    { content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }], stopReason: 'tool_use' },
  ),
  anthropicRow('stop sequence', anthropicMessage({ stop_reason: 'stop_sequence', stop_sequence: 'END' }), { stopReason: 'stop_sequence', stopSequence: 'END' }),
  anthropicRow('max_tokens', anthropicMessage({ stop_reason: 'max_tokens' }), { stopReason: 'max_tokens' }),
  anthropicRow('refusal', anthropicMessage({ stop_reason: 'refusal' }), { stopReason: 'refusal' }),
  anthropicRow('context window exceeded → max_tokens', anthropicMessage({ stop_reason: 'model_context_window_exceeded' }), { stopReason: 'max_tokens' }),
  anthropicRow('pause_turn → other', anthropicMessage({ stop_reason: 'pause_turn' }), { stopReason: 'other' }),
  {
    name: 'errored (double-nested envelope)',
    value: { custom_id: 'req-2', result: { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: 'bad' }, request_id: 'req_9' } } },
    expected: { customId: 'req-2', type: 'errored', error: { type: 'invalid_request', message: 'bad', status: 400, code: 'invalid_request_error' }, requestId: 'req_9' },
  },
  {
    name: 'errored (inner object only, older shape)',
    value: { custom_id: 'req-2', result: { type: 'errored', error: { type: 'overloaded_error', message: 'busy' } } },
    expected: { customId: 'req-2', type: 'errored', error: { type: 'overloaded', message: 'busy', status: 529, code: 'overloaded_error' }, requestId: null },
  },
  {
    name: 'errored billing_error',
    value: { custom_id: 'req-2', result: { type: 'errored', error: { type: 'error', error: { type: 'billing_error', message: 'pay' }, request_id: null } } },
    expected: { customId: 'req-2', type: 'errored', error: { type: 'permission', message: 'pay', status: 402, code: 'billing_error' }, requestId: null },
  },
  {
    name: 'errored with an unknown type',
    value: { custom_id: 'req-2', result: { type: 'errored', error: { type: 'error', error: { type: 'new_error', message: '?' } } } },
    expected: { customId: 'req-2', type: 'errored', error: { type: 'server_error', message: '?', status: 500, code: 'new_error' }, requestId: null },
  },
  { name: 'canceled', value: { custom_id: 'req-3', result: { type: 'canceled' } }, expected: { customId: 'req-3', type: 'canceled' } },
  { name: 'expired', value: { custom_id: 'req-4', result: { type: 'expired' } }, expected: { customId: 'req-4', type: 'expired' } },
]

const ANTHROPIC_ERRORS: ErrorRow[] = [
  { name: 'unknown result type', value: { custom_id: 'a', result: { type: 'pending' } }, error: { kind: 'upstream', message: "anthropic-results result line 6: result.type: unknown result type 'pending'", line: 6 } },
  { name: 'thinking block', value: anthropicOk(anthropicMessage({ content: [{ type: 'thinking', thinking: '…' }] })), error: { kind: 'upstream', message: "result.message.content.0.type: content block type 'thinking' cannot be converted" } },
  { name: 'missing result', value: { custom_id: 'a' }, error: { kind: 'upstream', message: 'result: expected a JSON object' } },
]

// ---------------------------------------------------------------- Gemini responses

const geminiOk = (key: string, response: Record<string, unknown>) => ({ key, response })
const geminiRow = (name: string, value: { key: string; response: Record<string, unknown> }, r: Partial<ChatReply>): Row => ({
  name,
  value,
  expected: { customId: value.key, type: 'succeeded', reply: reply({ id: 'resp-1', model: 'gemini-2.0-flash-001', ...r }), requestId: null, raw: { format: 'gemini-responses', value } },
})
const candidate = (parts: unknown[], finishReason: string) => ({ candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }], responseId: 'resp-1', modelVersion: 'gemini-2.0-flash-001' })

const GEMINI_ROWS: Row[] = [
  {
    name: 'spec example (no responseId: id derived from the key)',
    value: geminiOk('request-1', {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Photosynthesis…' }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 40, totalTokenCount: 48 },
      modelVersion: 'gemini-2.0-flash',
    }),
    expected: {
      customId: 'request-1',
      type: 'succeeded',
      reply: reply({ id: 'gemini_requestZ2D1', model: 'gemini-2.0-flash', content: [{ type: 'text', text: 'Photosynthesis…' }], usage: { inputTokens: 8, outputTokens: 40 } }),
      requestId: null,
      raw: {
        format: 'gemini-responses',
        value: geminiOk('request-1', {
          candidates: [{ content: { role: 'model', parts: [{ text: 'Photosynthesis…' }] }, finishReason: 'STOP', index: 0 }],
          usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 40, totalTokenCount: 48 },
          modelVersion: 'gemini-2.0-flash',
        }),
      },
    },
  },
  geminiRow(
    'function calls with STOP → tool_use; thoughts skipped but billed',
    geminiOk('k', {
      ...candidate([{ text: 'plan', thought: true }, { text: 'Calling.' }, { functionCall: { id: 'fc-1', name: 'weather', args: { city: 'Oslo' } } }, { functionCall: { name: 'time' } }], 'STOP'),
      usageMetadata: { promptTokenCount: '12', candidatesTokenCount: 7, thoughtsTokenCount: 3 },
    }),
    {
      content: [
        { type: 'text', text: 'Calling.' },
        { type: 'tool_use', id: 'fc-1', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'call_3', name: 'time', input: {} },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 12, outputTokens: 10, reasoningTokens: 3 },
    },
  ),
  geminiRow('MAX_TOKENS', geminiOk('k', candidate([{ text: 'a' }], 'MAX_TOKENS')), { content: [{ type: 'text', text: 'a' }], stopReason: 'max_tokens' }),
  geminiRow('SAFETY → refusal', geminiOk('k', candidate([], 'SAFETY')), { stopReason: 'refusal' }),
  geminiRow('RECITATION → refusal', geminiOk('k', candidate([{ text: 'a' }], 'RECITATION')), { content: [{ type: 'text', text: 'a' }], stopReason: 'refusal' }),
  geminiRow('OTHER → other', geminiOk('k', candidate([{ text: 'a' }], 'OTHER')), { content: [{ type: 'text', text: 'a' }], stopReason: 'other' }),
  geminiRow('MALFORMED_FUNCTION_CALL → other', geminiOk('k', candidate([], 'MALFORMED_FUNCTION_CALL')), { stopReason: 'other' }),
  {
    name: 'blocked prompt (no candidates) → refusal; batch model used',
    value: geminiOk('k', { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } }),
    expected: {
      customId: 'k',
      type: 'succeeded',
      reply: reply({ id: 'gemini_k', model: 'gemini-batch-model', stopReason: 'refusal', usage: { inputTokens: 4, outputTokens: 0 } }),
      requestId: null,
      raw: { format: 'gemini-responses', value: geminiOk('k', { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } }) },
    },
  },
  {
    name: 'error line',
    value: { key: 'k', error: { code: 400, message: 'Invalid value', status: 'INVALID_ARGUMENT' } },
    expected: { customId: 'k', type: 'errored', error: { type: 'invalid_request', message: 'Invalid value', status: 400, code: 'INVALID_ARGUMENT' }, requestId: null },
  },
  {
    name: 'error line, 429',
    value: { key: 'k', error: { code: 429, message: 'Quota', status: 'RESOURCE_EXHAUSTED' } },
    expected: { customId: 'k', type: 'errored', error: { type: 'rate_limit', message: 'Quota', status: 429, code: 'RESOURCE_EXHAUSTED' }, requestId: null },
  },
  {
    name: 'error line without code or status',
    value: { key: 'k', error: { message: 'Internal' } },
    expected: { customId: 'k', type: 'errored', error: { type: 'server_error', message: 'Internal', status: 500, code: null }, requestId: null },
  },
]

const GEMINI_ERRORS: ErrorRow[] = [
  { name: 'missing key', value: { response: {} }, error: { kind: 'upstream', message: 'gemini-responses result line 6: key: expected a string', line: 6 } },
  { name: 'image output part', value: geminiOk('k', candidate([{ inlineData: { mimeType: 'image/png', data: 'x' } }], 'STOP')), error: { kind: 'upstream', message: 'part with keys inlineData cannot be converted' } },
  { name: 'neither response nor error', value: { key: 'k' }, error: { kind: 'upstream', message: 'response: expected a JSON object' } },
  // The paths of a part's errors are built only on failure: pinned in full.
  {
    name: 'second part unknown',
    value: geminiOk('k', candidate([{ text: 'a' }, { inlineData: { mimeType: 'image/png', data: 'x' } }], 'STOP')),
    error: { kind: 'upstream', message: 'gemini-responses result line 6: response.candidates.0.content.parts.1: part with keys inlineData cannot be converted' },
  },
  {
    name: 'function call without a name',
    value: geminiOk('k', candidate([{ text: 'a' }, { functionCall: { args: {} } }], 'STOP')),
    error: { kind: 'upstream', message: 'gemini-responses result line 6: response.candidates.0.content.parts.1.functionCall.name: expected a string' },
  },
  { name: 'part not an object', value: geminiOk('k', candidate(['text'], 'STOP')), error: { kind: 'upstream', message: 'response.candidates.0.content.parts.0: expected a JSON object' } },
]

// ---------------------------------------------------------------- Bedrock records

const claudeOut = { id: 'msg_bdrk_01', type: 'message', role: 'assistant', model: 'claude-3-haiku-20240307', content: [{ type: 'text', text: 'Summary.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 120, output_tokens: 80 } }
const novaOut = (content: unknown[], stopReason: string) => ({ output: { message: { role: 'assistant', content } }, stopReason, usage: { inputTokens: 20, outputTokens: 9, totalTokens: 29 } })
const novaRow = (name: string, content: unknown[], stopReason: string, r: Partial<ChatReply>): Row => {
  const value = { recordId: 'aZ20b', modelInput: {}, modelOutput: novaOut(content, stopReason) }
  return {
    name,
    value,
    expected: { customId: 'a b', type: 'succeeded', reply: reply({ id: 'nova_aZ20b', model: 'amazon.nova-lite-v1:0', usage: { inputTokens: 20, outputTokens: 9 }, ...r }), requestId: null, raw: { format: 'bedrock-out', value } },
  }
}

const BEDROCK_ROWS: Row[] = [
  (() => {
    const value = { recordId: 'requestZ2D1', modelInput: { anthropic_version: 'bedrock-2023-05-31' }, modelOutput: claudeOut }
    return {
      name: 'Claude output',
      value,
      expected: {
        customId: 'request-1',
        type: 'succeeded',
        reply: reply({ id: 'msg_bdrk_01', model: 'claude-3-haiku-20240307', content: [{ type: 'text', text: 'Summary.' }], usage: { inputTokens: 120, outputTokens: 80 } }),
        requestId: null,
        raw: { format: 'bedrock-out', value },
      },
    }
  })(),
  novaRow('Nova text', [{ text: 'Hello' }], 'end_turn', { content: [{ type: 'text', text: 'Hello' }] }),
  novaRow(
    'Nova tool use; reasoning skipped',
    [{ reasoningContent: { reasoningText: { text: '[REDACTED]' } } }, { text: 'Calling.' }, { toolUse: { toolUseId: 'tu_1', name: 'weather', input: { city: 'Oslo' } } }],
    'tool_use',
    { content: [{ type: 'text', text: 'Calling.' }, { type: 'tool_use', id: 'tu_1', name: 'weather', input: { city: 'Oslo' } }], stopReason: 'tool_use' },
  ),
  novaRow('Nova max_tokens', [{ text: 'a' }], 'max_tokens', { content: [{ type: 'text', text: 'a' }], stopReason: 'max_tokens' }),
  novaRow('Nova stop_sequence', [{ text: 'a' }], 'stop_sequence', { content: [{ type: 'text', text: 'a' }], stopReason: 'stop_sequence' }),
  novaRow('Nova content_filtered → refusal', [], 'content_filtered', { stopReason: 'refusal' }),
  novaRow('Nova guardrail_intervened → refusal', [], 'guardrail_intervened', { stopReason: 'refusal' }),
  novaRow('Nova malformed_tool_use → other', [], 'malformed_tool_use', { stopReason: 'other' }),
  {
    name: 'error record',
    value: { recordId: 'CALL0000002', modelInput: {}, error: { errorCode: 400, errorMessage: 'bad request' } },
    expected: { customId: 'CALL0000002', type: 'errored', error: { type: 'invalid_request', message: 'bad request', status: 400, code: null }, requestId: null },
  },
  {
    name: 'error record with a string code',
    value: { recordId: 'x', modelInput: {}, error: { errorCode: '429', errorMessage: 'slow down' } },
    expected: { customId: 'x', type: 'errored', error: { type: 'rate_limit', message: 'slow down', status: 429, code: null }, requestId: null },
  },
]

const BEDROCK_ERRORS: ErrorRow[] = [
  { name: 'record id we did not mint', value: { recordId: 'a-b', modelOutput: claudeOut }, error: { kind: 'upstream', message: "Bedrock recordId 'a-b' is not one batchgate minted" } },
  { name: 'missing recordId', value: { modelOutput: claudeOut }, error: { kind: 'upstream', message: 'bedrock-out result line 6: recordId: expected a string', line: 6 } },
  { name: 'unknown output shape', value: { recordId: 'a', modelOutput: { generation: 'x' } }, error: { kind: 'upstream', message: 'modelOutput.output: expected a JSON object' } },
  { name: 'unknown Nova block', value: { recordId: 'a', modelOutput: novaOut([{ image: {} }], 'end_turn') }, error: { kind: 'upstream', message: 'block with keys image cannot be converted' } },
]

const SUITES: Array<{ name: string; parse: (value: unknown, line: number) => ChatResult; rows: Row[]; errors: ErrorRow[] }> = [
  { name: 'openaiOutputLineToResult', parse: openaiOutputLineToResult, rows: OPENAI_ROWS, errors: OPENAI_ERRORS },
  { name: 'anthropicResultLineToResult', parse: anthropicResultLineToResult, rows: ANTHROPIC_ROWS, errors: ANTHROPIC_ERRORS },
  { name: 'geminiResponseLineToResult', parse: (v, line) => geminiResponseLineToResult(v, line, 'gemini-batch-model'), rows: GEMINI_ROWS, errors: GEMINI_ERRORS },
  { name: 'bedrockOutRecordToResult', parse: (v, line) => bedrockOutRecordToResult(v, line, 'amazon.nova-lite-v1:0'), rows: BEDROCK_ROWS, errors: BEDROCK_ERRORS },
]

for (const suite of SUITES) {
  describe(suite.name, () => {
    for (const row of suite.rows) test(row.name, () => expect(suite.parse(row.value, 6)).toEqual(row.expected))
    for (const row of suite.errors) test(`rejects ${row.name}`, () => expectGatewayError(() => suite.parse(row.value, 6), row.error))
  })
}
