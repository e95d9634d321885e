// Google-style list paging (`pageSize`, `pageToken` → `nextPageToken`), spec §2.2 / §3.3.

import { GoogleError } from './common'

function parsePageSize(raw: string | null, def: number, max: number): number {
  if (raw === null || raw === '') return def
  if (!/^-?\d+$/.test(raw)) throw new GoogleError('INVALID_ARGUMENT', `Invalid value at 'page_size' (TYPE_INT32), "${raw}"`)
  const n = Number(raw)
  if (n < 0) throw new GoogleError('INVALID_ARGUMENT', 'page_size must not be negative.')
  return n === 0 ? def : Math.min(n, max)
}

/**
 * Newest-first paging over items with a `seq`; the page token is an opaque encoding of the last
 * returned seq, so deletes between pages do not shift results.
 */
export function paginate<T extends { seq: number }>(items: T[], url: URL, def: number, max: number): { page: T[]; next?: string } {
  const size = parsePageSize(url.searchParams.get('pageSize') ?? url.searchParams.get('page_size'), def, max)
  const token = url.searchParams.get('pageToken') ?? url.searchParams.get('page_token')
  let after = Number.POSITIVE_INFINITY
  if (token) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8')
    const m = /^seq:(\d+)$/.exec(decoded)
    if (!m) throw new GoogleError('INVALID_ARGUMENT', 'Invalid page token.')
    after = Number(m[1])
  }
  const sorted = items.filter((i) => i.seq < after).sort((a, b) => b.seq - a.seq)
  const page = sorted.slice(0, size)
  const last = page[page.length - 1]
  const next = sorted.length > size && last ? Buffer.from(`seq:${last.seq}`).toString('base64url') : undefined
  return { page, ...(next ? { next } : {}) }
}
