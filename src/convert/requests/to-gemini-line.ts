// Neutral ChatRequest → one Gemini batch input line `{key, request}` (gemini.md §3.8). The key is
// the caller's custom_id unchanged: Gemini documents no limit on it, and results come back keyed by it.

import type { ChatRequest } from '../../core/chat'
import { chatToGeminiRequest, type GenerateContentRequest } from '../bodies/gemini-request'

export interface GeminiInputLine {
  key: string
  request: GenerateContentRequest
}

export function chatToGeminiLine(req: ChatRequest, line?: number): GeminiInputLine {
  return { key: req.customId, request: chatToGeminiRequest(req, line) }
}
