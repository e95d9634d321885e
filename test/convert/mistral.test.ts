// Mistral's two converters: OpenAI batch lines → `{custom_id, body}` (no model, max_tokens), and
// Mistral output/error file lines → neutral results (chunked content, model_length, the error
// shapes Mistral's service and its validation layer answer with), plus its status table.

import { describe, expect, test } from 'bun:test'
import { MISTRAL_STATUS } from '../../src/convert/batch-status'
import { requestLineWriter, resultLineParser } from '../../src/convert/pairs'
import { parseOpenAIBatchLine } from '../../src/convert/requests/openai-line'
import { MISTRAL_JOB_STATUSES } from '../../src/providers/mistral/wire'
import { expectGatewayError } from './helpers'

const line = (body: Record<string, unknown>) =>
  parseOpenAIBatchLine({ custom_id: 'q-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'mistral-small-latest', ...body } }, 1)
const write = requestLineWriter('mistral-line')
const parse = resultLineParser('mistral-output', { model: null })

describe('OpenAI line → Mistral batch line', () => {
  test('the body loses model (the job has it) and user (no field), max tokens become max_tokens', () => {
    const out = JSON.parse(write(line({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_completion_tokens: 20, temperature: 0.2, stop: ['x'], user: 'u-1' }), 1))
    expect(out).toEqual({
      custom_id: 'q-1',
      body: { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], temperature: 0.2, stop: ['x'], max_tokens: 20 },
    })
  })

  test('what chat completions cannot carry is refused with its line', () => {
    expectGatewayError(() => write(line({ messages: [{ role: 'user', content: 'Hi' }], top_k: 3 }), 4), { message: 'top_k', line: 4 })
  })
})

describe('Mistral output line → result', () => {
  const completion = (message: Record<string, unknown>, finish = 'stop') => ({
    id: 'batch-1-0',
    custom_id: 'q-1',
    response: {
      status_code: 200,
      body: { id: 'c1', object: 'chat.completion', model: 'magistral-small', created: 1700000000, usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, choices: [{ index: 0, message, finish_reason: finish }] },
    },
    error: null,
  })

  test('a text reply succeeds with its usage', () => {
    const r = parse(completion({ role: 'assistant', content: 'Paris.' }), 1)
    expect(r).toMatchObject({ customId: 'q-1', type: 'succeeded', reply: { model: 'magistral-small', content: [{ type: 'text', text: 'Paris.' }], stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 4 } } })
  })

  test('chunked content keeps the text chunks (not the thinking); model_length is a length stop', () => {
    const r = parse(completion({ role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'hmm' }] }, { type: 'text', text: 'Par' }, { type: 'text', text: 'is.' }] }, 'model_length'), 1)
    expect(r).toMatchObject({ type: 'succeeded', reply: { content: [{ type: 'text', text: 'Paris.' }], stopReason: 'max_tokens' } })
  })

  test('errors: the service envelope, a validation list, and a line with no response', () => {
    const service = parse({ id: 'x', custom_id: 'e-1', response: { status_code: 400, body: { object: 'error', message: 'Prompt refused', type: 'invalid_request_error', param: null, code: '3051' } }, error: null }, 1)
    expect(service).toEqual({ customId: 'e-1', type: 'errored', error: { type: 'invalid_request', message: 'Prompt refused', status: 400, code: '3051' }, requestId: null })
    const validation = parse({ custom_id: 'e-2', response: { status_code: 422, body: { detail: [{ loc: ['body', 'messages'], msg: 'Field required' }] } } }, 2)
    expect(validation).toMatchObject({ type: 'errored', error: { message: 'Field required', status: 422 } })
    const none = parse({ custom_id: 'e-3', response: null, error: { message: 'Internal failure', code: 'internal' } }, 3)
    expect(none).toMatchObject({ type: 'errored', error: { type: 'server_error', message: 'Internal failure', status: 500, code: 'internal' } })
  })

  test('the lines the gateway writes for requests a cancel or the timeout cut off', () => {
    expect(parse({ custom_id: 'c-1', response: null, error: { code: 'batch_cancelled', message: 'x' } }, 1)).toEqual({ customId: 'c-1', type: 'canceled' })
    expect(parse({ custom_id: 'c-2', response: null, error: { code: 'batch_expired', message: 'x' } }, 2)).toEqual({ customId: 'c-2', type: 'expired' })
  })

  test('a line without custom_id is the upstream’s fault, named by line', () => {
    expectGatewayError(() => parse({ response: { status_code: 200, body: {} } }, 7), { message: 'mistral-output result line 7: custom_id', line: 7, kind: 'upstream' })
  })
})

test('every Mistral job status has a neutral status', () => {
  expect(MISTRAL_JOB_STATUSES.map((s) => MISTRAL_STATUS[s])).toEqual(['validating', 'in_progress', 'completed', 'failed', 'expired', 'cancelling', 'cancelled'])
})
