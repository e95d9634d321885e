// An OpenAI-compatible server (vLLM / Ollama / llama.cpp shape) for emulated batches: chat
// completions, embeddings and responses. Strict: a wrong or missing Bearer key is 401, a body
// without `model` (or without non-empty `messages` / `input` for its endpoint) is 400. Prompts steer it: FAIL → 400 for that request, SLOW → answers after
// `slowMs`, STALL<n> → the first n attempts answer after `slowMs`, RATE<n> → the first n attempts get 429 with retry-after. It counts every request it
// receives by the prompt (our tests put the custom_id in it), so repeats are visible.

import { countTokens, modelReply } from './harness'

export interface ChatFake {
  url: string
  apiKey: string
  /** Requests received, by prompt. */
  counts: Map<string, number>
  /** Total POSTs received (any outcome). */
  received: () => number
  /** The last body received per prompt, when started with `keepBodies` (what was really sent). */
  bodies: Map<string, Record<string, unknown>>
  slowMs: number
  close(): Promise<void>
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

const openaiError = (status: number, message: string, type: string, param: string | null = null) =>
  json(status, { error: { message, type, param, code: null } })

interface Route {
  /** The request's prompt (what it is counted by), or the 400 a real server gives a bad body. */
  prompt(body: Record<string, unknown>): string | Response
  answer(model: string, prompt: string): Response
}

const stamp = () => Math.floor(Date.now() / 1000)

const chat: Route = {
  prompt(body) {
    const messages = body.messages
    if (!Array.isArray(messages) || messages.length === 0) return openaiError(400, "'messages' must be a non-empty array.", 'invalid_request_error', 'messages')
    const last = messages.at(-1) as { content?: unknown }
    return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '')
  },
  answer(model, prompt) {
    const reply = modelReply(prompt)
    if (!reply.ok) return openaiError(400, reply.message, 'invalid_request_error')
    const prompt_tokens = countTokens(prompt)
    const completion_tokens = countTokens(reply.text)
    return json(200, {
      id: `chatcmpl-${crypto.randomUUID()}`,
      object: 'chat.completion',
      created: stamp(),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
    })
  },
}

/** A deterministic 4-dimensional vector per text, so tests can check which text it embeds. */
export const fakeEmbedding = (text: string): number[] => [text.length, countTokens(text), text.charCodeAt(0) || 0, 0.5]

// `input` is a string or a non-empty array of strings (token arrays are not needed by our tests,
// and a strict refusal beats silently accepting them).
const embeddings: Route = {
  prompt(body) {
    const input = body.input
    if (typeof input === 'string' && input) return input
    if (Array.isArray(input) && input.length > 0 && input.every((i) => typeof i === 'string' && i)) return input.join('\n')
    return openaiError(400, "'input' must be a non-empty string or a non-empty array of non-empty strings.", 'invalid_request_error', 'input')
  },
  answer(model, prompt) {
    if (prompt.includes('FAIL')) return openaiError(400, 'This input cannot be embedded (FAIL).', 'invalid_request_error', 'input')
    const texts = prompt.split('\n')
    const tokens = texts.reduce((n, t) => n + countTokens(t), 0)
    return json(200, {
      object: 'list',
      data: texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    })
  },
}

// The Responses API: `input` is a string or a non-empty array of input items (the last one's text counts).
const responses: Route = {
  prompt(body) {
    const input = body.input
    if (typeof input === 'string' && input) return input
    if (Array.isArray(input) && input.length > 0) {
      const last = input.at(-1) as { content?: unknown } | null
      if (last && typeof last === 'object') return typeof last.content === 'string' ? last.content : JSON.stringify(last.content ?? '')
    }
    return openaiError(400, "'input' must be a non-empty string or a non-empty array of input items.", 'invalid_request_error', 'input')
  },
  answer(model, prompt) {
    const reply = modelReply(prompt)
    if (!reply.ok) return openaiError(400, reply.message, 'invalid_request_error')
    const input_tokens = countTokens(prompt)
    const output_tokens = countTokens(reply.text)
    return json(200, {
      id: `resp_${crypto.randomUUID().replaceAll('-', '')}`,
      object: 'response',
      created_at: stamp(),
      status: 'completed',
      model,
      output: [
        {
          type: 'message',
          id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: reply.text, annotations: [] }],
        },
      ],
      usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens },
    })
  },
}

const ROUTES: Record<string, Route> = { '/v1/chat/completions': chat, '/v1/embeddings': embeddings, '/v1/responses': responses }

export function startChatFake(opts: { apiKey?: string; slowMs?: number; keepBodies?: boolean } = {}): ChatFake {
  const apiKey = opts.apiKey ?? 'sk-local-test'
  const counts = new Map<string, number>()
  let received = 0
  const fake: ChatFake = {
    url: '',
    apiKey,
    counts,
    received: () => received,
    bodies: new Map(),
    slowMs: opts.slowMs ?? 300,
    close: async () => server.stop(true),
  }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const route = ROUTES[url.pathname]
      if (req.method !== 'POST' || !route) return openaiError(404, `Unknown route ${url.pathname}`, 'invalid_request_error')
      received++
      if (req.headers.get('authorization') !== `Bearer ${apiKey}`) return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error')
      if (!(req.headers.get('content-type') ?? '').startsWith('application/json')) return openaiError(400, 'Expected a JSON body.', 'invalid_request_error')
      let body: Record<string, unknown>
      try {
        body = (await req.json()) as typeof body
      } catch {
        return openaiError(400, 'Body is not valid JSON.', 'invalid_request_error')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return openaiError(400, 'The body must be a JSON object.', 'invalid_request_error')
      if (typeof body.model !== 'string' || !body.model) return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'model')
      const prompt = route.prompt(body)
      if (typeof prompt !== 'string') return prompt
      const seen = (counts.get(prompt) ?? 0) + 1
      counts.set(prompt, seen)
      if (opts.keepBodies) fake.bodies.set(prompt, body)
      const rate = /RATE(\d+)/.exec(prompt)
      if (rate && seen <= Number(rate[1])) return json(429, { error: { message: 'Rate limit reached, retry shortly.', type: 'rate_limit_error', param: null, code: null } }, { 'retry-after': '1' })
      // STALL<n>: the first n attempts answer only after slowMs (a server that hangs, then recovers).
      const stall = /STALL(\d+)/.exec(prompt)
      if (prompt.includes('SLOW') || (stall && seen <= Number(stall[1]))) await Bun.sleep(fake.slowMs)
      return route.answer(body.model, prompt)
    },
  })
  fake.url = `http://127.0.0.1:${server.port}/v1`
  return fake
}
