// Mistral's error answers. Auth failures come from the API gateway in front of the service
// (`{message, request_id}`); the service's own errors use `{object: "error", message, type, param,
// code}`, with FastAPI's validation list inside `message` for 422s.

export class MistralApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : 'error')
  }
}

export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

export const unauthorized = (): MistralApiError =>
  new MistralApiError(401, { message: 'Unauthorized', request_id: crypto.randomUUID().replaceAll('-', '') })

/** A service error (400, 404 …) in the `{object: "error"}` envelope. */
export const apiError = (status: number, message: string, code: string | null = null): MistralApiError =>
  new MistralApiError(status, { object: 'error', message, type: 'invalid_request_error', param: null, code })

/** A request-validation failure (422): one entry per problem, located in the body or query. */
export const validation = (loc: Array<string | number>, msg: string, type: string, input: unknown): MistralApiError =>
  new MistralApiError(422, {
    object: 'error',
    message: { detail: [{ type, loc, msg, input }] },
    type: 'invalid_request_error',
    param: null,
    code: null,
  })

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
