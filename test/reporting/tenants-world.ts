// What the usage/cost suites share: two tenants — alpha with a tiny budget and its own signed
// webhook endpoint, beta with room to spend on the global one — an admin key, the gateway env
// that reports fast (20 ms watcher and webhook retries), three-request batches (one FAIL), the
// organization API, and token sums read straight off a batch's output file.

import OpenAI from 'openai'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import type { Receiver } from './receiver'

export const ALPHA_KEY = 'alpha-key-0123456789'
export const BETA_KEY = 'beta-key-0123456789'
export const ADMIN_KEY = 'admin-key-0123456789abcdef'

/** `[tenants.alpha]` and `[tenants.beta]` for BATCHGATE_CONFIG. */
export function tenantsToml(alphaHooks: Receiver): string[] {
  return [
    '[tenants.alpha]',
    'key_env = "ALPHA_KEY"',
    'budget_usd = 0.0000001',
    `webhook_url = "${alphaHooks.url}"`,
    'webhook_secret_env = "ALPHA_HOOK_SECRET"',
    '[tenants.beta]',
    'key_env = "BETA_KEY"',
    'budget_usd = 1000',
  ]
}

/** The gateway env for the tenants above, the admin key and both webhook endpoints. */
export function reportingEnv(configFile: string, hooks: { global: Receiver; alpha: Receiver }): Record<string, string> {
  return {
    BATCHGATE_CONFIG: configFile,
    ALPHA_KEY,
    BETA_KEY,
    ALPHA_HOOK_SECRET: hooks.alpha.secret,
    BATCHGATE_ADMIN_KEY: ADMIN_KEY,
    BATCHGATE_WATCH_INTERVAL_MS: '20',
    BATCHGATE_WEBHOOK_URL: hooks.global.url,
    BATCHGATE_WEBHOOK_SECRET: hooks.global.secret,
    BATCHGATE_WEBHOOK_RETRY_BASE_MS: '20',
  }
}

/** Three requests (the second FAILs) on `provider`; `model` also goes to create when given. */
export async function runBatch(c: OpenAI, provider: string, model: string, tag: string, createModel = true): Promise<string> {
  const file = await uploadBatchFile(c, jsonl(chatLine(`${tag}-1`, 'What is 2+2?', model), chatLine(`${tag}-2`, 'FAIL this', model), chatLine(`${tag}-3`, 'Say hello to the world', model)), { provider })
  const params = { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...(createModel ? { provider, model } : {}) }
  return (await c.batches.create(params as never)).id
}

export async function orgGet(gatewayUrl: string, path: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}/openai/v1/organization/${path}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, body: await res.json() }
}

/** Token sums straight from a batch's output file, as the client downloads it. */
export async function fileSums(c: OpenAI, id: string): Promise<{ input: number; output: number; succeeded: number }> {
  const batch = await c.batches.retrieve(id)
  const out = { input: 0, output: 0, succeeded: 0 }
  const text = batch.output_file_id ? await (await c.files.content(batch.output_file_id)).text() : ''
  for (const line of text.split('\n').filter(Boolean)) {
    const u = JSON.parse(line).response.body.usage
    out.input += u.prompt_tokens
    out.output += u.completion_tokens
    out.succeeded++
  }
  return out
}
