// The one nesting limit for every JSON text the gateway parses: request bodies, JSONL lines
// (uploads, inline requests, every provider's result files) and upstream answers. JSON.parse
// accepts any depth, and a 200 KB body of 100 000 nested arrays becomes a value whose
// validation and error reporting cost gigabytes; so depth is counted on the text first, before
// a single value is built. Real requests nest well under 20 (a tool's JSON schema included).

import { CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE, skipString } from './json-chars'

/** Deepest nesting of arrays and objects accepted anywhere (docs/decisions.md, README limits). */
export const MAX_JSON_DEPTH = 64


/**
 * True when `text` opens more than `max` arrays/objects inside one another. Brackets inside
 * strings do not count. Malformed text is not judged here: JSON.parse still rejects it.
 */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  // Fewer openers than the limit cannot nest past it; counting them is two native searches,
  // which keeps the per-line cost of big uploads near zero.
  if (openersAtMost(text, max)) return false
  let depth = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // Brackets inside a string do not nest; an unterminated one ends the text.
      const end = skipString(text, i)
      if (end < 0) return false
      i = end - 1
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    }
  }
  return false
}

function openersAtMost(text: string, max: number): boolean {
  let count = 0
  for (const opener of ['{', '[']) {
    for (let i = text.indexOf(opener); i !== -1; i = text.indexOf(opener, i + 1)) {
      if (++count > max) return false
    }
  }
  return true
}

/** The words every depth error uses, so callers name the limit the same way. */
export const depthLimitText = `nests arrays and objects deeper than the limit of ${MAX_JSON_DEPTH} levels`

/**
 * JSON.parse behind the depth check. `tooDeep` makes the caller's error (a 400 for what a client
 * sent, a 502 for what an upstream answered); syntax errors are thrown as JSON.parse throws them.
 */
export function parseJsonBounded(text: string, tooDeep: () => Error): unknown {
  if (nestsDeeperThan(text)) throw tooDeep()
  return JSON.parse(text)
}
