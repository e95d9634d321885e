import { describe, expect, test } from 'bun:test'
import type { StoredFile } from '../../src/core/file'
import { mintId } from '../../src/core/ids'
import { openDatabase, schemaVersion } from '../../src/store/db'
import { FileMappings } from '../../src/store/file-mappings'
import { SqliteDb } from '../../src/store/sqlite-db'
import { MIGRATIONS } from '../../src/store/migrations'

const file = (id: string, tenant: string): StoredFile => ({
  id,
  tenant,
  provider: 'openai',
  dialect: 'openai',
  location: { kind: 'upstream', upstreamId: `up-${id}` },
  purpose: 'batch',
  filename: 'f.jsonl',
  bytes: 1,
  mimeType: 'application/jsonl',
  createdAt: 0,
  expiresAt: null,
  facts: { format: 'raw' },
})

async function seeded(n: number): Promise<{ files: FileMappings; ids: string[] }> {
  const files = new FileMappings(new SqliteDb(openDatabase(':memory:')))
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = mintId('openaiFile')
    ids.push(id)
    await files.adopt(file(id, i % 2 === 0 ? 'a' : 'b'), `key-${id}`)
  }
  return { files, ids }
}

describe('store', () => {
  test('a fresh database is migrated to the latest schema version', () => {
    expect(schemaVersion(openDatabase(':memory:'))).toBe(MIGRATIONS.length)
  })

  test('ids minted in one millisecond still sort in minting order', () => {
    const ids = Array.from({ length: 50 }, () => mintId('openaiBatch', 1_700_000_000_000))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(50)
  })

  test('paging walks a tenant’s rows newest first, each exactly once, never another tenant’s', async () => {
    const { files, ids } = await seeded(11)
    const mine = ids.filter((_, i) => i % 2 === 0).reverse()
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await files.list('a', {}, { limit: 2, after, order: 'desc' })
      seen.push(...page.items.map((f) => f.id))
      if (!page.hasMore) break
      after = page.items.at(-1)?.id
    }
    expect(seen).toEqual(mine)
  })

  test('a before cursor pages backwards and keeps the page in list order', async () => {
    const { files, ids } = await seeded(6)
    const mine = ids.filter((_, i) => i % 2 === 0).reverse() // [newest … oldest]
    const page = await files.list('a', {}, { limit: 1, before: mine[2], order: 'desc' })
    expect(page.items.map((f) => f.id)).toEqual([mine[1] as string])
    expect(page.hasMore).toBe(true)
  })

  test('adopting the same upstream object twice yields one gateway id', async () => {
    const files = new FileMappings(new SqliteDb(openDatabase(':memory:')))
    const first = await files.adopt(file(mintId('openaiFile'), 'a'), 'same-key')
    const second = await files.adopt(file(mintId('openaiFile'), 'a'), 'same-key')
    expect(second.id).toBe(first.id)
  })
})
