// A webhook receiver for the tests: records every delivery, verifies it with the official
// `openai` SDK's webhooks.unwrap(), and can be told to fail, hang or be down.

import OpenAI from 'openai'

export interface Delivery {
  webhookId: string
  body: string
  event: { object: string; id: string; type: string; created_at: number; data: { id: string } }
}

export interface Receiver {
  url: string
  secret: string
  /** Verified deliveries, in arrival order (duplicates of a webhook-id included). */
  deliveries: Delivery[]
  /** Requests whose signature did not verify. */
  rejected: number
  /** Status to answer with; 'hang' holds the request open until the sender gives up. */
  mode: number | 'hang'
  /** Number of requests seen, verified or not. */
  hits: number
  /** webhook-id of every request seen, in arrival order (hung and refused ones too). */
  seenIds: string[]
  /** Distinct events per gateway batch id (deduplicated on webhook-id, as Standard Webhooks asks). */
  eventsFor(batchId: string): Delivery[]
  close(): void
}

export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
}

export function startReceiver(secret = newWebhookSecret()): Receiver {
  const sdk = new OpenAI({ apiKey: 'unused', webhookSecret: secret })
  const r: Receiver = {
    url: '',
    secret,
    deliveries: [],
    rejected: 0,
    mode: 200,
    hits: 0,
    seenIds: [],
    eventsFor(batchId) {
      const byId = new Map<string, Delivery>()
      for (const d of r.deliveries) if (d.event.data.id === batchId) byId.set(d.webhookId, d)
      return [...byId.values()]
    },
    close: () => server.stop(true),
  }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (req) => {
      r.hits++
      r.seenIds.push(req.headers.get('webhook-id') ?? '')
      const body = await req.text()
      if (r.mode === 'hang') return new Promise<Response>(() => undefined)
      if (r.mode >= 300) return new Response('down', { status: r.mode })
      try {
        const event = (await sdk.webhooks.unwrap(body, req.headers)) as unknown as Delivery['event']
        r.deliveries.push({ webhookId: req.headers.get('webhook-id') ?? '', body, event })
        return new Response(null, { status: 204 })
      } catch {
        r.rejected++
        return new Response('bad signature', { status: 400 })
      }
    },
  })
  r.url = `http://127.0.0.1:${server.port}/hooks`
  return r
}

/** Polls `check` until it returns true, or fails after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await Bun.sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}
