// GET /docs in a real headless Chromium (Debian's `chromium`, installed by .ci/run): the page
// renders Swagger UI from assets the gateway serves itself and lists the routes of both dialects.
// Every host but 127.0.0.1 is unresolvable for the browser, so a CDN fetch would leave it blank.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Gateway, startGateway } from '../e2e/gateway'
import { expectRoutesRendered, renderedDom } from './chromium'

let gw: Gateway

beforeAll(async () => {
  gw = await startGateway({ OPENAI_API_KEY: 'sk-docs-test', GEMINI_API_KEY: 'gm-docs-test' })
})
afterAll(async () => {
  await gw.close()
})

describe('/docs', () => {
  test('serves the page and its embedded assets without a key', async () => {
    const page = await fetch(`${gw.url}/docs`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).not.toMatch(/https?:\/\//)
    const script = await fetch(`${gw.url}/docs/swagger-ui-bundle.js`)
    expect(script.headers.get('content-type')).toContain('javascript')
    expect((await script.text()).length).toBeGreaterThan(500_000)
    expect((await fetch(`${gw.url}/docs/swagger-ui.css`)).status).toBe(200)
  })

  test('the OpenAPI document groups both dialects and leaves out the operations endpoints', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags: string[] }>> }
    expect(doc.paths['/openai/v1/batches']?.post?.tags).toEqual(['OpenAI dialect (/openai/v1)'])
    expect(doc.paths['/anthropic/v1/messages/batches']?.post?.tags).toEqual(['Anthropic dialect'])
    for (const hidden of ['/metrics', '/ready', '/docs', '/docs/swagger-ui-bundle.js']) expect(doc.paths[hidden]).toBeUndefined()
  })

  test('headless Chromium renders the reference, offline, listing the routes of both dialects', async () => {
    expectRoutesRendered(await renderedDom(`${gw.url}/docs`))
  }, 90_000)
})
