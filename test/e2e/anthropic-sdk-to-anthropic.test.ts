// Official Anthropic SDKs (1.x and 0.x) → batchgate → the Anthropic fake: the seed's default
// workflow (no x-model-provider header), passthrough of batch requests and results.

import { expect } from 'bun:test'
import { anthropicSdkSuite } from './anthropic-sdk-workflow'

anthropicSdkSuite({
  provider: 'anthropic',
  model: 'claude-3-sonnet-20240229',
  upload: { name: 'test_upload.txt', content: 'This is a test file for Files API integration.', type: 'text/plain' },
  downloadable: false,
  checkUpload: (fakes, file) => {
    const stored = [...fakes.anthropic.files.values()].at(-1)
    // Named after the gateway id upstream, so a lost upload answer can be found again.
    expect(stored).toMatchObject({ filename: `${file.id}.txt`, mime_type: 'text/plain', size_bytes: file.size_bytes })
  },
})
