// Per-request id rules. Bedrock documents `recordId` as alphanumeric, so custom_ids travel there
// in a reversible escape that uses only [A-Za-z0-9]; Anthropic accepts its own narrower pattern.

import { GatewayError } from '../errors'

/** Anthropic's custom_id rule (Message Batches API reference). */
export const ANTHROPIC_CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/

const ESCAPE = 'Z'
const KEPT = /^[A-Ya-z0-9]$/ // every ASCII letter and digit except the escape letter `Z`
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
  for (const ch of customId) {
    if (KEPT.test(ch)) {
      out += ch
      continue
    }
    for (const byte of utf8.encode(ch)) out += ESCAPE + HEX[byte >> 4] + HEX[byte & 15]
  }
  return out
}

/** Inverse of encodeRecordId. A record id we did not mint is an upstream data problem. */
export function decodeRecordId(recordId: string): string {
  const bytes: number[] = []
  for (let i = 0; i < recordId.length; ) {
    const ch = recordId.charAt(i)
    if (ch !== ESCAPE) {
      if (!KEPT.test(ch)) throw badRecordId(recordId, `unexpected character '${ch}'`)
      bytes.push(ch.charCodeAt(0))
      i += 1
      continue
    }
    const hex = recordId.slice(i + 1, i + 3)
    if (!/^[0-9A-F]{2}$/.test(hex)) throw badRecordId(recordId, `'Z' at offset ${i} is not followed by two hex digits`)
    bytes.push(Number.parseInt(hex, 16))
    i += 3
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
  } catch {
    throw badRecordId(recordId, 'escaped bytes are not valid UTF-8')
  }
}

function badRecordId(recordId: string, why: string): GatewayError {
  return new GatewayError('upstream', `Bedrock recordId '${recordId.slice(0, 80)}' is not one batchgate minted: ${why}`, {
    code: 'malformed_result_line',
  })
}
