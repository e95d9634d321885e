// Writes neutral ChatRequests to a spool file in one provider-native request format, one JSON
// object per line, and reads the two request sources back as ChatRequests: OpenAI batch lines
// (from a blob) and Anthropic batch items (from a create call's `requests`).

import type { Limits } from '../config'
import { iterateLines, parseJsonLine } from '../convert/lines'
import { chatRequestWriter, type RequestTarget } from '../convert/pairs'
import { anthropicRequestToChat } from '../convert/requests/anthropic-request'
import { openaiChatBodyToChat, parseOpenAIBatchLine } from '../convert/requests/openai-line'
import { invalid } from '../errors'
import { iterableToStream } from '../providers/multipart-body'
import type { ChatRequest } from './chat'

export interface SpooledRequests {
  path: string
  bytes: number
  count: number
  /** The one model every request names, or null when they differ. */
  model: string | null
}

/**
 * Writes the requests to `path` in `target`'s format; with `idsPath`, also their custom_ids (one
 * JSON string per line), kept beside the input so results can account for every request.
 */
export async function spoolRequests(
  requests: AsyncIterable<ChatRequest> | Iterable<ChatRequest>,
  target: RequestTarget,
  path: string,
  idsPath?: string,
): Promise<SpooledRequests> {
  const write = chatRequestWriter(target)
  const encoder = new TextEncoder()
  const ids = idsPath ? Bun.file(idsPath).writer() : null
  let count = 0
  let model: string | null | undefined
  async function* lines(): AsyncGenerator<Uint8Array> {
    let buffer = ''
    for await (const req of requests) {
      count++
      model = model === undefined ? req.model : model === req.model ? model : null
      ids?.write(`${JSON.stringify(req.customId)}\n`)
      buffer += `${JSON.stringify(write(req, count))}\n`
      if (buffer.length >= 65536) {
        yield encoder.encode(buffer)
        buffer = ''
      }
    }
    if (buffer.length > 0) yield encoder.encode(buffer)
  }
  try {
    await Bun.write(path, new Response(iterableToStream(lines())))
  } finally {
    await ids?.end()
  }
  if (count === 0) throw invalid('The batch has no requests.', { param: 'requests' })
  return { path, bytes: Bun.file(path).size, count, model: model ?? null }
}

/** OpenAI batch lines (chat completions) from a file on disk, as ChatRequests. */
export function chatRequestsFromOpenAIFile(bytes: ReadableStream<Uint8Array>, limits: Limits): AsyncGenerator<ChatRequest> {
  return iterateLines(
    bytes,
    (text, line) => {
      const parsed = parseOpenAIBatchLine(parseJsonLine(text, line), line)
      return openaiChatBodyToChat(parsed.customId, parsed.body, line)
    },
    { maxLineBytes: limits.maxLineBytes },
  )
}

/** Anthropic batch items (already in memory: they came in a JSON body), as ChatRequests. */
export function* chatRequestsFromAnthropicItems(items: readonly unknown[]): Generator<ChatRequest> {
  const seen = new Set<string>()
  for (const [index, item] of items.entries()) {
    const req = anthropicRequestToChat(item, index)
    if (seen.has(req.customId)) {
      throw invalid(`requests.${index}.custom_id: '${req.customId}' is used by an earlier request; custom_ids must be unique`, {
        param: `requests.${index}.custom_id`,
      })
    }
    seen.add(req.customId)
    yield req
  }
}
