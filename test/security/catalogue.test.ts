// The bad-input catalogue (issue 7 §5): one table of hostile or broken requests across both
// dialects, run in a loop. Each must get its dialect's 4xx envelope naming what was wrong, and
// none may reach a provider. Afterwards the server still answers, the store holds no partial
// rows, the spool is empty and every blob belongs to a file.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Dialect } from '../../src/core/provider-name'
import { batchItem, batchLine, call, type ExpectedError, expectError, leftovers, MODELS, multipart, startWorld, upstreamRequests, type World } from './world'

interface Req {
  method?: string
  path: string
  json?: unknown
  /** Raw body with its content type. */
  raw?: { body: string | Uint8Array; type?: string }
  form?: Array<{ name: string; value: string | Uint8Array; filename?: string }>
  headers?: Record<string, string>
}

interface Row {
  name: string
  dialect: Dialect
  req: Req
  want: ExpectedError
}

const line = (id: unknown, body: Record<string, unknown> = {}) => batchLine(id, { body })
const item = (customId: unknown, params: Record<string, unknown> = {}) => batchItem(customId, { params })
const create = (fields: Record<string, unknown>) => ({
  input_file_id: 'file-00000000000000000000000000',
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
  ...fields,
})
const upload = (file: string | Uint8Array, fields: Record<string, string> = { purpose: 'batch' }, filename = 'in.jsonl') => [
  ...Object.entries(fields).map(([name, value]) => ({ name, value })),
  { name: 'file', value: file, filename },
]
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))

const TEN_KB = 'x'.repeat(10 * 1024)
const DEEP_ARRAY = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
const DEEP = `{"requests":${DEEP_ARRAY}}`
const TRUNCATED =
  '--sec-boundary\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n' +
  '--sec-boundary\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n{"custom_id":"a","meth'
const MP = 'multipart/form-data; boundary=sec-boundary'
const JSON_TYPE = 'application/json'

const O = '/openai/v1'
const A = '/anthropic/v1'
const bad = (names?: string): ExpectedError => ({ status: 400, type: 'invalid_request_error', names })
const gone = (dialect: Dialect, names?: string): ExpectedError => ({
  status: 404,
  type: dialect === 'openai' ? 'invalid_request_error' : 'not_found_error',
  names,
})

const ROWS: Row[] = [
  // ── OpenAI dialect: batch create bodies ──
  { name: 'malformed JSON', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: '{"input_file_id": "file-1",', type: JSON_TYPE } }, want: bad('JSON') },
  { name: 'JSON sent as text/plain', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: JSON.stringify(create({})), type: 'text/plain' } }, want: bad('Content-Type') },
  { name: 'form-encoded body on a JSON route', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: 'input_file_id=file-1', type: 'application/x-www-form-urlencoded' } }, want: bad('Content-Type') },
  { name: 'multipart body on a JSON route', dialect: 'openai', req: { path: `${O}/batches`, form: [{ name: 'input_file_id', value: 'file-1' }] }, want: bad('Content-Type') },
  { name: 'non-UTF-8 JSON body', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: bytes('{"input_file_id":"', [0xff, 0xfe], '"}'), type: JSON_TYPE } }, want: bad('UTF-8') },
  { name: 'JSON array instead of an object', dialect: 'openai', req: { path: `${O}/batches`, json: [create({})] }, want: bad('input_file_id') },
  { name: 'JSON null body', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: 'null', type: JSON_TYPE } }, want: bad('input_file_id') },
  { name: 'empty JSON body', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: '', type: JSON_TYPE } }, want: bad('JSON') },
  { name: 'missing endpoint', dialect: 'openai', req: { path: `${O}/batches`, json: { input_file_id: 'file-1', completion_window: '24h' } }, want: bad('endpoint') },
  { name: 'completion_window of the wrong type', dialect: 'openai', req: { path: `${O}/batches`, json: create({ completion_window: 24 }) }, want: bad('completion_window') },
  { name: 'metadata value not a string', dialect: 'openai', req: { path: `${O}/batches`, json: create({ metadata: { a: 1 } }) }, want: bad('metadata') },
  { name: 'metadata nested 100 000 deep', dialect: 'openai', req: { path: `${O}/batches`, raw: { body: JSON.stringify(create({})).replace('}', `,"metadata":${DEEP_ARRAY}}`), type: JSON_TYPE } }, want: bad('64') },
  { name: 'metadata with 17 keys', dialect: 'openai', req: { path: `${O}/batches`, json: create({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }) }, want: bad('metadata') },
  { name: 'input_file_id with ../', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: '../../etc/passwd' }) }, want: gone('openai', 'input_file_id') },
  { name: 'input_file_id with SQL metacharacters', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: "file-' OR '1'='1' --" }) }, want: gone('openai', 'input_file_id') },
  { name: 'input_file_id of 10 KB', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: TEN_KB }) }, want: bad('input_file_id') },
  { name: 'input_file_id with a NUL byte', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: 'file-\u0000abc' }) }, want: gone('openai', 'input_file_id') },
  { name: 'endpoint with ../', dialect: 'openai', req: { path: `${O}/batches`, json: create({ endpoint: '/v1/../admin' }) }, want: bad('endpoint') },
  { name: 'unknown provider __proto__', dialect: 'openai', req: { path: `${O}/batches`, json: create({ provider: '__proto__' }) }, want: bad('provider') },
  { name: 'inline requests with a duplicate custom_id', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: '', provider: 'anthropic', requests: [item('a'), item('a')] }) }, want: bad('requests.1.custom_id') },
  { name: 'inline requests not an array', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: '', requests: { 0: item('a') } }) }, want: bad('requests') },
  { name: 'output_s3_uri outside the bucket allowlist', dialect: 'openai', req: { path: `${O}/batches`, json: create({ provider: 'bedrock', model: MODELS.bedrock, output_s3_uri: 's3://attacker-bucket/loot/' }) }, want: bad('output_s3_uri') },
  { name: 'batch from a file that is not batch input', dialect: 'openai', req: { path: `${O}/batches`, json: create({ input_file_id: '{userFile}' }) }, want: bad('input_file_id') },
  // ── OpenAI dialect: ids, queries, routes ──
  { name: 'negative limit', dialect: 'openai', req: { path: `${O}/files?limit=-1` }, want: bad('limit') },
  { name: 'huge limit', dialect: 'openai', req: { path: `${O}/batches?limit=99999999999999999999` }, want: bad('limit') },
  { name: 'fractional limit', dialect: 'openai', req: { path: `${O}/batches?limit=1.5` }, want: bad('limit') },
  { name: 'unknown order', dialect: 'openai', req: { path: `${O}/files?order=sideways` }, want: bad('order') },
  { name: 'after cursor of 10 KB', dialect: 'openai', req: { path: `${O}/files?after=${TEN_KB}` }, want: bad('after') },
  { name: 'file id with encoded ../', dialect: 'openai', req: { path: `${O}/files/..%2F..%2Fetc%2Fpasswd` }, want: gone('openai', 'id') },
  { name: 'file id of 10 KB', dialect: 'openai', req: { path: `${O}/files/${TEN_KB}` }, want: bad('id') },
  { name: 'file id with broken percent-encoding', dialect: 'openai', req: { path: `${O}/files/%E0%A4%A` }, want: bad('id') },
  { name: 'content of an id with a NUL byte', dialect: 'openai', req: { path: `${O}/files/file-%00/content` }, want: gone('openai', 'id') },
  { name: 'delete of an id with SQL metacharacters', dialect: 'openai', req: { method: 'DELETE', path: `${O}/files/file-'%3B%20DROP%20TABLE%20files%3B--` }, want: gone('openai', 'id') },
  { name: 'batch id with SQL metacharacters', dialect: 'openai', req: { path: `${O}/batches/batch_'%20OR%201=1--` }, want: gone('openai', 'id') },
  { name: 'cancel of an unknown batch', dialect: 'openai', req: { method: 'POST', path: `${O}/batches/batch_nope/cancel` }, want: gone('openai', 'id') },
  { name: 'unknown route', dialect: 'openai', req: { path: `${O}/models` }, want: gone('openai', 'Unknown route') },
  { name: 'unknown method on a known path', dialect: 'openai', req: { method: 'PUT', path: `${O}/files` }, want: gone('openai', 'Unknown route') },
  { name: 'PATCH of a batch', dialect: 'openai', req: { method: 'PATCH', path: `${O}/batches/batch_x`, json: {} }, want: gone('openai', 'Unknown route') },
  // ── OpenAI dialect: uploads ──
  { name: 'upload sent as JSON', dialect: 'openai', req: { path: `${O}/files`, json: { purpose: 'batch' } }, want: bad('multipart') },
  { name: 'upload without a multipart boundary', dialect: 'openai', req: { path: `${O}/files`, raw: { body: 'purpose=batch', type: 'multipart/form-data' } }, want: bad('boundary') },
  { name: 'truncated multipart upload', dialect: 'openai', req: { path: `${O}/files`, raw: { body: TRUNCATED, type: MP } }, want: bad('cut short') },
  { name: 'JSONL with a malformed line', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n{"custom_id": "b",\n`) }, want: bad('line 2') },
  { name: 'JSONL with a duplicate custom_id', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n${line('a')}\n`) }, want: bad('custom_id') },
  { name: 'JSONL that is not UTF-8', dialect: 'openai', req: { path: `${O}/files`, form: upload(bytes(line('a').slice(0, 30), [0xc3, 0x28], '"}\n')) }, want: bad('UTF-8') },
  { name: 'JSONL line without custom_id', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n${JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: {} })}\n`) }, want: bad('custom_id') },
  { name: 'JSONL custom_id of the wrong type', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line(42)}\n`) }, want: bad('custom_id') },
  { name: 'JSONL body of the wrong type', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: 'hi' })}\n`) }, want: bad('body') },
  { name: 'JSONL method other than POST', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${JSON.stringify({ custom_id: 'a', method: 'DELETE', url: '/v1/chat/completions', body: {} })}\n`) }, want: bad('method') },
  { name: 'JSONL messages of the wrong type, bound for anthropic', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a', { messages: 'hi' })}\n`, { purpose: 'batch', provider: 'anthropic' }) }, want: bad('messages') },
  { name: 'JSONL that is one JSON array', dialect: 'openai', req: { path: `${O}/files`, form: upload(`[${line('a')}]\n`) }, want: bad('line 1') },
  { name: 'empty upload', dialect: 'openai', req: { path: `${O}/files`, form: upload('') }, want: bad('file') },
  { name: 'upload without purpose', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, {}) }, want: bad('purpose') },
  { name: 'purpose with ../', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: '../../batch' }) }, want: bad('purpose') },
  { name: 'two file parts', dialect: 'openai', req: { path: `${O}/files`, form: [{ name: 'purpose', value: 'batch' }, ...upload(`${line('a')}\n`, {}), ...upload(`${line('b')}\n`, {})] }, want: bad('file') },
  { name: 'file in a part not named file', dialect: 'openai', req: { path: `${O}/files`, form: [{ name: 'purpose', value: 'batch' }, { name: 'upload', value: `${line('a')}\n`, filename: 'a.jsonl' }] }, want: bad('upload') },
  { name: 'storage_config through __proto__', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: 'batch', provider: 'bedrock', 'storage_config[__proto__][bucket]': 'attacker-bucket' }) }, want: bad('storage_config') },
  { name: 'storage_config region that is a host name', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: 'batch', provider: 'bedrock', 'storage_config[s3][region]': 'attacker.example/#' }) }, want: bad('storage_config[s3][region]') },
  { name: 'storage_config bucket of the wrong type', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: 'batch', provider: 'bedrock', storage_config: '{"s3":{"bucket":5}}' }) }, want: bad('storage_config[s3][bucket]') },
  { name: 'storage_config prefix with ../', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: 'batch', provider: 'bedrock', 'storage_config[s3][prefix]': 'in/../../other' }) }, want: bad('storage_config[s3][prefix]') },
  { name: 'expires_after seconds of 1e400', dialect: 'openai', req: { path: `${O}/files`, form: upload(`${line('a')}\n`, { purpose: 'batch', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '1e400' }) }, want: bad('expires_after[seconds]') },
  // ── Anthropic dialect: message batch create bodies ──
  { name: 'malformed JSON', dialect: 'anthropic', req: { path: `${A}/messages/batches`, raw: { body: '{"requests": [', type: JSON_TYPE } }, want: bad('JSON') },
  { name: 'JSON sent as text/plain', dialect: 'anthropic', req: { path: `${A}/messages/batches`, raw: { body: JSON.stringify({ requests: [item('a')] }), type: 'text/plain' } }, want: bad('Content-Type') },
  { name: 'non-UTF-8 JSON body', dialect: 'anthropic', req: { path: `${A}/messages/batches`, raw: { body: bytes('{"requests":["', [0xc0, 0xaf], '"]}'), type: JSON_TYPE } }, want: bad('UTF-8') },
  { name: 'JSON nested 100 000 deep', dialect: 'anthropic', req: { path: `${A}/messages/batches`, raw: { body: DEEP, type: JSON_TYPE } }, want: bad('64') },
  { name: 'requests missing', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: {} }, want: bad('requests') },
  { name: 'requests not an array', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: 'all of them' } }, want: bad('requests') },
  { name: 'requests empty', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [] } }, want: bad('requests') },
  { name: 'request item null', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [null] } }, want: bad('requests.0') },
  { name: 'custom_id of 10 KB', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item(TEN_KB)] } }, want: bad('requests.0.custom_id') },
  { name: 'custom_id with ../', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item('../../etc/passwd')] } }, want: bad('requests.0.custom_id') },
  { name: 'custom_id with SQL metacharacters', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item("a'; DROP TABLE batches;--")] } }, want: bad('requests.0.custom_id') },
  { name: 'custom_id with a NUL byte', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item('a\u0000b')] } }, want: bad('requests.0.custom_id') },
  { name: 'duplicate custom_id', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item('a'), item('b'), item('a')] } }, want: bad('requests.2.custom_id') },
  { name: 'duplicate custom_id bound for gemini', dialect: 'anthropic', req: { path: `${A}/messages/batches`, headers: { 'x-model-provider': 'gemini' }, json: { requests: [item('a', { model: MODELS.gemini }), item('a', { model: MODELS.gemini })] } }, want: bad('requests.1.custom_id') },
  { name: 'max_tokens of the wrong type', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [item('a', { max_tokens: '10' })] } }, want: bad('requests.0.params.max_tokens') },
  { name: 'params missing', dialect: 'anthropic', req: { path: `${A}/messages/batches`, json: { requests: [{ custom_id: 'a' }] } }, want: bad('requests.0.params') },
  { name: 'request item with a __proto__ key', dialect: 'anthropic', req: { path: `${A}/messages/batches`, raw: { body: `{"requests":[{"__proto__":{"admin":true},"custom_id":"a","params":{}}]}`, type: JSON_TYPE } }, want: bad('__proto__') },
  { name: 'x-model-provider with ../', dialect: 'anthropic', req: { path: `${A}/messages/batches`, headers: { 'x-model-provider': '../../etc' }, json: { requests: [item('a')] } }, want: bad('x-model-provider') },
  // ── Anthropic dialect: ids, queries, routes ──
  { name: 'zero limit', dialect: 'anthropic', req: { path: `${A}/files?limit=0` }, want: bad('limit') },
  { name: 'limit that is not a number', dialect: 'anthropic', req: { path: `${A}/messages/batches?limit=abc` }, want: bad('limit') },
  { name: 'negative limit', dialect: 'anthropic', req: { path: `${A}/messages/batches?limit=-20` }, want: bad('limit') },
  { name: 'before_id of 10 KB', dialect: 'anthropic', req: { path: `${A}/files?before_id=${TEN_KB}` }, want: bad('before_id') },
  { name: '101 ids[]', dialect: 'anthropic', req: { path: `${A}/files?${Array.from({ length: 101 }, (_, i) => `ids[]=file_${i}`).join('&')}` }, want: bad('ids') },
  { name: 'batch id with encoded ../', dialect: 'anthropic', req: { path: `${A}/messages/batches/..%2F..%2Fetc%2Fpasswd` }, want: gone('anthropic') },
  { name: 'results of an unknown batch', dialect: 'anthropic', req: { path: `${A}/messages/batches/msgbatch_nope/results` }, want: gone('anthropic', 'msgbatch_nope') },
  { name: 'delete of an id with SQL metacharacters', dialect: 'anthropic', req: { method: 'DELETE', path: `${A}/messages/batches/msgbatch_'%20OR%20''='` }, want: gone('anthropic') },
  { name: 'file content of an id of 10 KB', dialect: 'anthropic', req: { path: `${A}/files/${TEN_KB}/content` }, want: bad('id') },
  { name: 'unknown route', dialect: 'anthropic', req: { method: 'POST', path: `${A}/messages`, json: {} }, want: gone('anthropic', 'Unknown route') },
  { name: 'unknown method on a known path', dialect: 'anthropic', req: { method: 'PUT', path: `${A}/files` }, want: gone('anthropic', 'Unknown route') },
  // ── Anthropic dialect: uploads ──
  { name: 'upload sent as JSON', dialect: 'anthropic', req: { path: `${A}/files`, json: { file: 'x' } }, want: bad('multipart') },
  { name: 'upload without a file part', dialect: 'anthropic', req: { path: `${A}/files`, form: [{ name: 'purpose', value: 'x' }] }, want: bad('file') },
  { name: 'truncated multipart upload', dialect: 'anthropic', req: { path: `${A}/files`, raw: { body: TRUNCATED, type: MP } }, want: bad('cut short') },
  { name: 'negative expires_in_seconds', dialect: 'anthropic', req: { path: `${A}/files`, form: upload('hello', { expires_in_seconds: '-5' }, 'a.txt') }, want: bad('expires_in_seconds') },
  { name: 'filename with a NUL byte', dialect: 'anthropic', req: { path: `${A}/files`, form: upload('hello', {}, 'a\u0000.txt') }, want: bad('multipart') },
]

let world: World
let userFile: string
let before: Record<string, number>

beforeAll(async () => {
  world = await startWorld()
  const form = multipart(upload('plain notes', { purpose: 'user_data' }, 'notes.txt'))
  const made = await call(world.gw.url, `${O}/files`, { body: form.body, headers: form.headers })
  expect(made.status).toBe(200)
  userFile = (made.json as { id: string }).id
  before = upstreamRequests(world.fakes)
})
afterAll(async () => {
  await world.close()
})

function send(req: Req) {
  const fill = (s: string) => s.replaceAll('{userFile}', userFile)
  if (req.form) {
    const form = multipart(req.form)
    return call(world.gw.url, req.path, { method: req.method, body: form.body, headers: { ...form.headers, ...req.headers } })
  }
  if (req.raw) {
    const headers = { ...(req.raw.type ? { 'content-type': req.raw.type } : {}), ...req.headers }
    return call(world.gw.url, req.path, { method: req.method ?? 'POST', body: req.raw.body, headers })
  }
  const json = req.json === undefined ? undefined : JSON.parse(fill(JSON.stringify(req.json)))
  return call(world.gw.url, fill(req.path), { method: req.method, json, headers: req.headers })
}

describe('bad-input catalogue', () => {
  test('holds at least 40 cases across both dialects', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40)
    expect(ROWS.filter((r) => r.dialect === 'openai').length).toBeGreaterThanOrEqual(20)
    expect(ROWS.filter((r) => r.dialect === 'anthropic').length).toBeGreaterThanOrEqual(20)
    expect(new Set(ROWS.map((r) => `${r.dialect} ${r.name}`)).size).toBe(ROWS.length)
  })

  for (const row of ROWS) {
    test(`${row.dialect}: ${row.name} → ${row.want.status}`, async () => {
      expectError(row.dialect, await send(row.req), row.want)
    })
  }

  test('afterwards: still serving, nothing sent upstream, no partial rows, empty spool, no orphan blobs', async () => {
    const health = await fetch(`${world.gw.url}/health`)
    expect(health.status).toBe(200)
    expect(upstreamRequests(world.fakes)).toEqual(before)
    expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
    const files = world.gw.store.db.query<{ id: string }, []>('SELECT id FROM files').all()
    const batches = world.gw.store.db.query<{ id: string }, []>('SELECT id FROM batches').all()
    expect(files.map((f) => f.id)).toEqual([userFile])
    expect(batches).toEqual([])
    // Nothing a row sent reached Object.prototype (the `storage_config[__proto__]` case).
    expect(({} as Record<string, unknown>).bucket).toBeUndefined()
  })
})
