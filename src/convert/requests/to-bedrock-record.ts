// Neutral ChatRequest → one Bedrock batch input record `{recordId, modelInput}` (bedrock.md §2.1).
// Bedrock jobs use InvokeModel bodies, whose shape depends on the model family; only the two
// families batchgate can write are accepted.

import type { ChatRequest } from '../../core/chat'
import { type BedrockAnthropicBody, chatToBedrockAnthropic } from '../bodies/anthropic-params'
import { chatToNova, type NovaBody } from '../bodies/nova-body'
import { unsupported } from '../bodies/unsupported'
import { encodeRecordId } from '../custom-ids'

export interface BedrockRecord {
  recordId: string
  modelInput: BedrockAnthropicBody | NovaBody
}

export type BedrockFamily = 'anthropic' | 'nova'

/** Geography prefixes of cross-region inference profiles (`us.anthropic.claude-…`). */
const PROFILE_PREFIX = '(?:(?:us|eu|apac|us-gov|jp|au|ca|global)\\.)?'
const ANTHROPIC_MODEL = new RegExp(`^${PROFILE_PREFIX}anthropic\\.`)
// Nova Canvas, Reel and Sonic generate images, video or speech and take other bodies.
const NOVA_TEXT_MODEL = new RegExp(`^${PROFILE_PREFIX}amazon\\.nova-(?!canvas|reel|sonic)`)

/** The body family for a Bedrock model id, or null when batchgate cannot write its body. */
export function bedrockFamily(model: string): BedrockFamily | null {
  if (ANTHROPIC_MODEL.test(model)) return 'anthropic'
  if (NOVA_TEXT_MODEL.test(model)) return 'nova'
  return null
}

export function chatToBedrockRecord(req: ChatRequest, line?: number): BedrockRecord {
  const family = bedrockFamily(req.model)
  const recordId = encodeRecordId(req.customId)
  switch (family) {
    case 'anthropic':
      return { recordId, modelInput: chatToBedrockAnthropic(req, line) }
    case 'nova':
      return { recordId, modelInput: chatToNova(req, line) }
    case null:
      throw unsupported(
        req,
        line,
        'model',
        'Bedrock',
        `batchgate writes request bodies only for anthropic.* and amazon.nova-* text models (optionally with a us./eu./apac./global. inference-profile prefix), not '${req.model}'`,
      )
    default:
      return family satisfies never
  }
}
