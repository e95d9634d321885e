// Parsing of batch inputs: the batchGenerateContent create body (spec §3.1) and the JSONL
// input file lines `{key, request}` (spec §3.8).

import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { GoogleError, invalidValue, isObject, normaliseKeys } from './common'
import type { Json, JsonObject } from './common'
import { checkRequest } from './validate'
import type { CheckedRequest } from './validate'

export interface InlineItem {
  request: CheckedRequest
  metadata?: JsonObject
}

export type BatchInput = { kind: 'file'; fileName: string } | { kind: 'inline'; items: InlineItem[] }

export interface CreateBody {
  displayName?: string
  priority: number
  input: BatchInput
}

/** Fields of GenerateContentBatch; output-only ones are accepted and ignored. */
const BATCH_FIELDS = [
  'name',
  'model',
  'displayName',
  'inputConfig',
  'output',
  'createTime',
  'endTime',
  'updateTime',
  'batchStats',
  'state',
  'priority',
  'webhookConfig',
] as const

/** Inline batches: the whole request must stay under 20 MB (spec §3.9). */
export const MAX_CREATE_BODY_BYTES = 20 * 1024 * 1024

function parseInt64(v: Json | undefined, at: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v)
  throw invalidValue(at, 'TYPE_INT64', v)
}

function parseInline(list: Json | undefined): InlineItem[] {
  const at = 'batch.input_config.requests.requests'
  if (list !== undefined && !Array.isArray(list)) throw invalidValue(at, 'TYPE_MESSAGE', list)
  if (!list || list.length === 0) {
    throw new GoogleError('INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch.input_config.requests.requests: must not be empty\n')
  }
  return list.map((item, i) => {
    if (!isObject(item)) throw invalidValue(`${at}[${i}]`, 'TYPE_MESSAGE', item)
    const it = normaliseKeys(item, ['request', 'metadata'], `${at}[${i}]`)
    const request = checkRequest(it.request, `${at}[${i}].request`)
    const metadata = it.metadata
    if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
      throw invalidValue(`${at}[${i}].metadata`, 'TYPE_MESSAGE', metadata)
    }
    return { request, ...(isObject(metadata) ? { metadata } : {}) }
  })
}

function fileNameOf(v: Json | undefined, at: string): string {
  if (typeof v !== 'string' || v === '') throw invalidValue(at, 'TYPE_STRING', v ?? null)
  return v.startsWith('files/') ? v : `files/${v}`
}

/** Validates `{batch:{…}}`, camelCase or snake_case. Throws GoogleError for 400s. */
export function parseCreateBody(body: JsonObject): CreateBody {
  const top = normaliseKeys(body, ['batch', 'model'], '')
  const batchIn = top.batch
  if (batchIn === undefined || batchIn === null) {
    throw new GoogleError('INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch: batch is required\n')
  }
  if (!isObject(batchIn)) throw invalidValue('batch', 'TYPE_MESSAGE', batchIn)
  const batch = normaliseKeys(batchIn, BATCH_FIELDS, 'batch')

  const displayName = batch.displayName
  if (displayName !== undefined && displayName !== null && typeof displayName !== 'string') {
    throw invalidValue('batch.display_name', 'TYPE_STRING', displayName)
  }
  const priority = parseInt64(batch.priority, 'batch.priority')

  const icIn = batch.inputConfig
  if (icIn === undefined || icIn === null) {
    throw new GoogleError('INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch.input_config: input_config is required\n')
  }
  if (!isObject(icIn)) throw invalidValue('batch.input_config', 'TYPE_MESSAGE', icIn)
  const ic = normaliseKeys(icIn, ['fileName', 'requests'], 'batch.input_config')
  if (ic.fileName !== undefined && ic.requests !== undefined) {
    throw new GoogleError('INVALID_ARGUMENT', "Invalid JSON payload received. Oneof field 'source' is already set. Cannot set 'requests'")
  }
  let input: BatchInput
  if (ic.fileName !== undefined) {
    input = { kind: 'file', fileName: fileNameOf(ic.fileName, 'batch.input_config.file_name') }
  } else if (ic.requests !== undefined) {
    if (!isObject(ic.requests)) throw invalidValue('batch.input_config.requests', 'TYPE_MESSAGE', ic.requests)
    // One guide example nests the file as input_config.requests.file_name; accept it (§3.1).
    const r = normaliseKeys(ic.requests, ['requests', 'fileName'], 'batch.input_config.requests')
    if (r.fileName !== undefined && r.requests === undefined) {
      input = { kind: 'file', fileName: fileNameOf(r.fileName, 'batch.input_config.requests.file_name') }
    } else {
      input = { kind: 'inline', items: parseInline(r.requests) }
    }
  } else {
    throw new GoogleError('INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch.input_config.source: one of file_name or requests is required\n')
  }
  return { ...(typeof displayName === 'string' && displayName ? { displayName } : {}), priority, input }
}

export interface FileLine {
  key?: string
  request: CheckedRequest
}

/** A JSONL input problem: the batch ends FAILED with this message (spec §3.2 Operation error). */
export class BadInputError extends Error {}

/** Streams the JSONL input, validating every line; blank lines are skipped. */
export async function* readInputLines(path: string): AsyncGenerator<FileLine> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })
  let lineNo = 0
  for await (const line of rl) {
    lineNo++
    if (line.trim() === '') continue
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch (err) {
      throw new BadInputError(`Invalid JSON on line ${lineNo} of the input file: ${(err as Error).message}`)
    }
    if (!isObject(parsed)) throw new BadInputError(`Line ${lineNo} of the input file is not a JSON object.`)
    try {
      const obj = normaliseKeys(parsed, ['key', 'request', 'metadata'], '')
      if (obj.key !== undefined && typeof obj.key !== 'string') throw invalidValue('key', 'TYPE_STRING', obj.key)
      const request = checkRequest(obj.request, 'request')
      yield { ...(typeof obj.key === 'string' ? { key: obj.key } : {}), request }
    } catch (err) {
      if (err instanceof GoogleError) throw new BadInputError(`Line ${lineNo} of the input file is invalid: ${err.message.trim()}`)
      throw err
    }
  }
}

/** Counts non-blank lines (for batchStats.requestCount at creation) without parsing them. */
export async function countInputLines(path: string): Promise<number> {
  let count = 0
  let inLine = false
  for await (const chunk of createReadStream(path)) {
    for (const byte of chunk as Buffer) {
      if (byte === 0x0a) {
        if (inLine) count++
        inLine = false
      } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
        inLine = true
      }
    }
  }
  return inLine ? count + 1 : count
}
