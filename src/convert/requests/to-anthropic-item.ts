// Neutral ChatRequest → one Anthropic Message Batch request item `{custom_id, params}`
// (anthropic.md §3.1), for batches that came in through the OpenAI dialect and run on Anthropic.

import type { ChatRequest } from '../../core/chat'
import { invalid, truncateId } from '../../errors'
import { type AnthropicParams, chatToAnthropicParams } from '../bodies/anthropic-params'
import { ANTHROPIC_CUSTOM_ID } from '../custom-ids'

export interface AnthropicBatchItem {
  custom_id: string
  params: AnthropicParams
}

/** OpenAI custom_ids are free-form; Anthropic's are not, and rewriting them would break the join. */
export function chatToAnthropicItem(req: ChatRequest, line?: number): AnthropicBatchItem {
  if (!ANTHROPIC_CUSTOM_ID.test(req.customId)) {
    const where = line === undefined ? '' : `line ${line}: `
    throw invalid(
      `${where}custom_id '${truncateId(req.customId)}' cannot be sent to Anthropic: it must match ${ANTHROPIC_CUSTOM_ID.source} (1-64 letters, digits, '_' or '-')`,
      line === undefined ? { param: 'custom_id' } : { line, param: 'custom_id' },
    )
  }
  return { custom_id: req.customId, params: chatToAnthropicParams(req, line) }
}
