import { describe, expect, test } from 'bun:test'
import { ANTHROPIC_CUSTOM_ID, decodeRecordId, encodeRecordId } from '../../src/convert/custom-ids'
import { expectGatewayError } from './helpers'

const ROUND_TRIPS: Array<{ name: string; customId: string; recordId: string }> = [
  { name: 'letters and digits stay', customId: 'abcXYZ019', recordId: 'abcXYZ5A019' },
  { name: 'hyphen is escaped', customId: 'request-1', recordId: 'requestZ2D1' },
  { name: 'the escape letter itself', customId: 'Zed', recordId: 'Z5Aed' },
  { name: 'lone Z', customId: 'Z', recordId: 'Z5A' },
  { name: 'underscore', customId: 'a_b', recordId: 'aZ5Fb' },
  { name: 'space and slash', customId: 'a b/c', recordId: 'aZ20bZ2Fc' },
  { name: 'two-byte UTF-8', customId: 'é', recordId: 'ZC3ZA9' },
  { name: 'three-byte UTF-8', customId: '日本', recordId: 'ZE6Z97ZA5ZE6Z9CZAC' },
  { name: 'four-byte UTF-8 (emoji)', customId: 'x😀', recordId: 'xZF0Z9FZ98Z80' },
  { name: 'lowercase z is kept', customId: 'zz', recordId: 'zz' },
]

describe('encodeRecordId / decodeRecordId', () => {
  for (const row of ROUND_TRIPS) {
    test(row.name, () => {
      expect(encodeRecordId(row.customId)).toBe(row.recordId)
      expect(row.recordId).toMatch(/^[A-Za-z0-9]+$/)
      expect(decodeRecordId(row.recordId)).toBe(row.customId)
    })
  }

  test('every printable ASCII character and a mixed string round-trip', () => {
    let ascii = ''
    for (let c = 32; c < 127; c++) ascii += String.fromCharCode(c)
    for (const id of [ascii, 'ünïcödé-ß_Ω≈ç√∫~ 🚀', 'Z'.repeat(10), 'req-7_ok-é-then-ascii', `${ascii}日本`]) {
      const encoded = encodeRecordId(id)
      expect(encoded).toMatch(/^[A-Za-z0-9]+$/)
      expect(decodeRecordId(encoded)).toBe(id)
    }
  })

  test('a lone surrogate is escaped as the replacement character, as TextEncoder writes it', () => {
    expect(encodeRecordId('a\ud800b')).toBe('aZEFZBFZBDb')
    expect(encodeRecordId('🚀-x')).toBe('ZF0Z9FZ9AZ80Z2Dx')
  })

  const BAD: Array<{ name: string; recordId: string; message: string }> = [
    { name: 'dangling escape', recordId: 'abZ', message: "'Z' at offset 2 is not followed by two hex digits" },
    { name: 'short escape', recordId: 'aZ4', message: 'not followed by two hex digits' },
    { name: 'lowercase hex', recordId: 'aZ2d', message: 'not followed by two hex digits' },
    { name: 'non-alphanumeric', recordId: 'a-b', message: "unexpected character '-'" },
    { name: 'truncated UTF-8', recordId: 'ZC3', message: 'not valid UTF-8' },
  ]
  for (const row of BAD) {
    test(`rejects ${row.name}`, () => {
      expectGatewayError(() => decodeRecordId(row.recordId), { kind: 'upstream', message: row.message })
    })
  }
})

describe('ANTHROPIC_CUSTOM_ID', () => {
  const ROWS: Array<[string, boolean]> = [
    ['req-1', true],
    ['A_b-9', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['a.b', false],
    ['é', false],
  ]
  for (const [id, ok] of ROWS) test(`${JSON.stringify(id.slice(0, 10))} (${id.length}) → ${ok}`, () => expect(ANTHROPIC_CUSTOM_ID.test(id)).toBe(ok))
})
