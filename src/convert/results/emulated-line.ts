// The OpenAI result lines of an emulated run (providers/emulated), and the compact form an answer
// is stored in until it is read. The runner records tens of thousands of answers a second: it
// stores what the endpoint sent, untouched, and the work of proving the body is JSON and building
// the line happens when a result file is read — once per read, off the path every request takes.
//
// A stored result is either a finished line (it starts with `{`) or a deferred answer:
//   @<status>\t<custom_id as JSON>\t<request id as JSON, or nothing>\t<body as the endpoint sent it>
// JSON strings hold no raw tab, so the first three tabs split the fields; the body comes last and
// is deferred only when it has no line break (a result line must be one line).

const DEFERRED = '@'

/** An OpenAI-shaped error body for an answer whose body is not JSON. */
const notJson = (status: number) => ({
  error: { message: `the endpoint answered ${status} with a body that is not JSON`, type: 'server_error', param: null, code: null },
})

/**
 * The result line id of a run's line: `batch_req_` and 32 hex digits, like OpenAI's, derived from
 * the run and the line so that every read of a result file gives each line the same id.
 */
export function resultLineId(runId: string, line: number): string {
  return `batch_req_${runPrefix(runId)}${line.toString(16).padStart(12, '0')}`
}

let lastRun = ''
let lastPrefix = ''
function runPrefix(runId: string): string {
  if (runId !== lastRun) {
    lastRun = runId
    lastPrefix = (Bun.hash.wyhash(runId, 1n).toString(16).padStart(16, '0') + Bun.hash.crc32(runId).toString(16).padStart(8, '0')).slice(0, 20)
  }
  return lastPrefix
}

/** A finished result line: an answer (`response`) or a request that never got one (`error`). */
export function resultLine(id: string, customId: string, response: { status: number; requestId: string; body: unknown } | null, error: unknown): string {
  const res = response ? { status_code: response.status, request_id: response.requestId, body: response.body } : null
  return JSON.stringify({ id, custom_id: customId, response: res, error: error ?? null })
}

/**
 * What the runner stores for an endpoint's answer (`customId` is the custom_id as JSON text, as
 * the input line has it). A body with raw line breaks (pretty-printed) is made into its finished
 * line now; any other body is kept as sent, for `expandResult`.
 */
export function storedAnswer(runId: string, line: number, customId: string, status: number, requestId: string | null, text: string): string {
  if (text.includes('\n') || text.includes('\r')) {
    const id = resultLineId(runId, line)
    return resultLine(id, JSON.parse(customId) as string, { status, requestId: requestId ?? id, body: parseOr(text, status) }, null)
  }
  return `${DEFERRED}${status}\t${customId}\t${requestId === null ? '' : JSON.stringify(requestId)}\t${text}`
}

/**
 * The OpenAI result line of a stored result. A JSON body is spliced in as the endpoint sent it
 * (parsed only to prove it is JSON, never re-serialized: the answer is most of the line); a body
 * that is not JSON becomes an OpenAI-shaped error body naming the status.
 */
export function expandResult(runId: string, line: number, stored: string): string {
  if (!stored.startsWith(DEFERRED)) return stored
  const a = stored.indexOf('\t')
  const b = stored.indexOf('\t', a + 1)
  const c = stored.indexOf('\t', b + 1)
  const status = Number(stored.slice(1, a))
  const customId = stored.slice(a + 1, b)
  const id = resultLineId(runId, line)
  const requestId = c > b + 1 ? stored.slice(b + 1, c) : `"${id}"`
  const text = stored.slice(c + 1)
  let isJson = true
  try {
    JSON.parse(text)
  } catch {
    isJson = false
  }
  const body = isJson ? text.trim() : JSON.stringify(notJson(status))
  return `{"id":"${id}","custom_id":${customId},"response":{"status_code":${status},"request_id":${requestId},"body":${body}},"error":null}`
}

/** The endpoint's body as a value; a body that is not JSON becomes an OpenAI-shaped error body. */
export function parseOr(text: string, status: number): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return notJson(status)
  }
}
