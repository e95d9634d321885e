// Turns one validated GenerateContentRequest into the batch result the fake reports: a
// GenerateContentResponse (spec §3.8 output line shape) or a per-request google.rpc.Status.

import { countTokens, modelReply } from '../harness'
import type { JsonObject } from './common'
import type { CheckedContent, CheckedRequest } from './validate'

export type Answer = { ok: true; response: JsonObject } | { ok: false; error: JsonObject }

function textOf(content: CheckedContent): string {
  return content.parts
    .map((p) => p.text)
    .filter((t): t is string => typeof t === 'string')
    .join('\n')
}

/** THE prompt: text of the last user message (a content without role counts as user). */
export function promptOf(req: CheckedRequest): string {
  for (let i = req.contents.length - 1; i >= 0; i--) {
    const c = req.contents[i]
    if (c && (c.role === undefined || c.role === 'user')) return textOf(c)
  }
  return ''
}

function applyStopSequences(text: string, stops: string[]): string {
  let cut = text.length
  for (const s of stops) {
    const at = s === '' ? -1 : text.indexOf(s)
    if (at >= 0 && at < cut) cut = at
  }
  return text.slice(0, cut)
}

/** `model` is the bare model id (e.g. gemini-2.0-flash), reported as modelVersion. */
export function answer(req: CheckedRequest, model: string): Answer {
  const reply = modelReply(promptOf(req))
  if (!reply.ok) {
    // Per-request failures carry a Status with the HTTP-style code and status name.
    return { ok: false, error: { code: 400, message: reply.message, status: 'INVALID_ARGUMENT' } }
  }
  const g = req.generationConfig
  const stops = Array.isArray(g.stopSequences) ? g.stopSequences.filter((s): s is string => typeof s === 'string') : []
  let text = applyStopSequences(reply.text, stops)
  let finishReason = 'STOP'
  // maxOutputTokens is honoured loosely: the fake's tokens are whitespace-separated words.
  const max = g.maxOutputTokens === undefined ? undefined : Number(g.maxOutputTokens)
  if (max !== undefined && countTokens(text) > max) {
    text = text.split(/\s+/).filter(Boolean).slice(0, max).join(' ')
    finishReason = 'MAX_TOKENS'
  }
  const n = Number(g.candidateCount ?? 1)
  const candidates: JsonObject[] = []
  for (let i = 0; i < n; i++) {
    candidates.push({ content: { role: 'model', parts: [{ text }] }, finishReason, index: i })
  }
  const promptText = [...(req.systemInstruction ? [textOf(req.systemInstruction)] : []), ...req.contents.map(textOf)].join('\n')
  const promptTokenCount = countTokens(promptText)
  const candidatesTokenCount = countTokens(text) * n
  return {
    ok: true,
    response: {
      candidates,
      usageMetadata: { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount },
      modelVersion: model,
    },
  }
}
