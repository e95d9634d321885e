// Validates an uploaded OpenAI batch JSONL line by line and writes it, converted for the target
// provider, to a spool file. One pass, bounded memory: lines stream through convert/lines.ts,
// custom_ids go through a Bloom filter (custom-id-set.ts) and a second pass runs only when the
// filter suspects a duplicate. Any bad line stops the upload with its line number.

import type { Limits } from '../config'
import { requestLineWriter, type RequestTarget } from '../convert/pairs'
import { iterateLines, mapLines, parseJsonLine } from '../convert/lines'
import { parseOpenAIBatchLine } from '../convert/requests/openai-line'
import { GatewayError, invalid } from '../errors'
import { CustomIdSet, findFirstDuplicate } from './custom-id-set'
import type { FileFacts } from './file'
import type { ProviderName } from './provider-name'

/** Which provider-native format each provider keeps batch input in. */
const TARGET: Record<ProviderName, { target: RequestTarget; format: FileFacts['format'] }> = {
  openai: { target: 'openai-line', format: 'openai-batch' },
  // Anthropic has no input files: the gateway keeps OpenAI lines in its blob store and converts
  // them at batch create; converting here too rejects unconvertible lines at upload time.
  anthropic: { target: 'anthropic-item', format: 'openai-batch' },
  gemini: { target: 'gemini-line', format: 'gemini-requests' },
  bedrock: { target: 'bedrock-record', format: 'bedrock-records' },
}

export interface ConvertedBatchFile {
  path: string
  bytes: number
  facts: FileFacts
}

export async function convertBatchFile(
  source: { path: string; bytes: number },
  provider: ProviderName,
  outPath: string,
  limits: Limits,
): Promise<ConvertedBatchFile> {
  const { target, format } = TARGET[provider]
  const writeLine = requestLineWriter(target)
  const keepOriginal = format === 'openai-batch'
  const ids = new CustomIdSet(Math.ceil(source.bytes / 64))
  const maxRequests = limits.maxBatchRequests[provider]
  let count = 0
  let endpoint: string | undefined
  let model: string | undefined
  let modelsAgree = true

  const onLine = (text: string, line: number): string => {
    const parsed = parseOpenAIBatchLine(parseJsonLine(text, line), line)
    if (++count > maxRequests) {
      throw new GatewayError('too_large', `line ${line}: ${provider} takes at most ${maxRequests} requests per batch`, {
        line,
        code: 'limit_exceeded',
      })
    }
    endpoint ??= parsed.url
    if (parsed.url !== endpoint) {
      throw invalid(`line ${line}: url '${parsed.url}' differs from '${endpoint}' on earlier lines; a batch has one endpoint`, {
        line,
        param: 'url',
      })
    }
    const lineModel = typeof parsed.body.model === 'string' ? parsed.body.model : undefined
    model ??= lineModel
    if (lineModel !== model) modelsAgree = false
    ids.add(parsed.customId, line)
    const converted = writeLine(parsed, line)
    return keepOriginal ? text : converted
  }

  let failure: unknown = null
  const converted = Bun.file(source.path)
    .stream()
    .pipeThrough(
      mapLines((text, line) => {
        try {
          return onLine(text, line)
        } catch (err) {
          failure ??= err
          throw err
        }
      }, { maxLineBytes: limits.maxLineBytes }),
    )
  try {
    await Bun.write(outPath, new Response(converted))
  } catch (err) {
    throw failure ?? err
  }
  if (failure) throw failure
  if (count === 0) throw invalid('The batch file has no requests.', { param: 'file', code: 'empty_file' })

  const duplicate = await findFirstDuplicate(ids.suspects, customIdsOf(source.path, limits))
  if (duplicate) {
    throw invalid(
      `line ${duplicate.line}: custom_id '${duplicate.id.slice(0, 80)}' repeats line ${duplicate.firstLine}; custom_ids must be unique`,
      { line: duplicate.line, param: 'custom_id', code: 'duplicate_custom_id' },
    )
  }
  return {
    path: outPath,
    bytes: Bun.file(outPath).size,
    facts: { format, lines: count, endpoint, model: modelsAgree ? model : undefined },
  }
}

async function* customIdsOf(path: string, limits: Limits): AsyncGenerator<{ id: string; line: number }> {
  yield* iterateLines(
    Bun.file(path).stream(),
    (text, line) => ({ id: parseOpenAIBatchLine(parseJsonLine(text, line), line).customId, line }),
    { maxLineBytes: limits.maxLineBytes },
  )
}
