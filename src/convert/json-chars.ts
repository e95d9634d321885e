// JSON's structural characters, and the one way to step over a string, for the scanners that
// look at JSON text without parsing it (json-depth.ts, requests/raw-fields.ts).

export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const OPEN_BRACE = 0x7b
export const CLOSE_BRACE = 0x7d
export const OPEN_BRACKET = 0x5b
export const CLOSE_BRACKET = 0x5d
export const COMMA = 0x2c
export const COLON = 0x3a

/** The index just past the string whose opening quote is at `i`; -1 if it never closes. */
export function skipString(text: string, i: number): number {
  let at = i + 1
  for (;;) {
    const q = text.indexOf('"', at)
    if (q < 0) return -1
    // A quote preceded by an odd number of backslashes is escaped.
    let slashes = 0
    for (let k = q - 1; k > i && text.charCodeAt(k) === BACKSLASH; k--) slashes++
    if (slashes % 2 === 0) return q + 1
    at = q + 1
  }
}
