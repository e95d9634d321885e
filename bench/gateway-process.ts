// Runs the gateway the way an operator does — `bun src/main.ts` in its own process — so its
// memory can be read from /proc without the bench's own allocations (generated files, fakes,
// client buffers) mixed in.

import { join } from 'node:path'
import type { Subprocess } from 'bun'

export interface GatewayProcess {
  url: string
  pid: number
  stop(): Promise<void>
}

const REPO = join(import.meta.dir, '..')
const LISTENING = /listening on (http:\/\/\S+)/
const GATEWAY_RAM_BUDGET = String(512 * 1024 * 1024)

export async function spawnGateway(
  env: Record<string, string>,
  logPath: string,
  cpuProfDir?: string | null,
  /** The script to run: the gateway, or the bench's bare relay (bench/ceiling-relay.ts). */
  script = 'src/main.ts',
): Promise<GatewayProcess> {
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const child: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn([process.execPath, ...profile, join(REPO, script)], {
    cwd: REPO,
    // The heap budget `npm start` and the image set (docs/deploy.md, "Memory"); --gateway-env overrides it.
    env: { PATH: process.env.PATH ?? '', BUN_JSC_forceRAMSize: GATEWAY_RAM_BUDGET, ...env, BATCHGATE_HOST: '127.0.0.1', BATCHGATE_PORT: '0' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const log = Bun.file(logPath).writer()
  void pump(child.stderr, log)
  const url = await readUntilListening(child.stdout, log)
  if (!url) {
    await child.exited
    await log.end()
    throw new Error(`${script} exited with ${child.exitCode} before listening; see ${logPath}`)
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM')
      await child.exited
      await log.end()
    },
  }
}

/** Copies stdout to the log until the start line names the address, then keeps copying. */
async function readUntilListening(stdout: ReadableStream<Uint8Array>, log: Bun.FileSink): Promise<string | null> {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let seen = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return null
    log.write(value)
    seen += decoder.decode(value, { stream: true })
    const match = LISTENING.exec(seen)
    if (match) {
      reader.releaseLock()
      void pump(stdout, log)
      return match[1] as string
    }
  }
}

async function pump(stream: ReadableStream<Uint8Array>, log: Bun.FileSink): Promise<void> {
  for await (const chunk of stream) log.write(chunk)
}
