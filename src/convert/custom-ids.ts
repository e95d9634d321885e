// Per-request id rules. Bedrock documents `recordId` as alphanumeric, so custom_ids travel there
// in a reversible escape that uses only [A-Za-z0-9]; Anthropic accepts its own narrower pattern.

import { GatewayError } from '../errors'

/** Anthropic's custom_id rule (Message Batches API reference). */
export const ANTHROPIC_CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/

const ESCAPE = 'Z'
const ALL_KEPT = /^[A-Ya-z0-9]*$/
const HEX = '0123456789ABCDEF'
const utf8 = new TextEncoder()

/**
 * Letters and digits other than `Z` stay as they are; `Z` and every other UTF-8 byte become `Z`
 * plus two uppercase hex digits. `request-1` → `requestZ2D1`, `Zed` → `Z5Aed`, `é` → `ZC3ZA9`.
 */
export function encodeRecordId(customId: string): string {
  // The usual id needs no escape: one regex test instead of one per character.
  if (ALL_KEPT.test(customId)) return customId
  let out = ''
  for (let i = 0; i < customId.length; i++) {
    const c = customId.charCodeAt(i)
    if (c < 0x80) {
      // ASCII (the usual `request-1`): its one byte, from its char code.
      out += isKept(c) ? customId.charAt(i) : ESCAPE + HEX[c >> 4] + HEX[c & 15]
      continue
    }
    // A wider character, a surrogate pair counted as one: its UTF-8 bytes.
    const ch = String.fromCodePoint(customId.codePointAt(i) as number)
    i += ch.length - 1
    for (const byte of utf8.encode(ch)) out += ESCAPE + HEX[byte >> 4] + HEX[byte & 15]
  }
  return out
}

/** Inverse of encodeRecordId. A record id we did not mint is an upstream data problem. */
export function decodeRecordId(recordId: string): string {
  // One pass over char codes; the common id (kept letters and digits, escapes of ASCII bytes
  // such as `-` and `_`) becomes a string without a byte array or a TextDecoder (both showed in a
  // results download's profile, docs/benchmark.md).
  let out = ''
  let bytes: number[] | null = null
  for (let i = 0; i < recordId.length; ) {
    const c = recordId.charCodeAt(i)
    let byte: number
    if (c !== Z) {
      if (!isKept(c)) throw badRecordId(recordId, `unexpected character '${recordId.charAt(i)}'`)
      byte = c
      i += 1
    } else {
      const hi = hexValue(recordId.charCodeAt(i + 1))
      const lo = hexValue(recordId.charCodeAt(i + 2))
      if (hi < 0 || lo < 0) throw badRecordId(recordId, `'Z' at offset ${i} is not followed by two hex digits`)
      byte = (hi << 4) | lo
      i += 3
    }
    if (bytes === null && byte < 0x80) out += String.fromCharCode(byte)
    else {
      // A non-ASCII byte: from here on collect bytes and decode them as UTF-8 at the end.
      bytes ??= Array.from(out, (ch) => ch.charCodeAt(0))
      bytes.push(byte)
    }
  }
  if (bytes === null) return out
  try {
    return strictUtf8.decode(new Uint8Array(bytes))
  } catch {
    throw badRecordId(recordId, 'escaped bytes are not valid UTF-8')
  }
}

const Z = 0x5a
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Every ASCII letter and digit except the escape letter `Z` (A-Y, a-z, 0-9), as char codes. */
function isKept(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x59) || (c >= 0x61 && c <= 0x7a)
}

/** Value of an uppercase hex digit, or -1 (NaN past the end is not one either). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

function badRecordId(recordId: string, why: string): GatewayError {
  return new GatewayError('upstream', `Bedrock recordId '${recordId.slice(0, 80)}' is not one batchgate minted: ${why}`, {
    code: 'malformed_result_line',
  })
}
