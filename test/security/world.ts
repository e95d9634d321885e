// A keyed gateway in front of every provider fake, raw HTTP calls in either dialect (the security
// tests send what no SDK would), the two error envelopes, and the store's leftovers after a run.

import { expect } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Dialect } from '../../src/core/provider-name'
import { type Gateway, startGateway } from '../e2e/gateway'
import { type AllFakes, startAllFakes } from '../fakes/start'

export const KEYS = { alice: 'bg-alice-5f0c9e21d7a4', bob: 'bg-bob-83d1e6a0b92c' } as const

export const MODELS = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-haiku-20240307',
  gemini: 'gemini-2.0-flash',
  bedrock: 'anthropic.claude-3-haiku-20240307-v1:0',
} as const

/** One OpenAI chat-completions batch line; `body` fields override the defaults. */
export function batchLine(id: unknown, opts: { prompt?: string; model?: string; body?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: opts.model ?? MODELS.openai, messages: [{ role: 'user', content: opts.prompt ?? 'hi' }], max_tokens: 10, ...opts.body },
  })
}

/** One Anthropic Message Batch request item; `params` fields override the defaults. */
export function batchItem(id: unknown, opts: { prompt?: string; params?: Record<string, unknown> } = {}) {
  return {
    custom_id: id,
    params: { model: MODELS.anthropic, max_tokens: 10, messages: [{ role: 'user', content: opts.prompt ?? 'hi' }], ...opts.params },
  }
}

export interface World {
  fakes: AllFakes
  gw: Gateway
  close(): Promise<void>
}

/** Every provider fake and one gateway keyed for alice and bob (plus any `env` overrides). */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const fakes = startAllFakes()
  const gw = await startGateway({ ...fakes.env, BATCHGATE_KEYS: `alice=${KEYS.alice},bob=${KEYS.bob}`, ...env })
  return {
    fakes,
    gw,
    close: async () => {
      await gw.close()
      await fakes.close()
    },
  }
}

export interface CallInit {
  method?: string
  /** Virtual key; null sends none. */
  key?: string | null
  /** How the key travels (Anthropic dialect only: x-api-key is its SDK 0.x habit). */
  keyHeader?: 'bearer' | 'x-api-key'
  /** Sent as JSON with Content-Type: application/json. */
  json?: unknown
  /** Any other body, sent as is. */
  body?: string | Uint8Array
  headers?: Record<string, string>
}

export interface Reply {
  status: number
  text: string
  /** The parsed body, or null when it is not JSON. */
  json: unknown
}

export async function call(base: string, path: string, init: CallInit = {}): Promise<Reply> {
  const headers = new Headers(init.headers)
  const key = init.key === undefined ? KEYS.alice : init.key
  if (key !== null) {
    if (init.keyHeader === 'x-api-key') headers.set('x-api-key', key)
    else headers.set('authorization', `Bearer ${key}`)
  }
  let body = init.body
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  }
  const res = await fetch(`${base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body })
  const text = await res.text()
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return { status: res.status, text, json }
}

/** A multipart/form-data body built by hand, so tests can send what FormData never would. */
export function multipart(parts: Array<{ name: string; value: string | Uint8Array; filename?: string }>, boundary = 'sec-boundary') {
  const chunks: Uint8Array[] = []
  const enc = new TextEncoder()
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`))
    chunks.push(typeof p.value === 'string' ? enc.encode(p.value) : p.value)
    chunks.push(enc.encode('\r\n'))
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

export interface ExpectedError {
  status: number
  /** The envelope's error type (`invalid_request_error`, `not_found_error`, …). */
  type: string
  /** Must occur in the OpenAI `param` (when set) or in the message: names the field at fault. */
  names?: string
}

/** Asserts the dialect's error envelope, exactly its keys, and that it names the field at fault. */
export function expectError(dialect: Dialect, reply: Reply, want: ExpectedError): void {
  const where = `${reply.status} ${reply.text.slice(0, 300)}`
  expect(reply.status, where).toBe(want.status)
  if (dialect === 'openai') {
    const body = reply.json as { error: { message: string; type: string; param: string | null; code: string | null } }
    expect(Object.keys(body).sort(), where).toEqual(['error'])
    expect(Object.keys(body.error).sort(), where).toEqual(['code', 'message', 'param', 'type'])
    expect(body.error.type, where).toBe(want.type)
    expect(body.error.message.length, where).toBeGreaterThan(0)
    if (want.names !== undefined) expect(`${body.error.param ?? ''} ${body.error.message}`, where).toContain(want.names)
  } else {
    const body = reply.json as { type: string; error: { type: string; message: string }; request_id: string }
    expect(Object.keys(body).sort(), where).toEqual(['error', 'request_id', 'type'])
    expect(body.type, where).toBe('error')
    expect(body.error.type, where).toBe(want.type)
    expect(body.request_id, where).toMatch(/^req_/)
    if (want.names !== undefined) expect(body.error.message, where).toContain(want.names)
  }
}

export interface Leftovers {
  /** Rows an interrupted or failed write could leave: pending files, creating/deleted batches. */
  unready: string[]
  /** Files in DATA_DIR/spool (none may outlive its request). */
  spool: string[]
  /** Blobs (inputs and their custom_id sidecars) no file row points at. */
  orphanBlobs: string[]
}

export function leftovers(gw: Gateway): Leftovers {
  const db = gw.store.db
  const unready = [
    ...db.query<{ id: string; state: string }, []>(`SELECT id, state FROM files WHERE state != 'ready'`).all(),
    ...db.query<{ id: string; state: string }, []>(`SELECT id, state FROM batches WHERE state != 'ready'`).all(),
  ].map((r) => `${r.id}:${r.state}`)
  const fileIds = new Set(db.query<{ id: string }, []>('SELECT id FROM files').all().map((r) => r.id))
  return {
    unready,
    spool: readdirSync(join(gw.dataDir, 'spool')),
    orphanBlobs: readdirSync(join(gw.dataDir, 'blobs')).filter((name) => !fileIds.has(name.replace(/\.(jsonl|ids)$/, ''))),
  }
}

/** Requests each fake has seen: a refused call must not change any of these. */
export function upstreamRequests(fakes: AllFakes): Record<string, number> {
  return {
    openai: fakes.openai.requests.length,
    anthropic: fakes.anthropic.requests.length,
    gemini: fakes.gemini.requests.length,
    bedrock: fakes.bedrock.requests.length,
    s3: fakes.s3.requests.length,
  }
}
