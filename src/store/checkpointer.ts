// Moves the SQLite WAL's checkpoints off the event loop. SQLite checkpoints inside the commit that
// crosses wal_autocheckpoint (1 000 pages): that commit copies ~4 MiB into the database file and
// fsyncs twice, and on a busy disk the event loop stood still for 5–30 ms each time — an emulated
// batch of 20 000 answers lost 40–300 ms of its ~0.6 s that way (docs/benchmark.md, i17-fast).
// Started by the writers that commit many small groups (the emulated runner's group commit):
// a worker thread checkpoints every few milliseconds with its own connection, and this
// connection's own checkpoints are left as a safety net at a WAL ten times larger.

import type { Database } from 'bun:sqlite'
import type { CheckpointMessage } from './checkpoint-worker'

const EVERY_MS = 50
/** SQLite's default; the threshold this connection goes back to if the worker fails. */
const DEFAULT_PAGES = 1000
const SAFETY_NET_PAGES = 10_000
const CLOSE_WAIT_MS = 2000

/**
 * The worker's entry. In the compiled binary it is an entrypoint of the build (package.json
 * "build"), found by its path under the entrypoints' common root (src/), as core/convert-pool.ts
 * finds its worker; from source it is the file next to this one.
 */
const WORKER_URL = import.meta.url.startsWith('file:///$bunfs/')
  ? './store/checkpoint-worker.ts'
  : new URL('./checkpoint-worker.ts', import.meta.url).href

export class Checkpointer {
  private worker: Worker | null = null
  /** A thread that failed is not started again: the commits checkpoint, as SQLite does by default. */
  private failed = false

  constructor(private readonly db: Database) {}

  /** Idempotent. Only for a database file (an in-memory one has no WAL). */
  start(): void {
    if (this.worker || this.failed) return
    const worker = new Worker(WORKER_URL)
    this.worker = worker
    worker.unref()
    // A failed thread changes nothing but speed: the commits checkpoint again, as by default.
    worker.onerror = () => {
      this.worker = null
      this.failed = true
      // (The store may be closing: then there is no threshold left to restore.)
      try {
        this.db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_PAGES}`)
      } catch {}
    }
    this.db.exec(`PRAGMA wal_autocheckpoint = ${SAFETY_NET_PAGES}`)
    worker.postMessage({ open: this.db.filename, everyMs: EVERY_MS } satisfies CheckpointMessage)
  }

  /** Closes the worker's connection first, so the caller's close is the last one (and checkpoints). */
  async stop(): Promise<void> {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    const closed = new Promise<void>((resolve) => {
      worker.onmessage = (event: MessageEvent<string>) => {
        if (event.data === 'closed') resolve()
      }
      setTimeout(resolve, CLOSE_WAIT_MS).unref?.()
    })
    worker.postMessage({ close: true } satisfies CheckpointMessage)
    await closed
    worker.terminate()
  }
}
