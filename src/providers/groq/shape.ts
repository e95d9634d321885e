// Groq's batch API is OpenAI's, served under https://api.groq.com/openai/v1 (groq-sdk 1.x
// resources/files + batches), with three differences the OpenAI adapter is told about: files are
// only kept for purpose `batch`, completion windows run from 24h to 7d, and GET /batches returns
// one unpaged list. Endpoints are limited to chat completions by the dialect (non-openai kinds).

import type { OpenAIShape } from '../openai/adapter'

export const GROQ_SHAPE: OpenAIShape = {
  kind: 'groq',
  purpose: (p) => (p === 'batch' ? 'batch' : null),
  completionWindow: (hours) => `${hours}h`,
  pagedList: false,
  endpoint: (e) => e,
  // Groq keeps batch files up to 100 MB and has no Uploads API.
  relay: null,
}
