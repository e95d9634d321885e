// An HTTPS front for a plain-HTTP fake, signed by a throwaway CA made for this run, so the binary
// has to find that CA in the minimal root's CA bundle the way it finds real roots in the image.
// Certificates come from the `openssl` CLI: nothing secret is committed and nothing expires in git.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TlsFront {
  /** https://127.0.0.1:<port>, forwarding every request to the target. */
  url: string
  /** PEM of the CA that signed the front's certificate. */
  caPem: string
  /** Requests that came in over TLS and were forwarded. */
  forwarded(): number
  close(): void
}

export function startTlsFront(target: string): TlsFront {
  const dir = mkdtempSync(join(tmpdir(), 'batchgate-tls-'))
  try {
    const openssl = Bun.which('openssl')
    if (!openssl) throw new Error('the binary test needs the openssl CLI to mint its test certificates')
    const run = (...args: string[]) => {
      const r = Bun.spawnSync([openssl, ...args], { cwd: dir, stderr: 'pipe', stdout: 'ignore' })
      if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`)
    }
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=batchgate binary test CA')
    run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext')
    const read = (name: string) => readFileSync(join(dir, name), 'utf8')
    const caPem = read('ca.pem')
    let forwarded = 0
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: read('server.pem'), key: read('server.key') },
      maxRequestBodySize: 1024 ** 3,
      fetch: (req) => {
        forwarded++
        return forward(req, target)
      },
    })
    return { url: `https://127.0.0.1:${server.port}`, caPem, forwarded: () => forwarded, close: () => server.stop(true) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function forward(req: Request, target: string): Promise<Response> {
  const url = new URL(req.url)
  const headers = new Headers(req.headers)
  headers.delete('host')
  // Keep bodies byte-for-byte: no compression to undo on the way back.
  headers.set('accept-encoding', 'identity')
  const init: RequestInit & { duplex: 'half' } = {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body,
    redirect: 'manual',
    duplex: 'half',
  }
  return fetch(`${target}${url.pathname}${url.search}`, init)
}
