// An OpenAI-compatible chat-completions server (vLLM / Ollama / llama.cpp shape) for emulated
// batches. Strict: a wrong or missing Bearer key is 401, a body without `model` or a non-empty
// `messages` array is 400. Prompts steer it: FAIL → 400 for that request, SLOW → answers after
// `slowMs`, RATE<n> → the first n attempts get 429 with retry-after. It counts every request it
// receives by the prompt (our tests put the custom_id in it), so repeats are visible.

import { countTokens, modelReply } from './harness'

export interface ChatFake {
  url: string
  apiKey: string
  /** Requests received, by prompt. */
  counts: Map<string, number>
  /** Total POSTs received (any outcome). */
  received: () => number
  slowMs: number
  close(): Promise<void>
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

const openaiError = (status: number, message: string, type: string, param: string | null = null) =>
  json(status, { error: { message, type, param, code: null } })

export function startChatFake(opts: { apiKey?: string; slowMs?: number } = {}): ChatFake {
  const apiKey = opts.apiKey ?? 'sk-local-test'
  const counts = new Map<string, number>()
  let received = 0
  const fake: ChatFake = {
    url: '',
    apiKey,
    counts,
    received: () => received,
    slowMs: opts.slowMs ?? 300,
    close: async () => server.stop(true),
  }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') return openaiError(404, `Unknown route ${url.pathname}`, 'invalid_request_error')
      received++
      if (req.headers.get('authorization') !== `Bearer ${apiKey}`) return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error')
      if (!(req.headers.get('content-type') ?? '').startsWith('application/json')) return openaiError(400, 'Expected a JSON body.', 'invalid_request_error')
      let body: { model?: unknown; messages?: unknown }
      try {
        body = (await req.json()) as typeof body
      } catch {
        return openaiError(400, 'Body is not valid JSON.', 'invalid_request_error')
      }
      if (typeof body.model !== 'string' || !body.model) return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'model')
      const messages = body.messages
      if (!Array.isArray(messages) || messages.length === 0) return openaiError(400, "'messages' must be a non-empty array.", 'invalid_request_error', 'messages')
      const last = messages.at(-1) as { content?: unknown }
      const prompt = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '')
      const seen = (counts.get(prompt) ?? 0) + 1
      counts.set(prompt, seen)
      const rate = /RATE(\d+)/.exec(prompt)
      if (rate && seen <= Number(rate[1])) return json(429, { error: { message: 'Rate limit reached, retry shortly.', type: 'rate_limit_error', param: null, code: null } }, { 'retry-after': '1' })
      if (prompt.includes('SLOW')) await Bun.sleep(fake.slowMs)
      const reply = modelReply(prompt)
      if (!reply.ok) return openaiError(400, reply.message, 'invalid_request_error')
      const prompt_tokens = countTokens(prompt)
      const completion_tokens = countTokens(reply.text)
      return json(200, {
        id: `chatcmpl-${crypto.randomUUID()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
      })
    },
  })
  fake.url = `http://127.0.0.1:${server.port}/v1`
  return fake
}
