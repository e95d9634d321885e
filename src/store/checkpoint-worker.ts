// The thread that checkpoints the gateway's SQLite WAL (checkpointer.ts): its own connection to
// the same file, copying committed frames into the database every few milliseconds. A PASSIVE
// checkpoint never waits for readers or writers, so the event loop's commits go on meanwhile.
// While commits keep coming, the log is never all copied at the moment a commit starts, so the
// commits never rewind it (and a RESTART checkpoint leaves the rewind to them, measured: the log
// kept growing): once it holds TRUNCATE_FRAMES, a TRUNCATE checkpoint empties it here. That one
// holds the commits back while it runs, briefly: the PASSIVE one before it copied the frames.

import { Database } from 'bun:sqlite'

declare const self: Worker

export type CheckpointMessage = { open: string; everyMs: number } | { close: true }

/** 16 MiB of 4 KiB pages. */
const TRUNCATE_FRAMES = 4096

let db: Database | null = null
let timer: ReturnType<typeof setInterval> | null = null

self.onmessage = (event: MessageEvent<CheckpointMessage>) => {
  const message = event.data
  if ('open' in message) {
    db = new Database(message.open, { strict: true })
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA synchronous = NORMAL')
    const passive = db.query<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(PASSIVE)')
    const truncate = db.query('PRAGMA wal_checkpoint(TRUNCATE)')
    timer = setInterval(() => {
      const done = passive.all()[0]
      if (done && done.log >= TRUNCATE_FRAMES) truncate.run()
    }, message.everyMs)
    self.postMessage('open')
    return
  }
  if (timer) clearInterval(timer)
  db?.close()
  db = null
  self.postMessage('closed')
}
