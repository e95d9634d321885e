// A page of the items that pass a check the store cannot express in its query (a file's S3
// location, a batch's model). Store pages are walked forward from the caller's cursor until the
// page is full, so `after` cursors and `has_more` stay exact. Forward walks only (`after`): the
// OpenAI lists that use it have no `before` cursor.

import type { Page, PageRequest } from '../store/page-query'

/** Store pages read per call at most; a sparse match ends the page early (has_more stays true). */
const MAX_SCANNED_PAGES = 50

export async function filteredPage<T extends { id: string }>(
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
  page: PageRequest,
  keep: (item: T) => boolean,
): Promise<Page<T>> {
  const out: T[] = []
  let after = page.after
  for (let scanned = 0; scanned < MAX_SCANNED_PAGES; scanned++) {
    const raw = await fetchPage({ ...page, after, limit: Math.max(page.limit, 100) })
    for (const item of raw.items) {
      if (!keep(item)) continue
      if (out.length === page.limit) return { items: out, hasMore: true }
      out.push(item)
    }
    const last = raw.items.at(-1)
    if (!raw.hasMore || !last) return { items: out, hasMore: false }
    after = last.id
  }
  return { items: out, hasMore: true }
}
