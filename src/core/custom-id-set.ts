// Duplicate custom_id detection in bounded memory. An exact Set would grow with the file (a 2 GB
// upload holds millions of ids), so ids go into a Bloom filter sized from the upload, and only
// ids the filter has "maybe seen" are kept as suspects. Suspects are rare; when there are any,
// verifyDuplicates() makes a second pass over the spooled file to tell real duplicates apart
// from false positives, so the answer is exact.

const MIN_BITS = 1 << 16
const MAX_BITS = 1 << 28 // 32 MiB
const HASHES = 7

export class CustomIdSet {
  private readonly bits: Uint32Array
  private readonly mask: number
  /** custom_id → first line it was seen on, for ids the filter may have seen before. */
  readonly suspects = new Map<string, number>()

  /** `expectedIds` is an upper estimate (e.g. upload bytes / 64); ~38 bits per id are used. */
  constructor(expectedIds: number) {
    let bits = MIN_BITS
    while (bits < expectedIds * 38 && bits < MAX_BITS) bits *= 2
    this.bits = new Uint32Array(bits / 32)
    this.mask = bits - 1
  }

  /** Adds an id; returns false if it may be a duplicate (then it is kept as a suspect). */
  add(id: string, line: number): boolean {
    const h = Bun.hash.wyhash(id)
    const h1 = Number(h & 0xffffffffn)
    const h2 = Number(h >> 32n) | 1
    let seen = true
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & this.mask
      const word = bit >>> 5
      const flag = 1 << (bit & 31)
      if (((this.bits[word] as number) & flag) === 0) {
        seen = false
        this.bits[word] = (this.bits[word] as number) | flag
      }
    }
    if (seen && !this.suspects.has(id)) this.suspects.set(id, line)
    return !seen
  }
}

/**
 * Given the suspects and every (id, line) of the file again, returns the first real duplicate:
 * the id and the line of its second occurrence, or null.
 */
export async function findFirstDuplicate(
  suspects: ReadonlyMap<string, number>,
  ids: AsyncIterable<{ id: string; line: number }>,
): Promise<{ id: string; line: number; firstLine: number } | null> {
  if (suspects.size === 0) return null
  const firstSeen = new Map<string, number>()
  for await (const { id, line } of ids) {
    if (!suspects.has(id)) continue
    const first = firstSeen.get(id)
    if (first !== undefined) return { id, line, firstLine: first }
    firstSeen.set(id, line)
  }
  return null
}
