// GET /openapi.json, generated from the TypeBox schemas the routes declare, so the document
// cannot drift from what the gateway validates.

import type { AnyElysia } from 'elysia'

interface RouteHooks {
  detail?: { hide?: boolean }
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
    // Operations endpoints (/metrics, /ready, /docs and its assets) are not part of the API.
    if (hooks.detail?.hide) continue
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const { tag, security } = dialectOf(route.path)
    const op: Record<string, unknown> = { tags: [tag], security, responses: {} }
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
  return {
    openapi: '3.1.0',
    info: { title: 'batchgate', version, description: 'OpenAI Files & Batches and Anthropic Files & Message Batches, on OpenAI, Anthropic, Gemini and Bedrock.' },
    tags: TAGS.map((name) => ({ name })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'batchgate virtual key (OpenAI SDK: apiKey)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'batchgate virtual key (Anthropic SDK: apiKey)' },
      },
    },
    paths,
  }
}

const TAGS = ['OpenAI dialect', 'OpenAI dialect (/openai/v1)', 'Anthropic dialect', 'Gateway'] as const

/** Which dialect a route belongs to, and how its callers authenticate. */
function dialectOf(path: string): { tag: (typeof TAGS)[number]; security: Array<Record<string, string[]>> } {
  if (path.startsWith('/openai/v1/')) return { tag: 'OpenAI dialect (/openai/v1)', security: [{ bearer: [] }] }
  if (path.startsWith('/openai/')) return { tag: 'OpenAI dialect', security: [{ bearer: [] }] }
  if (path.startsWith('/anthropic/')) return { tag: 'Anthropic dialect', security: [{ apiKey: [] }, { bearer: [] }] }
  return { tag: 'Gateway', security: [] }
}
