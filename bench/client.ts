// The bench's HTTP client: what an OpenAI-SDK program does against the gateway (upload a batch
// file, create a batch, poll it, read its output file), with the upload streamed from disk so the
// client never holds the file in memory either.

import { iterableToStream } from '../src/providers/multipart-body'

export type Provider = 'openai' | 'gemini' | 'bedrock'
/** Any instance name the gateway serves (the emulated phase names its own). */
type InstanceName = Provider | (string & {})

interface Batch {
  id: string
  status: string
  output_file_id: string | null
  request_counts: { total: number; completed: number; failed: number }
  /** Present once the gateway has settled the ended batch (read all its results once). */
  usage?: unknown
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, init)
  const text = await res.text()
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${text.slice(0, 500)}`)
  return JSON.parse(text) as T
}

/**
 * Uploads a batch file the way clients do: `fields-first` sends purpose and provider before the
 * file (curl, the Python SDK; the gateway converts while the part arrives), `file-first` sends the
 * file first and the fields after it (the Node SDK; the gateway spools, then converts).
 */
export async function uploadBatchFile(
  gateway: string,
  provider: InstanceName,
  path: string,
  order: 'fields-first' | 'file-first' = 'fields-first',
): Promise<{ id: string; bytes: number }> {
  const form = orderedMultipart(
    [
      { name: 'purpose', value: 'batch' },
      { name: 'provider', value: provider },
    ],
    { path, bytes: Bun.file(path).size },
    order,
  )
  return call(`${gateway}/openai/v1/files`, { method: 'POST', headers: form.headers, body: form.body })
}

function orderedMultipart(
  fields: { name: string; value: string }[],
  file: { path: string; bytes: number },
  order: 'fields-first' | 'file-first',
): { body: ReadableStream<Uint8Array>; headers: Record<string, string> } {
  const boundary = `bench-${crypto.randomUUID()}`
  const enc = new TextEncoder()
  const fieldBytes = enc.encode(fields.map((f) => `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"\r\n\r\n${f.value}\r\n`).join(''))
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
  )
  const afterFile = enc.encode('\r\n')
  const tail = enc.encode(`--${boundary}--\r\n`)
  async function* parts(): AsyncGenerator<Uint8Array> {
    if (order === 'fields-first') yield fieldBytes
    yield head
    yield* Bun.file(file.path).stream()
    yield afterFile
    if (order === 'file-first') yield fieldBytes
    yield tail
  }
  return {
    body: iterableToStream(parts()),
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(fieldBytes.length + head.length + file.bytes + afterFile.length + tail.length),
      // Read only by the bench's bare relay (ceiling-relay.ts); the gateway ignores it.
      'x-bench-file-bytes': String(file.bytes),
    },
  }
}

/**
 * Offers `totalBytes` of batch lines to an upload capped at `capBytes` (generated lazily, never
 * on disk) and times the answer from the moment the client has sent the cap.
 */
export async function overCapUpload(
  gateway: string,
  provider: Provider,
  capBytes: number,
  totalBytes: number,
): Promise<{ status: number; sent: number; secondsAfterCap: number | null }> {
  const enc = new TextEncoder()
  const boundary = 'bench-over-cap'
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n\r\n`,
  )
  // Long lines: the byte cap must be what is crossed, not the request-count cap (50 000 for OpenAI).
  const line = `${JSON.stringify({ custom_id: 'x', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(60_000) }] } })}\n`
  const chunk = enc.encode(line.repeat(Math.ceil((1 << 20) / line.length)))
  let sent = 0
  let crossedAt: number | null = null
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) return controller.close()
      const piece = sent === 0 ? head : chunk
      sent += piece.length
      if (crossedAt === null && sent > capBytes) crossedAt = performance.now()
      controller.enqueue(piece)
    },
  })
  let status = 0
  try {
    const res = await fetch(`${gateway}/openai/v1/files?provider=${provider}`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit)
    status = res.status
    await res.body?.cancel()
  } catch {
    // The gateway answers and closes; a client still sending may only see the close.
  }
  const crossed = crossedAt as number | null
  return { status, sent, secondsAfterCap: crossed === null ? null : (performance.now() - crossed) / 1000 }
}

export async function createBatch(gateway: string, provider: InstanceName, fileId: string, model: string): Promise<Batch> {
  return call(`${gateway}/openai/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h', provider, model }),
  })
}

/**
 * Polls until the gateway has settled the ended batch: settling reads every result line once, so
 * a download timed while it runs measures two reads of the same results.
 */
export async function waitForSettlement(gateway: string, id: string, timeoutMs: number, pollMs = 200): Promise<Batch> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await call<Batch>(`${gateway}/openai/v1/batches/${id}`, { method: 'GET' })
    if (batch.usage !== undefined) return batch
    if (Date.now() > deadline) throw new Error(`batch ${id} not settled after ${timeoutMs} ms`)
    await Bun.sleep(pollMs)
  }
}

/** Polls until the batch ends; each poll lets the fake advance one step. */
export async function waitForBatch(gateway: string, id: string, timeoutMs: number, pollMs = 200): Promise<Batch> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await call<Batch>(`${gateway}/openai/v1/batches/${id}`, { method: 'GET' })
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) return batch
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`)
    await Bun.sleep(pollMs)
  }
}

/** Reads a file's content through the gateway, counting bytes and lines without keeping them. */
export async function readFileContent(gateway: string, fileId: string): Promise<{ bytes: number; lines: number }> {
  const res = await fetch(`${gateway}/openai/v1/files/${fileId}/content`)
  if (!res.ok || !res.body) throw new Error(`GET content of ${fileId} → ${res.status}: ${(await res.text()).slice(0, 500)}`)
  let bytes = 0
  let lines = 0
  for await (const chunk of res.body) {
    bytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  return { bytes, lines }
}
