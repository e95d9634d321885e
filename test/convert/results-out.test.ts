import { describe, expect, test } from 'bun:test'
import { resultToAnthropicLine } from '../../src/convert/results/to-anthropic-line'
import { openaiLineId, resultToOpenAILine } from '../../src/convert/results/to-openai-line'
import type { ChatErrorType, ChatReply, ChatResult } from '../../src/core/chat'

const reply = (overrides: Partial<ChatReply> = {}): ChatReply => ({
  id: 'msg_01',
  model: 'claude-sonnet-4-5',
  content: [{ type: 'text', text: 'Hi' }],
  stopReason: 'end_turn',
  stopSequence: null,
  usage: { inputTokens: 10, outputTokens: 5 },
  createdAt: null,
  ...overrides,
})
const ok = (r: ChatReply, requestId: string | null = null, raw?: unknown): ChatResult => ({ customId: 'req-1', type: 'succeeded', reply: r, requestId, ...(raw === undefined ? {} : { raw }) })
const errored = (type: ChatErrorType, status: number, code: string | null = null): ChatResult => ({
  customId: 'req-2',
  type: 'errored',
  error: { type, message: 'nope', status, code },
  requestId: 'req_9',
})

const IDS = { lineId: 'batch_req_x', created: 1700000000 }
const completion = (message: Record<string, unknown>, finish: string, overrides: Record<string, unknown> = {}) => ({
  id: 'batch_req_x',
  custom_id: 'req-1',
  response: {
    status_code: 200,
    request_id: 'batch_req_x',
    body: {
      id: 'msg_01',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-sonnet-4-5',
      choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      ...overrides,
    },
  },
  error: null,
})
const openaiError = (status: number, type: string, code: string | null) => ({
  id: 'batch_req_x',
  custom_id: 'req-2',
  response: { status_code: status, request_id: 'req_9', body: { error: { message: 'nope', type, param: null, code } } },
  error: null,
})

const OPENAI_ROWS: Array<{ name: string; result: ChatResult; expected: unknown }> = [
  { name: 'text reply', result: ok(reply()), expected: completion({ content: 'Hi' }, 'stop') },
  {
    name: 'text blocks concatenate; tool calls; reply timestamp and request id win',
    result: ok(
      reply({
        content: [
          { type: 'text', text: 'Let me ' },
          { type: 'text', text: 'look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
          { type: 'tool_use', id: 'toolu_2', name: 'raw', input: '{oops' },
        ],
        stopReason: 'tool_use',
        createdAt: 1600000000,
      }),
      'req_up',
    ),
    expected: (() => {
      const line = completion(
        {
          content: 'Let me look.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'raw', arguments: '{oops' } },
          ],
        },
        'tool_calls',
        { created: 1600000000 },
      )
      line.response.request_id = 'req_up'
      return line
    })(),
  },
  {
    name: 'tool calls only → content null',
    result: ok(reply({ content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }], stopReason: 'tool_use' })),
    expected: completion({ content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'tool_calls'),
  },
  { name: 'empty reply, refusal → content_filter', result: ok(reply({ content: [], stopReason: 'refusal' })), expected: completion({ content: '' }, 'content_filter') },
  { name: 'max_tokens → length', result: ok(reply({ stopReason: 'max_tokens' })), expected: completion({ content: 'Hi' }, 'length') },
  { name: 'stop_sequence → stop', result: ok(reply({ stopReason: 'stop_sequence', stopSequence: 'END' })), expected: completion({ content: 'Hi' }, 'stop') },
  { name: 'other → stop', result: ok(reply({ stopReason: 'other' })), expected: completion({ content: 'Hi' }, 'stop') },
  { name: 'invalid_request', result: errored('invalid_request', 400, 'invalid_value'), expected: openaiError(400, 'invalid_request_error', 'invalid_value') },
  { name: 'not_found', result: errored('not_found', 404), expected: openaiError(404, 'invalid_request_error', null) },
  { name: 'authentication', result: errored('authentication', 401), expected: openaiError(401, 'authentication_error', null) },
  { name: 'permission', result: errored('permission', 403), expected: openaiError(403, 'permission_error', null) },
  { name: 'rate_limit', result: errored('rate_limit', 429), expected: openaiError(429, 'rate_limit_error', null) },
  { name: 'server_error', result: errored('server_error', 500), expected: openaiError(500, 'server_error', null) },
  { name: 'overloaded', result: errored('overloaded', 529), expected: openaiError(529, 'server_error', null) },
  { name: 'timeout', result: errored('timeout', 504), expected: openaiError(504, 'timeout_error', null) },
  {
    name: 'expired',
    result: { customId: 'req-3', type: 'expired' },
    expected: { id: 'batch_req_x', custom_id: 'req-3', response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } },
  },
  {
    name: 'canceled',
    result: { customId: 'req-4', type: 'canceled' },
    expected: { id: 'batch_req_x', custom_id: 'req-4', response: null, error: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' } },
  },
]

describe('resultToOpenAILine', () => {
  for (const row of OPENAI_ROWS) test(row.name, () => expect<unknown>(resultToOpenAILine(row.result, IDS)).toEqual(row.expected))

  test('created falls back to 0 when neither the reply nor the caller knows it', () => {
    const line = resultToOpenAILine(ok(reply()), { lineId: 'l' })
    expect(line).toEqual({ ...completion({ content: 'Hi' }, 'stop', { created: 0 }), id: 'l', response: { ...completion({ content: 'Hi' }, 'stop', { created: 0 }).response, request_id: 'l' } })
  })

  test('a line that came from OpenAI passes through untouched', () => {
    const upstream = { id: 'batch_req_up', custom_id: 'req-1', response: { status_code: 200, request_id: 'r', body: { id: 'chatcmpl-1', system_fingerprint: 'fp' } }, error: null }
    const result = ok(reply(), null, { format: 'openai-output', value: upstream })
    expect<unknown>(resultToOpenAILine(result, IDS)).toEqual(upstream)
  })

  test('raw from another format is not passed through', () => {
    const result = ok(reply(), null, { format: 'anthropic-results', value: { custom_id: 'req-1' } })
    expect(resultToOpenAILine(result, IDS)).toEqual(completion({ content: 'Hi' }, 'stop'))
  })
})

describe('openaiLineId', () => {
  test('is stable, prefixed and distinguishes ids', () => {
    expect(openaiLineId('req-1')).toBe(openaiLineId('req-1'))
    expect(openaiLineId('req-1')).toMatch(/^batch_req_[0-9a-f]{16}$/)
    const ids = new Set(Array.from({ length: 10000 }, (_, i) => openaiLineId(`req-${i}`)))
    expect(ids.size).toBe(10000)
  })

  test('keeps the ids earlier releases minted (re-downloads match), ASCII and not', () => {
    // Pinned from the first implementation (toString(16) per lane); the hex table must agree.
    const pinned: Array<[string, string]> = [
      ['req-1', 'batch_req_db160f1166deab36'],
      ['request-200000', 'batch_req_4a6f5137e35fca32'],
      ['', 'batch_req_811c9dc59747b28c'],
      ['é-日本-🙂', 'batch_req_3d42d96122396d1c'],
      ['Zed_9', 'batch_req_a5770d78fb96fe83'],
    ]
    for (const [customId, lineId] of pinned) expect(openaiLineId(customId)).toBe(lineId)
  })
})

const message = (overrides: Record<string, unknown> = {}) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [{ type: 'text', text: 'Hi' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 5 },
  ...overrides,
})
const succeededLine = (m: Record<string, unknown>) => ({ custom_id: 'req-1', result: { type: 'succeeded', message: m } })
const erroredLine = (type: string) => ({ custom_id: 'req-2', result: { type: 'errored', error: { type: 'error', error: { type, message: 'nope' }, request_id: 'req_9' } } })

const ANTHROPIC_ROWS: Array<{ name: string; result: ChatResult; expected: unknown }> = [
  { name: 'text reply keeps a msg_ id', result: ok(reply()), expected: succeededLine(message()) },
  { name: 'other ids get the msg_ prefix', result: ok(reply({ id: 'chatcmpl-1', model: 'gpt-4o' })), expected: succeededLine(message({ id: 'msg_chatcmpl-1', model: 'gpt-4o' })) },
  {
    name: 'tool use',
    result: ok(reply({ content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'call_1', name: 'lookup', input: { q: 'x' } }], stopReason: 'tool_use' })),
    expected: succeededLine(message({ content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'call_1', name: 'lookup', input: { q: 'x' } }], stop_reason: 'tool_use' })),
  },
  { name: 'stop sequence', result: ok(reply({ stopReason: 'stop_sequence', stopSequence: 'END' })), expected: succeededLine(message({ stop_reason: 'stop_sequence', stop_sequence: 'END' })) },
  { name: 'max_tokens', result: ok(reply({ stopReason: 'max_tokens' })), expected: succeededLine(message({ stop_reason: 'max_tokens' })) },
  { name: 'refusal', result: ok(reply({ stopReason: 'refusal', content: [] })), expected: succeededLine(message({ stop_reason: 'refusal', content: [] })) },
  { name: 'other → end_turn', result: ok(reply({ stopReason: 'other' })), expected: succeededLine(message()) },
  { name: 'invalid_request', result: errored('invalid_request', 400), expected: erroredLine('invalid_request_error') },
  { name: 'authentication', result: errored('authentication', 401), expected: erroredLine('authentication_error') },
  { name: 'permission', result: errored('permission', 403), expected: erroredLine('permission_error') },
  { name: 'not_found', result: errored('not_found', 404), expected: erroredLine('not_found_error') },
  { name: 'rate_limit', result: errored('rate_limit', 429), expected: erroredLine('rate_limit_error') },
  { name: 'server_error', result: errored('server_error', 500), expected: erroredLine('api_error') },
  { name: 'overloaded', result: errored('overloaded', 529), expected: erroredLine('overloaded_error') },
  { name: 'timeout', result: errored('timeout', 504), expected: erroredLine('timeout_error') },
  {
    name: 'errored without a request id',
    result: { customId: 'req-2', type: 'errored', error: { type: 'server_error', message: 'x', status: 500, code: null }, requestId: null },
    expected: { custom_id: 'req-2', result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'x' }, request_id: null } } },
  },
  { name: 'canceled', result: { customId: 'req-3', type: 'canceled' }, expected: { custom_id: 'req-3', result: { type: 'canceled' } } },
  { name: 'expired', result: { customId: 'req-4', type: 'expired' }, expected: { custom_id: 'req-4', result: { type: 'expired' } } },
]

describe('resultToAnthropicLine', () => {
  for (const row of ANTHROPIC_ROWS) test(row.name, () => expect<unknown>(resultToAnthropicLine(row.result)).toEqual(row.expected))

  test('a line that came from Anthropic passes through untouched', () => {
    const upstream = succeededLine(message({ usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 3 } }))
    expect<unknown>(resultToAnthropicLine(ok(reply(), null, { format: 'anthropic-results', value: upstream }))).toEqual(upstream)
  })
})
