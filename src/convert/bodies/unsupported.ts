// The one error every target builder throws when a neutral request asks for something the target
// provider cannot do. It names the request (line and custom_id), the field and the provider.

import type { ChatRequest } from '../../core/chat'
import { type GatewayError, invalid, truncateId } from '../../errors'

export type TargetName = 'OpenAI' | 'Anthropic' | 'Gemini' | 'Bedrock' | 'Bedrock (anthropic.*)' | 'Bedrock (amazon.nova)'

/** `param` is the field in the neutral/Anthropic vocabulary (`max_tokens`, `top_k`, `tool_choice`). */
export function unsupported(req: ChatRequest, line: number | undefined, param: string, target: TargetName, why: string): GatewayError {
  const request = `request '${truncateId(req.customId)}'`
  const where = line === undefined ? request : `line ${line} (${request})`
  return invalid(`${where}: ${param} cannot be sent to ${target}: ${why}`, line === undefined ? { param } : { line, param })
}

/** Anthropic and Nova cap temperature at 1 where OpenAI and Gemini allow 2; rescaling would lie. */
export function checkTemperatureAtMostOne(req: ChatRequest, line: number | undefined, target: TargetName): void {
  if (req.temperature !== null && req.temperature > 1) {
    throw unsupported(req, line, 'temperature', target, `it accepts 0 to 1, got ${req.temperature}`)
  }
}
