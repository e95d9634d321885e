// Neutral ChatRequest → one OpenAI batch input line (openai.md §5), for batches that came in
// through the Anthropic dialect and run on OpenAI.

import type { ChatRequest } from '../../core/chat'
import { chatToOpenAIBody, type OpenAIChatBody } from '../bodies/openai-body'
import { CHAT_COMPLETIONS } from './openai-line'

export interface OpenAIInputLine {
  custom_id: string
  method: 'POST'
  url: typeof CHAT_COMPLETIONS
  body: OpenAIChatBody
}

export function chatToOpenAILine(req: ChatRequest, line?: number): OpenAIInputLine {
  return { custom_id: req.customId, method: 'POST', url: CHAT_COMPLETIONS, body: chatToOpenAIBody(req, line) }
}
