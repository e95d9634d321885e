// Official Anthropic SDKs (1.x and 0.x) → batchgate → the Gemini fake (`x-model-provider: gemini`):
// inline requests become a Gemini requests file + batchGenerateContent; results come back as
// Anthropic result lines. Uploads go to the Gemini Files API as they are.

import { expect } from 'bun:test'
import { anthropicSdkSuite } from './anthropic-sdk-workflow'

anthropicSdkSuite({
  provider: 'gemini',
  model: 'gemini-2.0-flash',
  upload: { name: 'notes.txt', content: 'Gemini gets this file as it is.\n', type: 'text/plain' },
  downloadable: false,
  checkUpload: async (fakes) => {
    const stored = [...fakes.gemini.files.values()].at(-1)
    expect(await fakes.gemini.readFileText(stored?.name as string)).toBe('Gemini gets this file as it is.\n')
  },
})
