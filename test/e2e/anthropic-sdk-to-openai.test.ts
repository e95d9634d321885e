// Official Anthropic SDKs (1.x and 0.x) → batchgate → the OpenAI fake (`x-model-provider: openai`):
// inline requests become chat-completions JSONL + an OpenAI batch; results come back as
// Anthropic result lines. The seed uploads an OpenAI batch JSONL, stored with purpose `batch`.

import { expect } from 'bun:test'
import { anthropicSdkSuite } from './anthropic-sdk-workflow'

const seedJsonl = `${[
  { custom_id: 'request-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 100 } },
  { custom_id: 'request-2', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How are you?' }], max_tokens: 100 } },
]
  .map((l) => JSON.stringify(l))
  .join('\n')}\n`

anthropicSdkSuite({
  provider: 'openai',
  model: 'gpt-4o-mini',
  upload: { name: 'batch_input.jsonl', content: seedJsonl, type: 'application/jsonl' },
  downloadable: true,
  checkUpload: (fakes, file) => {
    const stored = [...fakes.openai.files.values()].at(-1)
    // Named after the gateway id upstream, so a lost upload answer can be found again.
    expect(stored).toMatchObject({ filename: `${file.id}.jsonl`, purpose: 'batch', bytes: file.size_bytes })
  },
})
