// The emulated runner's result lines (convert/results/emulated-line.ts): an answer is stored as
// the server sent it and becomes its line when read; the server's JSON body is spliced in
// unrewritten when it is one line, and the line stays valid JSONL whatever the server sends.

import { describe, expect, test } from 'bun:test'
import { expandResult, resultLineId, storedAnswer } from '../../src/convert/results/emulated-line'

/** What a result file shows for an answer: stored by the runner, expanded when read. */
const answeredLine = (customId: string, status: number, requestId: string | null, text: string) =>
  expandResult('batch_run1', 7, storedAnswer('batch_run1', 7, JSON.stringify(customId), status, requestId, text))

const parse = (line: string) => JSON.parse(line) as { id: string; custom_id: string; response: { status_code: number; request_id: string; body: unknown }; error: unknown }

describe('emulated result lines', () => {
  test('a one-line JSON answer is kept byte for byte inside the line', () => {
    const text = '{"id":"chatcmpl-1","choices":[{"message":{"content":"é \\" \\n ok"}}],"usage":{"total_tokens":3}}'
    const line = answeredLine('req-"1"', 200, 'rid-1', text)
    expect(line).toContain(`"body":${text}`)
    expect(line.includes('\n')).toBe(false)
    const o = parse(line)
    expect(o.id).toMatch(/^batch_req_[0-9a-f]{32}$/)
    expect(o.custom_id).toBe('req-"1"')
    expect(o.response).toEqual({ status_code: 200, request_id: 'rid-1', body: JSON.parse(text) })
    expect(o.error).toBeNull()
  })

  test('a pretty-printed answer becomes one line with the same value', () => {
    const body = { error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: null } }
    const line = answeredLine('a', 400, 'rid', `${JSON.stringify(body, null, 2)}\r\n`)
    expect(line.includes('\n') || line.includes('\r')).toBe(false)
    expect(parse(line).response).toEqual({ status_code: 400, request_id: 'rid', body })
  })

  test('a body that is not JSON becomes an OpenAI-shaped error body naming the status', () => {
    const o = parse(answeredLine('a', 200, 'rid', '<html>oops</html>'))
    expect(o.response.status_code).toBe(200)
    expect(o.response.body).toEqual({ error: { message: 'the endpoint answered 200 with a body that is not JSON', type: 'server_error', param: null, code: null } })
  })

  test('surrounding whitespace is dropped, the value kept', () => {
    const o = parse(answeredLine('a', 200, 'rid', '  {"ok":true}  '))
    expect(o.response.body).toEqual({ ok: true })
  })

  test('a line keeps its id on every read; ids differ by line and by run; a missing request id is the line id', () => {
    const stored = storedAnswer('batch_run1', 7, '"a"', 200, null, '{"ok":true}')
    expect(expandResult('batch_run1', 7, stored)).toBe(expandResult('batch_run1', 7, stored))
    const o = parse(expandResult('batch_run1', 7, stored))
    expect(o.id).toBe(resultLineId('batch_run1', 7))
    expect(o.response.request_id).toBe(o.id)
    expect(resultLineId('batch_run1', 8)).not.toBe(o.id)
    expect(resultLineId('batch_run2', 7)).not.toBe(o.id)
    expect(resultLineId('batch_run2', 7)).toMatch(/^batch_req_[0-9a-f]{32}$/)
  })

  test('a finished line is stored and read back unchanged', () => {
    const line = '{"id":"batch_req_1","custom_id":"a","response":null,"error":{"code":"batch_expired","message":"x"}}'
    expect(expandResult('batch_run1', 0, line)).toBe(line)
  })
})
