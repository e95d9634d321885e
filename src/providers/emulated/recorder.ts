// Group commit for an emulated run's answers: answers that arrive in the same event-loop turn
// (or while a write is pending) go to the store in one statement. Each answer's callback runs only
// once its own row is written, so nothing counts, and no slot frees, before the answer is durable.
// Callbacks instead of a promise per answer: the runner records tens of thousands a second, and
// each promise (with its two closures) was garbage the collector had to chase.

import type { RecordedResult } from '../../store/emulated-runs'
import type { Store } from '../../store/store'

const GROUP_ROWS = 200

/** Runs once the row is written (err undefined) or its write failed. */
export type Written = (err?: unknown) => void

export class Recorder {
  private rows: RecordedResult[] = []
  private callbacks: Written[] = []
  private flushing = false

  constructor(
    private readonly store: Store,
    private readonly id: string,
  ) {}

  record(result: RecordedResult, written: Written): void {
    this.rows.push(result)
    this.callbacks.push(written)
    if (this.flushing) return
    this.flushing = true
    // One event-loop turn gathers the answers that arrived together. (A fixed wait here held
    // every slot that long.)
    setImmediate(() => void this.flush())
  }

  private async flush(): Promise<void> {
    while (this.rows.length > 0) {
      // The whole queue when it fits in one group (no copy), else its first GROUP_ROWS.
      let rows = this.rows
      let callbacks = this.callbacks
      if (rows.length > GROUP_ROWS) {
        rows = this.rows.splice(0, GROUP_ROWS)
        callbacks = this.callbacks.splice(0, GROUP_ROWS)
      } else {
        this.rows = []
        this.callbacks = []
      }
      let failure: unknown
      try {
        await this.store.emulated.recordMany(this.id, rows)
      } catch (err) {
        failure = err ?? new Error('recording the answers failed')
      }
      for (const written of callbacks) written(failure)
    }
    this.flushing = false
  }
}
