// Same contract as `serveFake` in ../harness (fault injection + request recording), but with a
// request-body cap large enough for real uploads: Bun.serve refuses bodies over 128 MB by default
// (413), while OpenAI accepts up to 512 MB per POST /files (openai.md §2). Kept here rather than
// in the shared harness, which this fake must not change.

import { type FakeServer, FaultPlan, type RecordedRequest } from '../harness'

export function serveFakeLarge(handler: (req: Request, url: URL) => Response | Promise<Response>, maxRequestBodySize: number): FakeServer {
  const faults = new FaultPlan()
  const requests: RecordedRequest[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    maxRequestBodySize,
    async fetch(req) {
      const url = new URL(req.url)
      requests.push({ method: req.method, path: url.pathname, query: url.search, headers: Object.fromEntries(req.headers) })
      const injected = await faults.apply(req, url)
      if (injected === 'drop') {
        // Headers go out, then the body stream errors: the client sees a broken connection.
        return new Response(
          new ReadableStream({
            start(c) {
              c.error(new Error('connection dropped by fault injection'))
            },
          }),
          { status: 200 },
        )
      }
      if (injected) return injected
      try {
        return await handler(req, url)
      } catch (err) {
        console.error('fake handler crashed', err)
        return new Response(JSON.stringify({ error: String(err) }), { status: 500 })
      }
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    faults,
    requests,
    close: async () => {
      server.stop(true)
    },
  }
}
