// Opening the database waits for another connection's lock instead of failing at once: the
// busy timeout is set before the first statement that may need a lock (switching to WAL). A
// restart that opens the file while the previous connection (or its checkpoint thread) still
// holds it got SQLITE_BUSY from `PRAGMA journal_mode = WAL` before.

import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/store/db'

test('openDatabase waits while another process holds an exclusive lock on the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchgate-busy-'))
  try {
    const file = join(dir, 'batchgate.sqlite')
    // A database in rollback-journal mode: switching it to WAL needs an exclusive lock.
    const seed = new Database(file, { create: true })
    seed.exec('CREATE TABLE t (x)')
    seed.close()
    const holder = Bun.spawn(
      [process.execPath, '-e', `const { Database } = require('bun:sqlite'); const db = new Database(${JSON.stringify(file)}); db.exec('BEGIN EXCLUSIVE'); db.exec('INSERT INTO t VALUES (1)'); console.log('locked'); await Bun.sleep(400); db.exec('COMMIT'); db.close()`],
      { stdout: 'pipe', stderr: 'inherit' },
    )
    const reader = holder.stdout.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toContain('locked')
    const db = openDatabase(dir)
    expect(db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode).toBe('wal')
    expect(db.query<{ n: number }, []>('SELECT count(*) AS n FROM t').get()?.n).toBe(1)
    db.close()
    expect(await holder.exited).toBe(0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
