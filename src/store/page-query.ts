// Keyset paging over a tenant's rows, shared by files and batches. Gateway ids sort by creation
// time (core/ids.ts), so `id` is the only key needed and a cursor is simply an id.

import type { SqlDb, SqlValue } from './sql'

export interface PageRequest {
  limit: number
  /** Items strictly after this id in `order` (OpenAI `after`, Anthropic `after_id`). */
  after?: string
  /** Items strictly before this id in `order` (Anthropic `before_id`). */
  before?: string
  order: 'asc' | 'desc'
}

export interface Page<T> {
  items: T[]
  hasMore: boolean
}

export async function pageQuery<Row, T>(
  db: SqlDb,
  table: 'files' | 'batches',
  filters: Array<[sql: string, value: string | number]>,
  page: PageRequest,
  map: (row: Row) => T,
): Promise<Page<T>> {
  const where = filters.map(([sql]) => sql)
  const args: SqlValue[] = filters.map(([, v]) => v)
  const desc = page.order === 'desc'
  if (page.after) {
    where.push(desc ? 'id < ?' : 'id > ?')
    args.push(page.after)
  }
  if (page.before) {
    where.push(desc ? 'id > ?' : 'id < ?')
    args.push(page.before)
  }
  // A `before` page walks backwards from the cursor: read in reverse, then flip the page.
  const walkDesc = desc !== Boolean(page.before)
  const rows = await db.all<Row>(
    `SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY id ${walkDesc ? 'DESC' : 'ASC'} LIMIT ?`,
    [...args, page.limit + 1],
  )
  const hasMore = rows.length > page.limit
  const items = rows.slice(0, page.limit).map(map)
  if (page.before) items.reverse()
  return { items, hasMore }
}
