// @google/genai for the Gemini calls it does completely: file delete/list, batch cancel/delete.
// Its HTTP goes through GeminiRest (the SDK's `fetch` hook), so these calls keep upstreamFetch's
// timeout, retries, error mapping and instrumentation. What stays raw REST, and why, is in
// adapter.ts and the README's dependency table (proved by test/providers/gemini-sdk-limits.test.ts).

import type { GoogleGenAI, HttpOptions } from '@google/genai'
import type { GeminiRest } from './rest'

/** The Batch API lives on v1beta; @google/genai 3.x defaults to v1. */
export const GEMINI_API_VERSION = 'v1beta'

/**
 * The client, made on first use: loading @google/genai costs more start-up time than the rest of
 * the gateway together, and only deletes, cancels and start-up lookups need it.
 */
export function geminiSdk(rest: GeminiRest): () => Promise<GoogleGenAI> {
  let client: Promise<GoogleGenAI> | undefined
  return () =>
    (client ??= import('@google/genai').then(
      ({ GoogleGenAI }) => new GoogleGenAI({ apiKey: rest.config.apiKey, httpOptions: { baseUrl: rest.config.baseUrl, apiVersion: GEMINI_API_VERSION } }),
    ))
}

/** Per-call options: the SDK's requests are sent by `rest`, named `what` in errors and metrics. */
export function viaRest(rest: GeminiRest, what: string, idempotent: boolean): HttpOptions {
  return {
    fetch: async (input, init = {}) => {
      const url = input instanceof Request ? input.url : String(input)
      const method = (init.method ?? 'GET').toUpperCase() as 'GET' | 'POST' | 'DELETE'
      const headers = Object.fromEntries(new Headers(init.headers).entries())
      const body = init.body
      return rest.request(url, { what, idempotent, method, headers, body: () => body })
    },
  }
}
