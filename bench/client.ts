// The bench's HTTP client: what an OpenAI-SDK program does against the gateway (upload a batch
// file, create a batch, poll it, read its output file), with the upload streamed from disk so the
// client never holds the file in memory either.

import { streamedMultipart } from '../src/providers/multipart-body'

export type Provider = 'openai' | 'gemini' | 'bedrock'

interface Batch {
  id: string
  status: string
  output_file_id: string | null
  request_counts: { total: number; completed: number; failed: number }
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, init)
  const text = await res.text()
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${text.slice(0, 500)}`)
  return JSON.parse(text) as T
}

export async function uploadBatchFile(gateway: string, provider: Provider, path: string): Promise<{ id: string; bytes: number }> {
  const form = streamedMultipart([{ name: 'purpose', value: 'batch' }], {
    name: 'file',
    filename: 'bench.jsonl',
    contentType: 'application/jsonl',
    path,
    bytes: Bun.file(path).size,
  })
  return call(`${gateway}/openai/v1/files?provider=${provider}`, { method: 'POST', headers: form.headers, body: form.body })
}

export async function createBatch(gateway: string, provider: Provider, fileId: string, model: string): Promise<Batch> {
  return call(`${gateway}/openai/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h', provider, model }),
  })
}

/** Polls until the batch ends; each poll lets the fake advance one step. */
export async function waitForBatch(gateway: string, id: string, timeoutMs: number): Promise<Batch> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await call<Batch>(`${gateway}/openai/v1/batches/${id}`, { method: 'GET' })
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) return batch
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`)
    await Bun.sleep(200)
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
