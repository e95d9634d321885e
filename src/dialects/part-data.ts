// The file part's data, read past busboy (issue 12, "cheap per line"): busboy finds part
// boundaries with a JavaScript Boyer-Moore-Horspool search over every byte and hands the data on
// through a Node stream, ~0.1 CPU-s per 112 MiB here. Once busboy has parsed the file part's
// head, the bytes up to the next delimiter are the part's data by definition (RFC 7578: a part
// cannot contain its delimiter), so the parser finds that delimiter with a native
// Buffer#indexOf and gives busboy only the heads, the fields and what follows the file.

/** The bytes that end a part's data: CRLF, `--` and the boundary (RFC 2046 §5.1.1). */
export const delimiterOf = (boundary: string): Buffer => Buffer.from(`\r\n--${boundary}`)

/**
 * Finds the delimiter that ends a part's data across chunks. `take` returns the chunk's data
 * bytes and, once the delimiter is found, the bytes from the delimiter on (for busboy).
 */
export class DelimiterScan {
  private readonly needle: Buffer
  /** The chunk's last bytes that could begin the delimiter, held until the next chunk. */
  private carry: Buffer = Buffer.alloc(0)

  constructor(boundary: string) {
    this.needle = delimiterOf(boundary)
  }

  take(chunk: Buffer): { data: Buffer[]; rest: Buffer | null } {
    const data: Buffer[] = []
    let bytes = chunk
    if (this.carry.length > 0 && chunk.length < this.needle.length) {
      // Too short to settle what the carry begins: searched together.
      bytes = Buffer.concat([this.carry, chunk])
      this.carry = Buffer.alloc(0)
    }
    if (this.carry.length > 0) {
      // A delimiter starting in the carry ends within the chunk's first needle-length bytes.
      const joint = Buffer.concat([this.carry, chunk.subarray(0, this.needle.length - 1)])
      const at = joint.indexOf(this.needle)
      if (at !== -1 && at < this.carry.length) {
        if (at > 0) data.push(this.carry.subarray(0, at))
        const rest = Buffer.concat([this.carry.subarray(at), chunk])
        this.carry = Buffer.alloc(0)
        return { data, rest }
      }
      data.push(this.carry)
      this.carry = Buffer.alloc(0)
    }
    const at = bytes.indexOf(this.needle)
    if (at !== -1) {
      if (at > 0) data.push(bytes.subarray(0, at))
      return { data, rest: bytes.subarray(at) }
    }
    const keep = heldBytes(bytes, this.needle)
    if (keep > 0) {
      // Copied: the caller may reuse the chunk's memory.
      this.carry = Buffer.from(bytes.subarray(bytes.length - keep))
      bytes = bytes.subarray(0, bytes.length - keep)
    }
    if (bytes.length > 0) data.push(bytes)
    return { data, rest: null }
  }

  /** What is held at the end of the body (no delimiter came: a body cut short). */
  end(): Buffer {
    const held = this.carry
    this.carry = Buffer.alloc(0)
    return held
  }
}

/**
 * How many of the last bytes of `bytes` are a proper prefix of `needle` (the longest such
 * suffix): a search engine must hold those back until it sees what follows.
 */
export function heldBytes(bytes: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]
  for (let len = Math.min(needle.length - 1, bytes.length); len > 0; len--) {
    const start = bytes.length - len
    if (bytes[start] !== first) continue
    let match = true
    for (let i = 1; i < len; i++) {
      if (bytes[start + i] !== needle[i]) {
        match = false
        break
      }
    }
    if (match) return len
  }
  return 0
}

/** The body's first bytes kept for checking the boundary (a few small fields come before a file). */
export const HEAD_BYTES = 64 * 1024

/** The boundary parameter of a multipart Content-Type (quoted or not), or null. */
export function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s"]+))/i.exec(contentType)
  return match?.[1] ?? match?.[2] ?? null
}

/**
 * How many parts `head` opens with the delimiter `needle` (`\r\n--boundary`, the body's first
 * without its CRLF): equal to the parts busboy reported only if both read the same boundary and
 * the body has no preamble — the only case the data is read past busboy.
 */
export function delimitersIn(head: Buffer, needle: Buffer): number {
  const opening = needle.subarray(2)
  if (head.indexOf(opening) !== 0 || head[opening.length] !== 0x0d) return -1
  let count = 1
  for (let at = head.indexOf(needle); at !== -1; at = head.indexOf(needle, at + needle.length)) {
    // `\r\n--boundary\r\n` opens a part; `--` after it closes the body.
    if (head[at + needle.length] === 0x0d) count++
  }
  return count
}
