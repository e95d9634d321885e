// Reading a Bedrock `.out` line without building its `modelInput`. Bedrock echoes every request
// in its record (`{recordId, modelInput, modelOutput|error}`, bedrock.md §2.2); the gateway never
// reads the echo, yet it is about half of each line, and JSON.parse was the largest item in a
// results download's profile (docs/benchmark.md). So when a line has Bedrock's layout, only the
// last member's value is parsed (a substring: JSON.parse of a concatenation measured slower than
// parsing the whole line); anything else is parsed whole, as every line was.
//
// Why this cannot change what the reader sees (it reads recordId, error and modelOutput): the
// prefix test pins `recordId` (letters and digits, so its text is its value) and `modelInput` as
// the first members of the top-level object. The value parsed runs from the first `"modelOutput"`
// or `"error"` key after that to the line's last `}`. A `"word"` in JSON text is always a whole
// string token (a quote inside a string is escaped), so what lies between holds neither key nor a
// second `"recordId"` (checked). If the key found is the top-level one and its value is the last
// member, the substring is exactly that value. If the key is nested inside modelInput, or more
// members follow its value, the substring is not one JSON value and JSON.parse rejects it; the
// line is then parsed whole. The echo itself is not read at all (neither its syntax nor its depth
// is judged: no value is built from it), and the value kept lacks it (no writer passes Bedrock
// records on).

import { invalid } from '../../errors'
import { depthLimitText, MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth'
import { parseJsonLine } from '../lines'

/** `{"recordId": "<letters/digits>", "modelInput":` with optional whitespace: Bedrock's layout. */
const LAYOUT = /^\{\s*"recordId"\s*:\s*"([A-Za-z0-9]*)"\s*,\s*"modelInput"\s*:/

/** JSON.parse of a Bedrock `.out` line, modelInput left out when that is safe; errors as parseJsonLine's. */
export function parseBedrockOutLine(text: string, line: number): unknown {
  const layout = LAYOUT.exec(text)
  const last = layout ? lastMember(text, layout[0].length) : null
  if (layout && last) {
    const value = text.slice(last.start, last.end)
    // The value sits one level inside the record; the echo is not built, so its depth is not judged.
    if (nestsDeeperThan(value, MAX_JSON_DEPTH - 1)) throw invalid(`line ${line} ${depthLimitText}`, { line, code: 'invalid_json' })
    try {
      return { recordId: layout[1], [last.key]: JSON.parse(value) }
    } catch {
      // A key nested in the echo, more members, or a broken line: the whole parse decides.
    }
  }
  return parseJsonLine(text, line)
}

interface Member {
  key: 'modelOutput' | 'error'
  /** The value's text: from after the colon to before the line's closing brace. */
  start: number
  end: number
}

/** The first `"modelOutput"` / `"error"` key after `from`, if it can be the last member; else null. */
function lastMember(text: string, from: number): Member | null {
  let at = text.indexOf('"modelOutput"', from)
  let key: Member['key'] = 'modelOutput'
  // Searched only in between (a substring is a view in JavaScriptCore; lastIndexOf measured slow).
  const between = at === -1 ? text.slice(from) : text.slice(from, at)
  const errorAt = between.indexOf('"error"')
  if (errorAt !== -1) {
    at = from + errorAt
    key = 'error'
  }
  if (at === -1 || text.slice(from, at).includes('"recordId"')) return null
  let start = at + key.length + 2
  while (isSpace(text.charCodeAt(start))) start++
  if (text.charCodeAt(start) !== 0x3a) return null
  let end = text.length - 1
  while (isSpace(text.charCodeAt(end))) end--
  if (text.charCodeAt(end) !== 0x7d) return null
  return { key, start: start + 1, end }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
