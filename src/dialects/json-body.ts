// The body parser of the JSON routes (batch create in both dialects). Elysia's own parser reads
// any body whole, whatever its size or type; this one takes only JSON, refuses a declared length
// over BATCHGATE_MAX_JSON_BODY_BYTES before reading, stops reading a chunked body at that limit,
// and insists on UTF-8 — so each way a body can be wrong is a 4xx, never a crash or a big buffer.
// The route's schema is checked here too (validation.ts says why Elysia's check is too late).

import { depthLimitText, parseJsonBounded } from '../convert/json-depth'
import type { TSchema } from '@sinclair/typebox'
import { GatewayError, invalid } from '../errors'
import { bodyValidator } from './validation'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

export function jsonBody(maxBytes: number, schema: TSchema) {
  const validate = bodyValidator(schema)
  return async ({ request }: { request: Request }): Promise<unknown> => {
    if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
      throw invalid('This route takes a JSON body: send it with Content-Type: application/json.', {
        code: 'invalid_content_type',
      })
    }
    const declared = Number(request.headers.get('content-length') ?? Number.NaN)
    if (declared > maxBytes) throw tooLarge(maxBytes)
    const bytes = await readAtMost(request, maxBytes)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw invalid('The request body is not valid UTF-8.', { code: 'invalid_encoding' })
    }
    let value: unknown
    try {
      value = parseJsonBounded(text, () => invalid(`The request body ${depthLimitText}.`, { code: 'invalid_json' }))
    } catch (err) {
      if (err instanceof GatewayError) throw err
      throw invalid('The request body could not be parsed; send valid JSON with Content-Type: application/json.', {
        code: 'invalid_json',
      })
    }
    return validate(value)
  }
}

async function readAtMost(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge(maxBytes)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, total)
}

const tooLarge = (maxBytes: number): GatewayError =>
  new GatewayError('too_large', `The request body is larger than the limit of ${maxBytes} bytes (BATCHGATE_MAX_JSON_BODY_BYTES).`, {
    code: 'limit_exceeded',
  })

/** For routes whose body is optional (cancel): no body reads as `{}`, anything else as above. */
export function optionalJsonBody(maxBytes: number, schema: TSchema) {
  const parse = jsonBody(maxBytes, schema)
  const validate = bodyValidator(schema)
  return async (ctx: { request: Request }): Promise<unknown> => {
    const { request } = ctx
    const empty = !request.body || request.headers.get('content-length') === '0'
    return empty ? validate({}) : parse(ctx)
  }
}
