// One batch on any of the four providers, created through either dialect's official SDK: an
// OpenAI JSONL upload + batches.create (with the model Gemini and Bedrock need), or Anthropic
// inline requests with x-model-provider. Shared by the cross-provider regression tables.

import type Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import { toFile } from 'openai'
import type { Dialect } from '../../src/core/provider-name'
import { batchItem, batchLine, MODELS } from '../security/world'

export const FOUR_PROVIDERS = ['openai', 'anthropic', 'gemini', 'bedrock'] as const
export type FourProvider = (typeof FOUR_PROVIDERS)[number]

export interface Clients {
  openai: OpenAI
  anthropic: Anthropic
}

/** The gateway id of a new batch of one request per prompt (custom_ids r0, r1, …). */
export async function createBatchOn(c: Clients, provider: FourProvider, dialect: Dialect, prompts: string[] = ['hi']): Promise<string> {
  const model = MODELS[provider]
  if (dialect === 'anthropic') {
    const requests = prompts.map((p, i) => batchItem(`r${i}`, { prompt: p, params: { model } }))
    return (await c.anthropic.messages.batches.create({ requests } as never, { headers: { 'x-model-provider': provider } })).id
  }
  const lines = prompts.map((p, i) => batchLine(`r${i}`, { prompt: p, model }))
  const file = await c.openai.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'in.jsonl'), purpose: 'batch', provider } as never)
  const batch = await c.openai.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    provider,
    ...(provider === 'gemini' || provider === 'bedrock' ? { model } : {}),
  } as never)
  return batch.id
}
