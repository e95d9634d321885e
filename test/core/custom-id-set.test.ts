import { describe, expect, test } from 'bun:test'
import { CustomIdSet, findFirstDuplicate } from '../../src/core/custom-id-set'

async function* pairs(ids: string[]): AsyncGenerator<{ id: string; line: number }> {
  for (const [i, id] of ids.entries()) yield { id, line: i + 1 }
}

describe('CustomIdSet', () => {
  test('keeps a repeated id as a suspect, with the line of its repeat', () => {
    const set = new CustomIdSet()
    expect(set.add('a', 1)).toBe(true)
    expect(set.add('b', 2)).toBe(true)
    expect(set.add('a', 3)).toBe(false)
    expect([...set.suspects]).toEqual([['a', 3]])
  })

  test('grows past its first filter without losing earlier ids or suspecting new ones', () => {
    const set = new CustomIdSet()
    // 300k ids fill the first four filters (≈ 22k, 44k, 87k, 175k ids each).
    const n = 300_000
    let rejected = 0
    for (let i = 0; i < n; i++) if (!set.add(`request-${i}`, i + 1)) rejected++
    // False positives are possible but must stay rare (≈ 1e-6 per filter and id).
    expect(rejected).toBeLessThan(3)
    expect(set.add('request-7', n + 1)).toBe(false)
    expect(set.add(`request-${n - 1}`, n + 2)).toBe(false)
    expect(set.suspects.get('request-7')).toBe(n + 1)
  })
})

describe('findFirstDuplicate', () => {
  test('returns the first real duplicate: its id, second line and first line', async () => {
    const suspects = new Map([['x', 4], ['y', 5]])
    expect(await findFirstDuplicate(suspects, pairs(['x', 'q', 'y', 'z', 'y', 'x']))).toEqual({ id: 'y', line: 5, firstLine: 3 })
  })

  test('returns null when every suspect was a false positive', async () => {
    expect(await findFirstDuplicate(new Map([['q', 2]]), pairs(['p', 'q', 'r']))).toBeNull()
  })

  test('does not read the file when there are no suspects', async () => {
    let read = false
    async function* ids(): AsyncGenerator<{ id: string; line: number }> {
      read = true
      yield { id: 'a', line: 1 }
    }
    expect(await findFirstDuplicate(new Map(), ids())).toBeNull()
    expect(read).toBe(false)
  })
})
