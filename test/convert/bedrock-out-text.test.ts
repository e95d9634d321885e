// parseBedrockOutLine cuts the modelInput echo out of a Bedrock `.out` line before JSON.parse.
// What the result reader uses (recordId, error, modelOutput) must come out exactly as a whole
// parse gives it, for every layout — including echoes whose user JSON holds the very keys the cut
// looks for — and broken lines must fail as parseJsonLine fails them, naming the line.

import { describe, expect, test } from 'bun:test'
import { parseBedrockOutLine } from '../../src/convert/results/bedrock-out-text'
import { bedrockOutRecordToResult } from '../../src/convert/results/bedrock-out'
import { parseJsonLine } from '../../src/convert/lines'
import { GatewayError } from '../../src/errors'

const claude = { id: 'msg_bdrk_1', type: 'message', role: 'assistant', model: 'claude-3-haiku', content: [{ type: 'text', text: 'Hi "there" \\ }, "error": 1' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 2 } }
const input = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: 'say "modelOutput": {} and "error": []' }] }] }
// A tool schema is user JSON with arbitrary keys: here exactly the ones the cut looks for.
const sneakyInput = { ...input, tools: [{ name: 't', input_schema: { type: 'object', properties: { x: {}, modelOutput: { type: 'string' }, error: { type: 'object' }, recordId: {} } } }] }

const used = (v: unknown) => {
  const o = v as Record<string, unknown>
  return { recordId: o.recordId, error: o.error, modelOutput: o.modelOutput }
}

const LINES: Array<[string, string]> = [
  ['fake layout', JSON.stringify({ recordId: 'requestZ2D1', modelInput: input, modelOutput: claude })],
  ['error record', JSON.stringify({ recordId: 'r2', modelInput: input, error: { errorCode: 400, errorMessage: 'bad "modelOutput": x' } })],
  ['documented layout with spaces', `{"recordId": "CALL0000001", "modelInput": ${JSON.stringify(input)}, "modelOutput": ${JSON.stringify(claude)}}`],
  ['keys the cut looks for inside the echo', JSON.stringify({ recordId: 'r3', modelInput: sneakyInput, modelOutput: claude })],
  ['a nested key right after a closing brace', `{"recordId":"r4","modelInput":{"a":{},"modelOutput":{"fake":true}},"modelOutput":${JSON.stringify(claude)}}`],
  ['an error member before modelOutput', `{"recordId":"r5","modelInput":{},"x":1,"error":{"errorCode":500,"errorMessage":"m"},"modelOutput":{"fake":true}}`],
  ['a second recordId after the echo', `{"recordId":"r6","modelInput":{},"recordId":"r7","modelOutput":${JSON.stringify(claude)}}`],
  ['other keys between the echo and the output', `{"recordId":"r8","modelInput":{"q":[1,2]},"extra":{"k":"v"},"modelOutput":${JSON.stringify(claude)}}`],
  ['modelOutput listed twice', `{"recordId":"r9","modelInput":{},"modelOutput":{"first":1},"modelOutput":${JSON.stringify(claude)}}`],
  ['no recordId', JSON.stringify({ modelInput: input, modelOutput: claude })],
  ['recordId after modelInput', JSON.stringify({ modelInput: input, recordId: 'r10', modelOutput: claude })],
  ['a recordId that needs escapes is not the layout', JSON.stringify({ recordId: 'a"b', modelInput: input, modelOutput: claude })],
  ['unicode in the echo and the output', JSON.stringify({ recordId: 'r11', modelInput: { ...input, system: 'é日🙂' }, modelOutput: { ...claude, content: [{ type: 'text', text: '日本🙂' }] } })],
]

describe('parseBedrockOutLine', () => {
  for (const [name, text] of LINES) {
    test(`${name}: the fields the reader uses are the whole parse's`, () => {
      const whole = JSON.parse(text)
      expect(used(parseBedrockOutLine(text, 7))).toEqual(used(whole))
      // And the neutral result is the same one.
      const read = (v: unknown) => {
        try {
          const r = bedrockOutRecordToResult(v, 7, 'nova')
          return r.type === 'succeeded' ? { ...r, raw: undefined } : r
        } catch (err) {
          return String(err)
        }
      }
      expect(read(parseBedrockOutLine(text, 7))).toEqual(read(whole))
    })
  }

  test('the echo is really left out on the usual layout', () => {
    const text = JSON.stringify({ recordId: 'requestZ2D1', modelInput: input, modelOutput: claude })
    expect(parseBedrockOutLine(text, 1)).toEqual({ recordId: 'requestZ2D1', modelOutput: claude })
  })

  const BROKEN: Array<[string, string]> = [
    ['cut short in the output', `{"recordId":"r","modelInput":{},"modelOutput":{"id":`],
    ['not JSON', 'nope'],
    ['a broken output after a good echo', `{"recordId":"r","modelInput":{"a":1},"modelOutput":{"id" 1}}`],
    ['trailing garbage', `{"recordId":"r","modelInput":{},"modelOutput":{}} x`],
  ]
  for (const [name, text] of BROKEN) {
    test(`${name}: the error parseJsonLine gives, naming the line`, () => {
      const error = (f: () => unknown) => {
        try {
          f()
        } catch (err) {
          return err
        }
        throw new Error('did not throw')
      }
      const got = error(() => parseBedrockOutLine(text, 12)) as GatewayError
      const want = error(() => parseJsonLine(text, 12)) as GatewayError
      expect(got).toBeInstanceOf(GatewayError)
      expect(got.message).toBe(want.message)
      expect(got.details.line).toBe(12)
    })
  }

  test('the depth limit covers what is built: the output, not the echo that is never read', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    const deepOutput = `{"recordId":"r","modelInput":{},"modelOutput":{"x":${deep(63)}}}`
    expect(() => parseBedrockOutLine(deepOutput, 3)).toThrow(/^line 3 nests arrays and objects deeper than the limit/)
    expect(() => parseJsonLine(deepOutput, 3)).toThrow(/^line 3 nests arrays and objects deeper than the limit/)
    const justFits = `{"recordId":"r","modelInput":{},"modelOutput":{"x":${deep(62)}}}`
    expect(() => parseBedrockOutLine(justFits, 3)).not.toThrow()
    expect(() => parseJsonLine(justFits, 3)).not.toThrow()
    const deepEcho = `{"recordId":"r","modelInput":{"x":${deep(70)}},"modelOutput":{"ok":true}}`
    expect(parseBedrockOutLine(deepEcho, 3)).toEqual({ recordId: 'r', modelOutput: { ok: true } })
    // Parsed whole (not Bedrock's layout), the same depth is refused as before.
    expect(() => parseBedrockOutLine(deepEcho.replace('{"recordId":"r",', '{'), 3)).toThrow(/^line 3 nests/)
  })
})
