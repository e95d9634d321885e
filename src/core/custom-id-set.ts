// Duplicate custom_id detection in bounded memory. An exact Set would grow with the file (a 2 GB
// upload holds millions of ids), so ids go into a Bloom filter, and only ids the filter has
// "maybe seen" are kept as suspects. Suspects are rare; when there are any, findFirstDuplicate()
// makes a second pass over the spooled file to tell real duplicates apart from false positives,
// so the answer is exact.
//
// The filter grows with the ids actually seen (a scalable Bloom filter: a chain of filters, each
// twice the last) instead of being sized up front from the upload's bytes. Sizing from bytes
// had to assume the shortest possible lines, so a 256 MB upload of 7 KB lines held a 32 MiB
// bit array for 36k ids; and memory held alive that long raises JavaScriptCore's GC threshold by
// several times its own size (measured: an idle 8 MiB array added 36 MiB to a conversion's peak
// RSS). Now those 36k ids take 384 KiB.

/** Bits in the first filter; each next one doubles. */
const FIRST_BITS = 1 << 20
/** A filter takes new ids until it holds one per this many bits: ~1e-6 false positives each. */
const BITS_PER_ID = 48
const HASHES = 7
/** Seeds for the two hash functions double hashing is built from; any two distinct values do. */
const SEED_A = 0x9747b28c
const SEED_B = 0x5bd1e995

class BloomFilter {
  private readonly bits: Uint32Array
  private readonly mask: number
  readonly capacity: number
  size = 0

  /** `bitCount` must be a power of two (positions are masked, not reduced modulo). */
  constructor(readonly bitCount: number) {
    this.bits = new Uint32Array(bitCount / 32)
    this.mask = bitCount - 1
    this.capacity = Math.floor(bitCount / BITS_PER_ID)
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & this.mask
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false
    }
    return true
  }

  insert(h1: number, h2: number): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & this.mask
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31))
    }
    this.size++
  }
}

export class CustomIdSet {
  private readonly filters = [new BloomFilter(FIRST_BITS)]
  /** custom_id → a line it was seen on, for ids the filter may have seen before. */
  readonly suspects = new Map<string, number>()

  /** Adds an id; returns false if it may be a duplicate (then it is kept as a suspect). */
  add(id: string, line: number): boolean {
    // Two 32-bit hashes rather than one 64-bit wyhash: no BigInt per id (measured ~1.5× faster).
    const h1 = Bun.hash.murmur32v3(id, SEED_A)
    const h2 = Bun.hash.murmur32v3(id, SEED_B) | 1
    if (this.filters.some((f) => f.has(h1, h2))) {
      if (!this.suspects.has(id)) this.suspects.set(id, line)
      return false
    }
    let newest = this.filters[this.filters.length - 1] as BloomFilter
    if (newest.size >= newest.capacity) {
      newest = new BloomFilter(newest.bitCount * 2)
      this.filters.push(newest)
    }
    newest.insert(h1, h2)
    return true
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
