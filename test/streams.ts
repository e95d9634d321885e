// Byte streams for tests of code that must give the same answer wherever its input's chunks
// are cut.

/** The bytes as a stream cut every `step` bytes (or at the given ascending offsets). */
export function cut(bytes: Uint8Array, at: number | number[]): ReadableStream<Uint8Array> {
  const offsets = typeof at === 'number' ? Array.from({ length: Math.ceil(bytes.length / at) - 1 }, (_, k) => (k + 1) * at) : at
  const bounds = [0, ...offsets.filter((o) => o > 0 && o < bytes.length), bytes.length]
  const chunks = bounds.slice(1).map((end, k) => bytes.slice(bounds[k], end))
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift()
      if (next) controller.enqueue(next)
      else controller.close()
    },
  })
}
