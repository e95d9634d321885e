// Headless Chromium (Debian's `chromium`, which .ci/run installs) for tests of what a person
// sees: the DOM after the page's scripts ran. Every host but 127.0.0.1 is unresolvable for the
// browser, so a page that needs a CDN renders empty.

import { expect } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

export async function renderedDom(url: string): Promise<string> {
  if (!CHROMIUM) throw new Error("chromium is not installed: .ci/run installs Debian's chromium package")
  const profile = mkdtempSync(join(tmpdir(), 'batchgate-chromium-'))
  try {
    const proc = Bun.spawn(
      [
        CHROMIUM,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        `--user-data-dir=${profile}`,
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--virtual-time-budget=20000',
        '--dump-dom',
        url,
      ],
      { stdout: 'pipe', stderr: 'ignore' },
    )
    const timer = setTimeout(() => proc.kill(), 60_000)
    const [dom] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    clearTimeout(timer)
    return dom
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** Swagger UI rendered the document: an operation block per route, both dialects' groups. */
export function expectRoutesRendered(dom: string): void {
  expect(dom).toContain('class="swagger-ui"')
  for (const route of ['/openai/v1/batches', '/openai/v1/files/{id}/content', '/anthropic/v1/messages/batches', '/anthropic/v1/messages/batches/{id}/results']) {
    expect([route, dom.includes(`data-path="${route}"`)]).toEqual([route, true])
  }
  expect(dom).toContain('Anthropic dialect')
  expect(dom).toContain('OpenAI dialect')
}
