// Settled usage and cost in time buckets, the way OpenAI's organization Usage and Costs APIs
// report them: a page of `limit` buckets from start_time, each with one result per group.
// A tenant is a "project" (project_id); every request here is a batch request.

import type { UsageQuery, UsageRow } from '../store/usage-ledger'
import type { Store } from '../store/store'

export type BucketWidth = '1m' | '1h' | '1d'
export const BUCKET_SECONDS: Record<BucketWidth, number> = { '1m': 60, '1h': 3600, '1d': 86_400 }
/** OpenAI's default and maximum `limit` (buckets per page) per bucket width. */
export const BUCKET_LIMITS: Record<BucketWidth, { fallback: number; max: number }> = {
  '1m': { fallback: 60, max: 1440 },
  '1h': { fallback: 24, max: 168 },
  '1d': { fallback: 7, max: 31 },
}

export type GroupKey = 'project_id' | 'model' | 'batch' | 'line_item'

export interface ReportRequest {
  /** null: every tenant (admin key). */
  tenants: string[] | null
  startTime: number
  endTime: number
  width: BucketWidth
  groupBy: GroupKey[]
  limit: number
  /** Cursor from a previous page's next_page. */
  page: string | null
  models?: string[]
  batchOnly?: boolean
}

export interface Bucket<R> {
  startTime: number
  endTime: number
  results: R[]
}

export interface ReportPage<R> {
  buckets: Array<Bucket<R>>
  nextPage: string | null
}

export interface Group {
  keys: Partial<Record<GroupKey, string | boolean>>
  rows: UsageRow[]
}

/** Cursor: the index of the next bucket, opaque to clients. */
const encodePage = (index: number): string => `page_${Buffer.from(String(index)).toString('base64url')}`
export function decodePage(page: string): number | null {
  const m = /^page_([A-Za-z0-9_-]+)$/.exec(page)
  const n = m ? Number(Buffer.from(m[1] as string, 'base64url').toString()) : Number.NaN
  return Number.isInteger(n) && n >= 0 ? n : null
}

/** One page of buckets, each with its rows split into groups; `summarize` turns a group into a result. */
export async function usageReport<R>(store: Store, req: ReportRequest, summarize: (g: Group) => R): Promise<ReportPage<R>> {
  const width = BUCKET_SECONDS[req.width]
  const first = req.page === null ? 0 : (decodePage(req.page) ?? 0)
  const total = Math.max(0, Math.ceil((req.endTime - req.startTime) / width))
  const last = Math.min(total, first + req.limit)
  const from = req.startTime + first * width
  const to = Math.min(req.endTime, req.startTime + last * width)
  const query: UsageQuery = { tenants: req.tenants, startTime: from, endTime: to, ...(req.models ? { models: req.models } : {}) }
  // batch=false asks for non-batch usage, and the gateway only runs batches.
  const rows = req.batchOnly === false || from >= to ? [] : await store.usage.rows(query)
  const buckets: Array<Bucket<R>> = []
  for (let i = first; i < last; i++) {
    const startTime = req.startTime + i * width
    const endTime = Math.min(req.endTime, startTime + width)
    const inBucket = rows.filter((r) => r.settledAt >= startTime && r.settledAt < endTime)
    buckets.push({ startTime, endTime, results: groups(inBucket, req.groupBy).map(summarize) })
  }
  return { buckets, nextPage: last < total ? encodePage(last) : null }
}

function groups(rows: UsageRow[], by: GroupKey[]): Group[] {
  if (rows.length === 0) return []
  const out = new Map<string, Group>()
  for (const row of rows) {
    const keys: Group['keys'] = {}
    if (by.includes('project_id')) keys.project_id = row.tenant
    if (by.includes('model')) keys.model = row.model
    if (by.includes('line_item')) keys.line_item = row.model
    if (by.includes('batch')) keys.batch = true
    const id = JSON.stringify(keys)
    const g = out.get(id) ?? { keys, rows: [] }
    g.rows.push(row)
    out.set(id, g)
  }
  return [...out.values()]
}
