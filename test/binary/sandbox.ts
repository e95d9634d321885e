// Runs the compiled binary the way the scratch image runs it: inside a root that holds only what
// rootfs.sh puts there (binary, libc + loader, CA bundle, data dir), as uid 65532, with no
// environment but what the test passes. Where chroot is not allowed (not root) it falls back to
// the root as working directory with a cleared environment and `PATH=`, and says so.

import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'

export type Isolation = 'chroot' | 'bare'

/** The image's user (Dockerfile USER); the data dir belongs to it. */
export const IMAGE_UID = 65532

const ROOTFS_SCRIPT = join(import.meta.dir, 'rootfs.sh')
const READY_TIMEOUT_MS = 10_000

export interface Running {
  url: string
  /** Milliseconds from spawn to the first 200 on /health. */
  readyMs: number
  /** What it has printed so far (stdout and stderr). */
  output(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>
  kill(): void
}

export interface Sandbox {
  isolation: Isolation
  /** Host path of the root. */
  root: string
  /** uid the binary runs as. */
  uid: number
  /** A root-relative absolute path (`/data`) as the binary sees it. */
  inside(path: string): string
  /** The same path on the host. */
  outside(path: string): string
  /** Runs `batchgate <args>` to completion. */
  run(args: string[], env: Record<string, string>): { exitCode: number; stdout: string; stderr: string }
  /** Starts the server on a free port and waits for /health to answer 200. */
  start(env: Record<string, string>): Promise<Running>
  close(): void
}

export function makeSandbox(binary: string, extraCaPem: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'batchgate-root-'))
  const myUid = process.getuid?.() ?? -1
  const owner = myUid === 0 ? `${IMAGE_UID}:${IMAGE_UID}` : `${myUid}:${process.getgid?.() ?? myUid}`
  const built = Bun.spawnSync(['/bin/sh', ROOTFS_SCRIPT, binary, root, owner], { stderr: 'pipe' })
  if (built.exitCode !== 0) throw new Error(`rootfs.sh failed: ${built.stderr.toString()}`)
  // The test's upstream CA joins the bundle, as a private CA would in a real deployment.
  appendFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), `\n${extraCaPem}`)

  const unshare = Bun.which('unshare')
  const chroot = Bun.which('chroot')
  const chrootCommand = (args: string[]) => [
    unshare as string,
    '--mount', // a private mount namespace: the /proc below vanishes with the process
    `--mount-proc=${join(root, 'proc')}`,
    chroot as string,
    `--userspec=${IMAGE_UID}:${IMAGE_UID}`,
    root,
    '/batchgate',
    ...args,
  ]
  const canChroot =
    myUid === 0 &&
    unshare !== null &&
    chroot !== null &&
    Bun.spawnSync(chrootCommand(['--version']), { env: { PATH: '' }, stdout: 'pipe', stderr: 'pipe' }).exitCode === 0
  const isolation: Isolation = canChroot ? 'chroot' : 'bare'
  const command = (args: string[]) => (canChroot ? chrootCommand(args) : [join(root, 'batchgate'), ...args])
  // The binary never inherits this process's environment (CA paths, proxies, BUN_* settings).
  const envFor = (env: Record<string, string>) => ({ PATH: '', ...env })
  const inside = (path: string) => (canChroot ? path : join(root, path))

  return {
    isolation,
    root,
    uid: canChroot ? IMAGE_UID : myUid,
    inside,
    outside: (path) => join(root, path),
    run: (args, env) => {
      const r = Bun.spawnSync(command(args), { cwd: root, env: envFor(env), stdout: 'pipe', stderr: 'pipe' })
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
    },
    start: async (env) => {
      const started = performance.now()
      const proc = Bun.spawn(command([]), {
        cwd: root,
        env: envFor({ ...env, BATCHGATE_HOST: '127.0.0.1', BATCHGATE_PORT: '0' }),
        stdout: 'pipe',
        stderr: 'pipe',
      })
      let text = ''
      const drained = Promise.all([collect(proc.stdout, (t) => (text += t)), collect(proc.stderr, (t) => (text += t))])
      try {
        const url = await waitForListening(proc, () => text)
        await waitForHealth(url, proc)
        const readyMs = performance.now() - started
        return {
          url,
          readyMs,
          output: () => text,
          stop: async () => {
            proc.kill('SIGTERM')
            const code = await proc.exited
            await drained
            return code
          },
          kill: () => proc.kill('SIGKILL'),
        }
      } catch (err) {
        proc.kill('SIGKILL')
        await proc.exited
        throw new Error(`${(err as Error).message}; output:\n${text}`)
      }
    },
    close: () => rmSync(root, { recursive: true, force: true }),
  }
}

async function collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }))
}

/** The start-up line names the port the kernel picked for BATCHGATE_PORT=0. */
async function waitForListening(proc: Subprocess, text: () => string): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text())?.[1]
    if (port) return `http://127.0.0.1:${port}`
    if (proc.exitCode !== null) throw new Error(`batchgate exited with ${proc.exitCode} before listening`)
    await Bun.sleep(1)
  }
  throw new Error('batchgate did not start listening in time')
}

async function waitForHealth(url: string, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) return
    if (proc.exitCode !== null) throw new Error(`batchgate exited with ${proc.exitCode}`)
    await Bun.sleep(1)
  }
  throw new Error('/health did not answer 200 in time')
}
