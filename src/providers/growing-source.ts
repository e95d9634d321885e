// A spool file that is still being written (issue 12, "one pass"): the converter appends to it
// while a provider's upload already sends what is on disk. Readers wait for a byte offset; the
// writer reports progress after each flush, then the final size or the error it stopped on —
// which every waiting reader then throws, so an upload never completes on half a file.

export class GrowingSource {
  /** Bytes on disk so far (flushed, readable through a fresh file handle). */
  written = 0
  /** The file's size once the writer is done; null while it writes. */
  total: number | null = null
  private failure: { err: unknown } | null = null
  private waiters: (() => void)[] = []
  private readonly settled: Promise<number>
  private settle!: { resolve: (bytes: number) => void; reject: (err: unknown) => void }

  constructor(readonly path: string) {
    this.settled = new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject }
    })
    // Readers that only poll `until` must not see an unhandled rejection.
    this.settled.catch(() => undefined)
  }

  grow(bytes: number): void {
    this.written = bytes
    this.wake()
  }

  finish(bytes: number): void {
    this.written = bytes
    this.total = bytes
    this.settle.resolve(bytes)
    this.wake()
  }

  fail(err: unknown): void {
    if (this.total !== null || this.failure) return
    this.failure = { err }
    this.settle.reject(err)
    this.wake()
  }

  /** The final size (throws the writer's error). */
  done(): Promise<number> {
    return this.settled
  }

  /**
   * Waits until `offset` bytes are on disk or the writer is done; returns the bytes readable then.
   * Throws the writer's error.
   */
  async until(offset: number): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure.err
      if (this.written >= offset || this.total !== null) return this.written
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
