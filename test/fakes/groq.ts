// The Groq fake: the OpenAI Files + Batches fake in Groq's flavor (paths under /openai/v1,
// purpose batch only, 100 MB files, chat completions only, completion windows 24h–7d).
// Clients use baseURL = `${fake.url}` with groq-sdk, or `${fake.url}/openai/v1` with openai.

import { type OpenAIFake, type OpenAIFakeOptions, startOpenAIFake } from './openai'
import { GROQ_FLAVOR } from './openai/flavor'

export type GroqFake = OpenAIFake

export function startGroqFake(opts: Omit<OpenAIFakeOptions, 'flavor'> = {}): GroqFake {
  return startOpenAIFake({ apiKey: 'gsk_test_groq_key', ...opts, flavor: GROQ_FLAVOR })
}
