// Neutral ChatRequest → one Mistral batch input line `{custom_id, body}` (docs.mistral.ai batch
// guide). The body is a chat completions body without `model` (Mistral takes one model per job,
// named at create): OpenAI's body renamed where Mistral differs (`max_tokens`), and without
// `user`, which Mistral's chat API has no field for.

import type { ChatRequest } from '../../core/chat'
import { chatToOpenAIBody, type OpenAIChatBody } from '../bodies/openai-body'

export type MistralChatBody = Omit<OpenAIChatBody, 'model' | 'max_completion_tokens' | 'user'> & { max_tokens?: number }

export interface MistralInputLine {
  custom_id: string
  body: MistralChatBody
}

export function chatToMistralLine(req: ChatRequest, line?: number): MistralInputLine {
  const { model: _model, max_completion_tokens: maxTokens, user: _user, ...rest } = chatToOpenAIBody(req, line)
  return { custom_id: req.customId, body: maxTokens === undefined ? rest : { ...rest, max_tokens: maxTokens } }
}
