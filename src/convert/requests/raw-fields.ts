// The top-level fields of a JSON object as their raw JSON text, found by one scan of the line and
// nothing parsed. The emulated runner sends each request's `body` as it is in the input line: a
// JSON.parse of the line and a JSON.stringify of its body cost more of the event loop than the
// rest of the runner's own work per request (issue 17). Its input lines were checked whole at
// upload or create (core/batch-file.ts), so the scan only has to find where values start and end;
// anything it does not recognise returns null and the caller parses the line the ordinary way.

import { CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE, skipString } from '../json-chars'

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  return i
}

/** The index just past the value starting at `i`; -1 if it is not a complete value. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i)
  if (first === QUOTE) return skipString(text, i)
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next delimiter.
    let k = i
    while (k < text.length) {
      const c = text.charCodeAt(k)
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) break
      k++
    }
    return k > i ? k : -1
  }
  // Strings are jumped over with indexOf (most of a request body is string content); only the
  // text between them is looked at character by character.
  let depth = 0
  let k = i
  for (;;) {
    const quote = text.indexOf('"', k)
    const stop = quote < 0 ? text.length : quote
    for (; k < stop; k++) {
      const c = text.charCodeAt(k)
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return k + 1
    }
    if (quote < 0) return -1
    k = skipString(text, quote)
    if (k < 0) return -1
  }
}

const ESCAPED = Symbol('escaped key')

/** Which wanted key the key text between `from` and `to` is, without slicing it out. */
function wantedAt<K extends string>(text: string, from: number, to: number, wanted: readonly K[]): K | null | typeof ESCAPED {
  for (const w of wanted) if (to - from === w.length && text.startsWith(w, from)) return w
  return text.lastIndexOf('\\', to) >= from ? ESCAPED : null
}

/**
 * The raw JSON text of each wanted top-level key of an object line (a string value keeps its
 * quotes); null when the line is not one JSON object, or a key repeats (JSON.parse keeps the last
 * one; the caller's ordinary parse then decides).
 */
export function rawFields<K extends string>(text: string, wanted: readonly K[]): Partial<Record<K, string>> | null {
  const out: Partial<Record<K, string>> = {}
  let i = skipSpace(text, 0)
  if (text.charCodeAt(i) !== OPEN_BRACE) return null
  i = skipSpace(text, i + 1)
  if (text.charCodeAt(i) === CLOSE_BRACE) return skipSpace(text, i + 1) === text.length ? out : null
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return null
    const keyEnd = skipString(text, i)
    if (keyEnd < 0) return null
    // A key written with escapes is left to the ordinary parse.
    const key = wantedAt(text, i + 1, keyEnd - 1, wanted)
    if (key === ESCAPED) return null
    i = skipSpace(text, keyEnd)
    if (text.charCodeAt(i) !== COLON) return null
    const start = skipSpace(text, i + 1)
    const end = skipValue(text, start)
    if (end < 0) return null
    if (key !== null) {
      if (out[key] !== undefined) return null
      out[key] = text.slice(start, end)
    }
    i = skipSpace(text, end)
    const c = text.charCodeAt(i)
    if (c === CLOSE_BRACE) return skipSpace(text, i + 1) === text.length ? out : null
    if (c !== COMMA) return null
    i = skipSpace(text, i + 1)
  }
}
