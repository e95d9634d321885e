// Shared plumbing for the provider fakes: fault injection, request recording and the
// deterministic "model" every fake answers with, so end-to-end tests can check each
// custom_id's answer text whatever provider produced it.

export interface Fault {
  /** Only requests for which this returns true are hit (default: every request). */
  match?: (req: Request, url: URL) => boolean
  /** How many matching requests this fault applies to (default 1). */
  times?: number
  /** Wait this long before answering (or before dropping). */
  delayMs?: number
  /** Close the connection without an HTTP answer. */
  drop?: boolean
  /**
   * Send the status line, the headers and the first `truncate` bytes of the real answer, then
   * break the connection: a reset mid-body.
   */
  truncate?: number
  /**
   * Run the real handler first, then apply the delay/drop to its answer: the upstream did the
   * work (created the batch) but the caller never hears back — a lost answer.
   */
  afterHandler?: boolean
  /** Answer with this status instead of running the handler. */
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

export interface RecordedRequest {
  method: string
  path: string
  query: string
  headers: Record<string, string>
}

export class FaultPlan {
  private faults: Fault[] = []

  add(fault: Fault): void {
    this.faults.push({ times: 1, ...fault })
  }

  clear(): void {
    this.faults = []
  }

  /** Returns a response to send instead of the real one, 'drop', or undefined to go on. */
  async apply(req: Request, url: URL, stage: 'before' | 'after' = 'before'): Promise<Response | 'drop' | Truncate | undefined> {
    const fault = this.faults.find(
      (f) => (f.times ?? 1) > 0 && Boolean(f.afterHandler) === (stage === 'after') && (!f.match || f.match(req, url)),
    )
    if (!fault) return undefined
    fault.times = (fault.times ?? 1) - 1
    if (fault.delayMs) await Bun.sleep(fault.delayMs)
    if (fault.drop) return 'drop'
    if (fault.truncate !== undefined) return { truncate: fault.truncate }
    if (fault.status === undefined) return undefined
    const body = fault.body === undefined ? '' : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body)
    return new Response(body, {
      status: fault.status,
      headers: { 'content-type': 'application/json', ...fault.headers },
    })
  }
}

interface Truncate {
  truncate: number
}

/** The answer's status and headers, `bytes` of its body, then a broken connection. */
function truncated(res: Response, bytes: number): Response {
  const reader = res.body?.getReader()
  let left = bytes
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      const next = left > 0 ? await reader?.read() : undefined
      if (!next || next.done) {
        // A moment for the bytes sent so far to leave, then the break.
        await Bun.sleep(20)
        c.error(new Error('connection reset by fault injection'))
        return
      }
      const piece = next.value.subarray(0, left)
      left -= piece.length
      c.enqueue(piece)
    },
  })
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  return new Response(body, { status: res.status, headers })
}

/** Headers go out, then the body stream errors: the client sees a broken connection. */
function dropped(): Response {
  return new Response(
    new ReadableStream({
      start(c) {
        c.error(new Error('connection dropped by fault injection'))
      },
    }),
    { status: 200 },
  )
}

export interface FakeServer {
  /** Base URL of the fake, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string
  faults: FaultPlan
  requests: RecordedRequest[]
  close(): Promise<void>
}

/**
 * Starts Bun.serve on 127.0.0.1:0 with fault injection and request recording around `handler`.
 * A dropped request is answered by closing the socket mid-response.
 */
export function serveFake(handler: (req: Request, url: URL) => Response | Promise<Response>): FakeServer {
  const faults = new FaultPlan()
  const requests: RecordedRequest[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    // Bun's default cap is 128 MB; providers take files of several GB (spec README §4).
    maxRequestBodySize: 16 * 1024 ** 3,
    async fetch(req) {
      const url = new URL(req.url)
      requests.push({
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: Object.fromEntries(req.headers),
      })
      const injected = await faults.apply(req, url)
      if (injected === 'drop') return dropped()
      if (injected instanceof Response) return injected
      let res: Response
      try {
        res = await handler(req, url)
      } catch (err) {
        console.error('fake handler crashed', err)
        return new Response(JSON.stringify({ error: String(err) }), { status: 500 })
      }
      if (injected) return truncated(res, injected.truncate)
      const late = await faults.apply(req, url, 'after')
      if (late === 'drop') return dropped()
      if (late && !(late instanceof Response)) return truncated(res, late.truncate)
      return late ?? res
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

/**
 * The deterministic model behind every fake. The answer to a prompt is `Reply to: <prompt>`.
 * A prompt containing the word FAIL makes that one request fail (a per-request error, not a
 * batch failure), so tests can exercise error files and errored results.
 */
export function modelReply(prompt: string): { ok: true; text: string } | { ok: false; message: string } {
  if (prompt.includes('FAIL')) return { ok: false, message: `The model refused the prompt: ${prompt}` }
  return { ok: true, text: `Reply to: ${prompt}` }
}

/** Token counts the fakes report: whitespace-separated words, at least 1. */
export function countTokens(text: string): number {
  return Math.max(1, text.split(/\s+/).filter(Boolean).length)
}

/** Reads a request body as UTF-8 text (fakes may buffer; the gateway may not). */
export async function bodyText(req: Request): Promise<string> {
  return await req.text()
}
