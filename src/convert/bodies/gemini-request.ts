// Neutral ChatRequest → Gemini GenerateContentRequest (v1beta REST JSON, camelCase). The model is
// not part of it: a Gemini batch names its model once, at create time.

import type { ChatMessage, ChatPart, ChatRequest, ChatToolChoice } from '../../core/chat'
import { unsupported } from './unsupported'

export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { functionCall: { id: string; name: string; args: unknown } }
  | { functionResponse: { id: string; name: string; response: { output: string } | { error: string } } }

export interface GeminiContent {
  role: 'user' | 'model'
  parts: GeminiPart[]
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number
  temperature?: number
  topP?: number
  topK?: number
  stopSequences?: string[]
}

export interface GeminiFunctionCallingConfig {
  mode: 'AUTO' | 'ANY' | 'NONE'
  allowedFunctionNames?: string[]
}

export interface GenerateContentRequest {
  contents: GeminiContent[]
  systemInstruction?: { parts: Array<{ text: string }> }
  generationConfig?: GeminiGenerationConfig
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parametersJsonSchema: Record<string, unknown> }> }>
  toolConfig?: { functionCallingConfig: GeminiFunctionCallingConfig }
}

const TARGET = 'Gemini'

/** `user` is not sent: GenerateContentRequest has no end-user field (documented as ignored). */
export function chatToGeminiRequest(req: ChatRequest, line?: number): GenerateContentRequest {
  // functionResponse names the function, not the call id, so remember each call's name.
  const callNames = new Map<string, string>()
  for (const m of req.messages) for (const p of m.content) if (p.type === 'tool_use') callNames.set(p.id, p.name)
  const out: GenerateContentRequest = {
    contents: req.messages.map((m) => geminiContent(req, m, callNames, line)),
  }
  if (req.system !== null) out.systemInstruction = { parts: [{ text: req.system }] }
  const config = generationConfig(req)
  if (Object.keys(config).length > 0) out.generationConfig = config
  if (req.tools.length > 0) {
    out.tools = [
      {
        // parametersJsonSchema takes full JSON Schema, as OpenAI and Anthropic tools use;
        // `parameters` only takes Gemini's OpenAPI subset.
        functionDeclarations: req.tools.map((t) => ({
          name: t.name,
          ...(t.description === undefined ? {} : { description: t.description }),
          parametersJsonSchema: t.parameters,
        })),
      },
    ]
  }
  if (req.toolChoice !== null) out.toolConfig = { functionCallingConfig: functionCallingConfig(req.toolChoice) }
  return out
}

function generationConfig(req: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {}
  if (req.maxTokens !== null) config.maxOutputTokens = req.maxTokens
  if (req.temperature !== null) config.temperature = req.temperature
  if (req.topP !== null) config.topP = req.topP
  if (req.topK !== null) config.topK = req.topK
  if (req.stop.length > 0) config.stopSequences = req.stop
  return config
}

function functionCallingConfig(choice: ChatToolChoice): GeminiFunctionCallingConfig {
  switch (choice.type) {
    case 'auto':
      return { mode: 'AUTO' }
    case 'any':
      return { mode: 'ANY' }
    case 'none':
      return { mode: 'NONE' }
    case 'tool':
      return { mode: 'ANY', allowedFunctionNames: [choice.name] }
    default:
      return choice satisfies never
  }
}

function geminiContent(req: ChatRequest, m: ChatMessage, callNames: Map<string, string>, line: number | undefined): GeminiContent {
  return { role: m.role === 'assistant' ? 'model' : 'user', parts: m.content.map((p) => geminiPart(req, p, callNames, line)) }
}

function geminiPart(req: ChatRequest, part: ChatPart, callNames: Map<string, string>, line: number | undefined): GeminiPart {
  switch (part.type) {
    case 'text':
      return { text: part.text }
    case 'image':
      return { inlineData: { mimeType: part.mediaType, data: part.data } }
    case 'image_url':
      throw unsupported(req, line, 'image_url', TARGET, 'Gemini does not fetch image URLs; send a base64 data: URL')
    case 'tool_use':
      return { functionCall: { id: part.id, name: part.name, args: part.input } }
    case 'tool_result': {
      const name = callNames.get(part.toolUseId)
      if (name === undefined) {
        throw unsupported(req, line, 'tool_result', TARGET, `it names the function, and no earlier tool call has id '${part.toolUseId}'`)
      }
      // Gemini reads `output` as the function's result and `error` as its failure.
      const response = part.isError ? { error: part.content } : { output: part.content }
      return { functionResponse: { id: part.toolUseId, name, response } }
    }
    default:
      return part satisfies never
  }
}
