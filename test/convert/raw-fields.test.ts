// convert/requests/raw-fields.ts: the emulated runner takes custom_id, url and body out of each
// input line by one scan, as raw JSON text. Whatever the line's layout, the text it finds must
// mean what JSON.parse reads there; lines it cannot vouch for are left to JSON.parse (null).

import { describe, expect, test } from 'bun:test'
import { rawFields } from '../../src/convert/requests/raw-fields'

const FIELDS = ['custom_id', 'url', 'body'] as const

/** The scan agrees with JSON.parse on every wanted field of the line. */
function agrees(text: string): void {
  const raw = rawFields(text, FIELDS)
  expect(raw).not.toBeNull()
  const parsed = JSON.parse(text) as Record<string, unknown>
  for (const key of FIELDS) {
    const value = raw?.[key]
    if (value === undefined) expect(key in parsed).toBe(false)
    else expect(JSON.parse(value)).toEqual(parsed[key])
  }
}

describe('raw fields of a batch line', () => {
  test('any key order, spacing and nesting: each value is the text JSON.parse reads', () => {
    agrees('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}')
    agrees(' { "body" : { "a" : [ 1 , { "b" : "}]\\"{[" } ] , "c" : null } ,\t"url":"/v1/x", "custom_id" : "q\\"uote\\\\" , "n": -1.5e3, "t": true }\r\n'.trim())
    agrees('{"custom_id":"é🙂\\u00e9","url":"/v1/embeddings","body":{"input":["\\\\","\\"",""],"nested":{"deep":[[[[]]]]}},"extra":[false,null,{}]}')
    agrees('{"url":"/v1/responses","custom_id":"x","body":{}}')
    agrees('{}')
  })

  test('the body keeps its bytes: fields a server knows and the gateway does not are sent as written', () => {
    const body = '{ "model":"m", "messages":[{"role":"user","content":"a  b"}], "x_server_field": {"k": 1.0} }'
    expect(rawFields(`{"custom_id":"a","url":"/v1/chat/completions","body":${body}}`, FIELDS)?.body).toBe(body)
  })

  test('what it cannot vouch for goes to JSON.parse: a repeated key, an escaped key, trailing text, a cut line', () => {
    expect(rawFields('{"custom_id":"a","custom_id":"b","url":"/v1/x","body":{}}', FIELDS)).toBeNull()
    expect(rawFields('{"custom\\u005fid":"a","url":"/v1/x","body":{}}', FIELDS)).toBeNull()
    expect(rawFields('{"custom_id":"a","body":{}} x', FIELDS)).toBeNull()
    expect(rawFields('{"custom_id":"a","body":{"k":"v"', FIELDS)).toBeNull()
    expect(rawFields('{"custom_id":"a\\", "body": {}}', FIELDS)).toBeNull()
    expect(rawFields('["custom_id"]', FIELDS)).toBeNull()
  })

  test('random lines built by JSON.stringify agree with JSON.parse', () => {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)] as T
    const strings = ['', 'a', '"', '\\', '}', '{[', 'é', '🙂', '\n\t', 'custom_id', '"body":{']
    const value = (depth: number): unknown => {
      const r = Math.random()
      if (depth > 3 || r < 0.3) return pick([pick(strings), 1, -2.5, true, false, null])
      if (r < 0.65) return Array.from({ length: Math.floor(Math.random() * 4) }, () => value(depth + 1))
      return Object.fromEntries(Array.from({ length: Math.floor(Math.random() * 4) }, (_, k) => [`${pick(strings)}${k}`, value(depth + 1)]))
    }
    for (let n = 0; n < 500; n++) {
      const entries: Array<[string, unknown]> = [
        ['custom_id', pick(strings) + n],
        ['method', 'POST'],
        ['url', '/v1/chat/completions'],
        ['body', { model: 'm', extra: value(0) }],
      ]
      entries.sort(() => Math.random() - 0.5)
      agrees(JSON.stringify(Object.fromEntries(entries), null, Math.random() < 0.3 ? 1 : undefined).replaceAll('\n', ' '))
    }
  })
})
