// GET /openapi.json, generated from the TypeBox schemas the routes declare, so the document
// cannot drift from what the gateway validates.

import type { AnyElysia } from 'elysia'

interface RouteHooks {
  body?: unknown
  query?: unknown
  params?: unknown
  response?: unknown
}

export function openapiDocument(app: AnyElysia, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of app.routes) {
    if (route.path === '/openapi.json' || route.method === 'ALL') continue
    const hooks = (route.hooks ?? {}) as RouteHooks
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const op: Record<string, unknown> = { responses: {} }
    const params = hooks.params as { properties?: Record<string, unknown> } | undefined
    const query = hooks.query as { properties?: Record<string, unknown> } | undefined
    op.parameters = [
      ...Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })),
    ]
    if (hooks.body) op.requestBody = { content: { 'application/json': { schema: hooks.body } } }
    else if (route.method === 'POST' && route.path.endsWith('/files')) {
      op.requestBody = { content: { 'multipart/form-data': { schema: { type: 'object' } } } }
    }
    op.responses = { 200: hooks.response ? { description: 'OK', content: { 'application/json': { schema: hooks.response } } } : { description: 'OK' } }
    paths[path] ??= {}
    ;(paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = op
  }
  return { openapi: '3.1.0', info: { title: 'batchgate', version }, paths }
}
