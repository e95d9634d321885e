// OpenAI's organization Usage and Costs APIs over settled batch usage (issue 15):
// GET /organization/usage/completions and GET /organization/costs, with OpenAI's query
// parameters and response shapes, so existing cost tooling works. A tenant is a project; a
// virtual key sees its own, BATCHGATE_ADMIN_KEY sees every tenant.

import { Elysia, t } from 'elysia'
import { resolveScope } from '../../auth'
import type { Services } from '../../core/services'
import { BUCKET_LIMITS, type BucketWidth, decodePage, type GroupKey, type Group, usageReport } from '../../core/usage-report'
import { invalid } from '../../errors'

const Ids = t.Optional(t.Union([t.String(), t.Array(t.String())]))
const UsageQuery = t.Object({
  start_time: t.Numeric({ minimum: 0, error: 'start_time: must be a unix time in seconds' }),
  end_time: t.Optional(t.Numeric({ minimum: 0, error: 'end_time: must be a unix time in seconds' })),
  bucket_width: t.Optional(t.String()),
  group_by: Ids,
  models: Ids,
  project_ids: Ids,
  batch: t.Optional(t.String()),
  limit: t.Optional(t.Numeric({ minimum: 1, error: 'limit: must be a positive integer' })),
  page: t.Optional(t.String({ maxLength: 200 })),
})

const Page = <R extends ReturnType<typeof t.Object>>(result: R) =>
  t.Object({
    object: t.Literal('page'),
    data: t.Array(t.Object({ object: t.Literal('bucket'), start_time: t.Integer(), end_time: t.Integer(), results: t.Array(result) })),
    has_more: t.Boolean(),
    next_page: t.Union([t.String(), t.Null()]),
  })

const Nullable = (s: ReturnType<typeof t.String> | ReturnType<typeof t.Boolean>) => t.Union([s, t.Null()])
const CompletionsResult = t.Object({
  object: t.Literal('organization.usage.completions.result'),
  input_tokens: t.Integer(),
  output_tokens: t.Integer(),
  input_cached_tokens: t.Integer(),
  input_audio_tokens: t.Integer(),
  output_audio_tokens: t.Integer(),
  num_model_requests: t.Integer(),
  project_id: Nullable(t.String()),
  user_id: Nullable(t.String()),
  api_key_id: Nullable(t.String()),
  model: Nullable(t.String()),
  batch: Nullable(t.Boolean()),
})
const CostsResult = t.Object({
  object: t.Literal('organization.costs.result'),
  amount: t.Object({ value: t.Number(), currency: t.Literal('usd') }),
  line_item: Nullable(t.String()),
  project_id: Nullable(t.String()),
})

const list = (v: string | string[] | undefined, bracketed: string[]): string[] | undefined => {
  const all = [...(v === undefined ? [] : Array.isArray(v) ? v : [v]), ...bracketed]
  return all.length === 0 ? undefined : all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
}

const sum = (g: Group, f: (r: Group['rows'][number]) => number): number => g.rows.reduce((n, r) => n + f(r), 0)

export function openaiOrganization(services: Services, prefix: '/openai' | '/openai/v1') {
  const { config, store } = services
  return new Elysia({ name: `openai-organization${prefix}`, prefix: `${prefix}/organization` })
    .resolve(({ request }) => ({ scope: resolveScope(config.keys, config.reporting.adminKey, request.headers) }))
    .get(
      '/usage/completions',
      async ({ query, scope, request }) => {
        const req = reportRequest(query, new URL(request.url), scope, ['project_id', 'model', 'batch'], ['1m', '1h', '1d'])
        const page = await usageReport(store, req, (g) => ({
          object: 'organization.usage.completions.result' as const,
          input_tokens: sum(g, (r) => r.inputTokens),
          output_tokens: sum(g, (r) => r.outputTokens),
          input_cached_tokens: sum(g, (r) => r.cachedTokens),
          input_audio_tokens: 0,
          output_audio_tokens: 0,
          // Requests that reached the model; expired and cancelled ones never did.
          num_model_requests: sum(g, (r) => r.succeeded + r.errored),
          project_id: (g.keys.project_id as string | undefined) ?? null,
          user_id: null,
          api_key_id: null,
          model: (g.keys.model as string | undefined) ?? null,
          batch: (g.keys.batch as boolean | undefined) ?? null,
        }))
        return toPage(page)
      },
      { query: UsageQuery, response: Page(CompletionsResult) },
    )
    .get(
      '/costs',
      async ({ query, scope, request }) => {
        const req = reportRequest(query, new URL(request.url), scope, ['project_id', 'line_item'], ['1d'])
        const page = await usageReport(store, req, (g) => ({
          object: 'organization.costs.result' as const,
          // Unpriced usage (cost null) is left out of the amount, never counted as 0 spend silently:
          // it shows in the batchgate_unpriced_usage_total metric and on the batch's settled usage.
          amount: { value: sum(g, (r) => r.costUsd ?? 0), currency: 'usd' as const },
          line_item: (g.keys.line_item as string | undefined) ?? null,
          project_id: (g.keys.project_id as string | undefined) ?? null,
        }))
        return toPage(page)
      },
      { query: UsageQuery, response: Page(CostsResult) },
    )
}

type Query = typeof UsageQuery.static

function reportRequest(q: Query, url: URL, scope: string[] | null, groupable: GroupKey[], widths: BucketWidth[]) {
  const width = (q.bucket_width ?? '1d') as BucketWidth
  if (!widths.includes(width)) throw invalid(`bucket_width must be one of ${widths.join(', ')}.`, { param: 'bucket_width' })
  const limits = widths.length === 1 ? { fallback: 7, max: 180 } : BUCKET_LIMITS[width]
  const limit = q.limit ?? limits.fallback
  if (!Number.isInteger(limit) || limit > limits.max) {
    throw invalid(`limit must be an integer from 1 to ${limits.max} for bucket_width ${width}.`, { param: 'limit' })
  }
  const startTime = Math.floor(q.start_time)
  // end_time is exclusive; without one, everything settled up to this second counts.
  const endTime = Math.floor(q.end_time ?? Date.now() / 1000 + 1)
  if (endTime <= startTime) throw invalid('end_time must be after start_time.', { param: 'end_time' })
  const groupBy = list(q.group_by, url.searchParams.getAll('group_by[]')) ?? []
  for (const g of groupBy) {
    if (!(groupable as string[]).includes(g)) throw invalid(`group_by must be among ${groupable.join(', ')} (got '${g.slice(0, 40)}').`, { param: 'group_by' })
  }
  if (q.page !== undefined && decodePage(q.page) === null) throw invalid('page is not a cursor this API returned.', { param: 'page' })
  const projects = list(q.project_ids, url.searchParams.getAll('project_ids[]'))
  // A project filter narrows the scope; it never widens a tenant's view to another tenant.
  const tenants = projects === undefined ? scope : (scope ?? projects).filter((p) => projects.includes(p))
  const models = list(q.models, url.searchParams.getAll('models[]'))
  const batch = q.batch === undefined ? undefined : q.batch === 'true' ? true : q.batch === 'false' ? false : null
  if (batch === null) throw invalid('batch must be true or false.', { param: 'batch' })
  return {
    tenants,
    startTime,
    endTime,
    width,
    groupBy: groupBy as GroupKey[],
    limit,
    page: q.page ?? null,
    ...(models ? { models } : {}),
    ...(batch === undefined ? {} : { batchOnly: batch }),
  }
}

function toPage<R>(page: { buckets: Array<{ startTime: number; endTime: number; results: R[] }>; nextPage: string | null }) {
  return {
    object: 'page' as const,
    data: page.buckets.map((b) => ({ object: 'bucket' as const, start_time: b.startTime, end_time: b.endTime, results: b.results })),
    has_more: page.nextPage !== null,
    next_page: page.nextPage,
  }
}
