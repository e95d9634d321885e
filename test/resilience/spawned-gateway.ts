// Runs `bun src/main.ts` as a child process — the real entry point, signals and all — with only
// the environment given here (plus PATH/HOME), on 127.0.0.1 and a port the OS picks. The port
// is read from the start-up line, so waiting for it also waits for start-up reconciliation.

import type { Subprocess } from 'bun'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'

const REPO = join(import.meta.dir, '..', '..')
const START_TIMEOUT_MS = 8000

export interface SpawnedGateway {
  url: string
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Everything the process wrote to stdout so far (JSON log lines and the start-up line). */
  output(): string
  /** Everything it wrote to stderr (warn and error log lines). */
  errors(): string
  exited: Promise<number>
}

export async function spawnGateway(env: Record<string, string>): Promise<SpawnedGateway> {
  const proc = Bun.spawn([process.execPath, 'src/main.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATCHGATE_HOST: '127.0.0.1', BATCHGATE_PORT: '0', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  let err = ''
  const drain = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }))
  }
  void drain(proc.stdout, (s) => {
    out += s
  })
  void drain(proc.stderr, (s) => {
    err += s
  })
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
    if (m?.[1]) return { url: m[1], proc, output: () => out, errors: () => err, exited: proc.exited }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`gateway did not start (exit ${proc.exitCode}):\n${out}\n${err}`)
    }
    await Bun.sleep(20)
  }
}

/** Polls `check` every 20 ms until it holds; fails after `ms` naming what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

/** A read-only look at a gateway's database from outside the process (WAL allows it). */
export function rows<T>(dataDir: string, sql: string): T[] {
  const db = new Database(join(dataDir, 'batchgate.sqlite'), { readonly: true })
  try {
    return db.query<T, []>(sql).all()
  } finally {
    db.close()
  }
}
