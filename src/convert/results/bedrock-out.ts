// One record of a Bedrock batch `.out` file (bedrock.md §2.2) → ChatResult:
// `{recordId, modelInput, modelOutput}` or `{recordId, modelInput, error:{errorCode, errorMessage}}`.
// modelOutput is the InvokeModel reply of the model family: a Claude message or a Nova reply.

import type { ChatReply, ChatResult, StopReason } from '../../core/chat'
import { decodeRecordId } from '../custom-ids'
import type { JsonObject } from '../guards'
import { anthropicMessageToReply } from './anthropic-result'
import { errorTypeFromStatus } from './error-types'
import { type RawResultLine, ResultReader, usageWithCache } from './read'

/** `model` (the job's model id) names Nova replies, which do not carry one. */
export function bedrockOutRecordToResult(value: unknown, line: number, model = ''): ChatResult {
  const r = new ResultReader('bedrock-out', line)
  const o = r.object(value, '(line)')
  const recordId = r.string(o.recordId, 'recordId')
  const customId = decodeRecordId(recordId)
  if (o.error !== undefined && o.error !== null) {
    const error = r.object(o.error, 'error')
    const status = r.status(error.errorCode, 'error.errorCode')
    return {
      customId,
      type: 'errored',
      error: { type: errorTypeFromStatus(status), message: r.string(error.errorMessage, 'error.errorMessage'), status, code: null },
      requestId: null,
    }
  }
  const output = r.object(o.modelOutput, 'modelOutput')
  const raw: RawResultLine = { format: 'bedrock-out', value: o }
  const reply = Array.isArray(output.content) && 'stop_reason' in output
    ? anthropicMessageToReply(r, output, 'modelOutput')
    : novaReply(r, output, recordId, model)
  return { customId, type: 'succeeded', reply, requestId: null, raw }
}

function novaReply(r: ResultReader, output: JsonObject, recordId: string, model: string): ChatReply {
  const wrapper = r.object(output.output, 'modelOutput.output')
  const message = r.object(wrapper.message, 'modelOutput.output.message')
  const content: ChatReply['content'] = []
  r.list(message.content, 'modelOutput.output.message.content').forEach((raw, i) => {
    const path = `modelOutput.output.message.content.${i}`
    const block = r.object(raw, path)
    if (typeof block.text === 'string') content.push({ type: 'text', text: block.text })
    else if (block.toolUse !== undefined) {
      const use = r.object(block.toolUse, `${path}.toolUse`)
      content.push({ type: 'tool_use', id: r.string(use.toolUseId, `${path}.toolUse.toolUseId`), name: r.string(use.name, `${path}.toolUse.name`), input: use.input })
    } else if (block.reasoningContent === undefined) {
      // reasoningContent is Nova's (redacted) reasoning, not part of the answer; anything else is unknown.
      throw r.malformed(path, `block with keys ${Object.keys(block).join(', ')} cannot be converted`)
    }
  })
  const usage = output.usage === undefined ? {} : r.object(output.usage, 'modelOutput.usage')
  return {
    // Nova replies carry no id; the record id is unique within the job.
    id: `nova_${recordId}`,
    model,
    content,
    stopReason: novaStopReason(r.optionalString(output.stopReason, 'modelOutput.stopReason')),
    stopSequence: null,
    // Nova reports cache reads and writes beside inputTokens, which counts neither.
    usage: usageWithCache(
      r.count(usage.inputTokens, 'usage.inputTokens'),
      r.count(usage.cacheReadInputTokenCount, 'usage.cacheReadInputTokenCount'),
      r.count(usage.cacheWriteInputTokenCount, 'usage.cacheWriteInputTokenCount'),
      r.count(usage.outputTokens, 'usage.outputTokens'),
    ),
    createdAt: null,
  }
}

export function novaStopReason(reason: string | null): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'max_tokens':
    case 'stop_sequence':
    case 'tool_use':
      return reason
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'refusal'
    default:
      // malformed_model_output, malformed_tool_use and anything newer.
      return 'other'
  }
}
