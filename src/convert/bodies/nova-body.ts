// Neutral ChatRequest → Amazon Nova InvokeModel body (Nova user guide: "Complete request schema",
// tool use via toolConfig/toolSpec, toolUse and toolResult content blocks; Invoke sends bytes as
// base64 strings).

import type { ChatMessage, ChatPart, ChatRequest, ChatToolChoice } from '../../core/chat'
import { checkTemperatureAtMostOne, unsupported } from './unsupported'

export type NovaImageFormat = 'jpeg' | 'png' | 'gif' | 'webp'

export type NovaBlock =
  | { text: string }
  | { image: { format: NovaImageFormat; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | { toolResult: { toolUseId: string; content: Array<{ text: string }>; status: 'success' | 'error' } }

export type NovaToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } }

export interface NovaBody {
  schemaVersion: 'messages-v1'
  messages: Array<{ role: 'user' | 'assistant'; content: NovaBlock[] }>
  system?: Array<{ text: string }>
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; topK?: number; stopSequences?: string[] }
  toolConfig?: {
    tools: Array<{ toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } } }>
    toolChoice?: NovaToolChoice
  }
}

const TARGET = 'Bedrock (amazon.nova)'

const NOVA_IMAGE_FORMATS: Readonly<Record<string, NovaImageFormat>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/** `user` is not sent: the Nova body has no end-user field (documented as ignored). */
export function chatToNova(req: ChatRequest, line?: number): NovaBody {
  checkTemperatureAtMostOne(req, line, TARGET)
  const body: NovaBody = {
    schemaVersion: 'messages-v1',
    messages: req.messages.map((m) => novaMessage(req, m, line)),
  }
  if (req.system !== null) body.system = [{ text: req.system }]
  const config: NonNullable<NovaBody['inferenceConfig']> = {}
  if (req.maxTokens !== null) config.maxTokens = req.maxTokens
  if (req.temperature !== null) config.temperature = req.temperature
  if (req.topP !== null) config.topP = req.topP
  if (req.topK !== null) config.topK = req.topK
  if (req.stop.length > 0) config.stopSequences = req.stop
  if (Object.keys(config).length > 0) body.inferenceConfig = config
  if (req.toolChoice !== null && req.tools.length === 0) {
    throw unsupported(req, line, 'tool_choice', TARGET, 'toolChoice needs at least one tool')
  }
  if (req.tools.length > 0) {
    body.toolConfig = {
      tools: req.tools.map((t) => ({
        toolSpec: {
          name: t.name,
          ...(t.description === undefined ? {} : { description: t.description }),
          inputSchema: { json: t.parameters },
        },
      })),
    }
    if (req.toolChoice !== null) body.toolConfig.toolChoice = novaToolChoice(req, req.toolChoice, line)
  }
  return body
}

function novaToolChoice(req: ChatRequest, choice: ChatToolChoice, line: number | undefined): NovaToolChoice {
  switch (choice.type) {
    case 'auto':
      return { auto: {} }
    case 'any':
      return { any: {} }
    case 'tool':
      return { tool: { name: choice.name } }
    case 'none':
      throw unsupported(req, line, 'tool_choice', TARGET, "Nova offers auto, any and tool, not 'none'; omit the tools instead")
    default:
      return choice satisfies never
  }
}

function novaMessage(req: ChatRequest, m: ChatMessage, line: number | undefined): NovaBody['messages'][number] {
  return { role: m.role, content: m.content.map((p) => novaBlock(req, p, line)) }
}

function novaBlock(req: ChatRequest, part: ChatPart, line: number | undefined): NovaBlock {
  switch (part.type) {
    case 'text':
      return { text: part.text }
    case 'image': {
      const format = NOVA_IMAGE_FORMATS[part.mediaType]
      if (format === undefined) throw unsupported(req, line, 'image', TARGET, `media type ${part.mediaType} is not jpeg, png, gif or webp`)
      return { image: { format, source: { bytes: part.data } } }
    }
    case 'image_url':
      throw unsupported(req, line, 'image_url', TARGET, 'Nova does not fetch image URLs; send a base64 data: URL')
    case 'tool_use':
      return { toolUse: { toolUseId: part.id, name: part.name, input: part.input } }
    case 'tool_result':
      return {
        toolResult: { toolUseId: part.toolUseId, content: [{ text: part.content }], status: part.isError ? 'error' : 'success' },
      }
    default:
      return part satisfies never
  }
}
