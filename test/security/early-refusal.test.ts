// Refusing early (issue 12): an upload that crosses the byte cap, or the request-count cap when
// the fields before the file say it is a batch for a known provider, is refused while it streams.
// The client is told 413 without the gateway reading (let alone spooling) the rest of the body,
// and nothing is left behind. Timing is the benchmark's business; here the proof is in bytes.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { batchLine, expectError, KEYS, leftovers, startWorld, upstreamRequests, type World } from './world'

const MiB = 1024 * 1024
const CAP = 4 * MiB

let world: World
let before: Record<string, number>

beforeAll(async () => {
  world = await startWorld({ BATCHGATE_MAX_UPLOAD_BYTES: String(CAP), BATCHGATE_MAX_BATCH_REQUESTS: '1000' })
  before = upstreamRequests(world.fakes)
})
afterAll(async () => {
  await world.close()
})

/**
 * A multipart upload whose file part would be `fileBytes` long, produced lazily as the gateway
 * reads; `sent` tells how much the gateway actually pulled.
 */
function endlessUpload(fields: [string, string][], fileBytes: number, line: string) {
  const boundary = 'early-refusal-boundary'
  const enc = new TextEncoder()
  const head = enc.encode(
    fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
  )
  const chunk = enc.encode(`${line}\n`.repeat(Math.ceil((256 * 1024) / (line.length + 1))))
  const tail = enc.encode(`\r\n--${boundary}--\r\n`)
  const state = { sent: 0 }
  let filePart = 0
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head)
      state.sent += head.length
    },
    pull(controller) {
      if (filePart >= fileBytes) {
        controller.enqueue(tail)
        controller.close()
        return
      }
      const piece = chunk.subarray(0, Math.min(chunk.length, fileBytes - filePart))
      filePart += piece.length
      state.sent += piece.length
      controller.enqueue(piece)
    },
  })
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, state }
}

async function post(path: string, upload: ReturnType<typeof endlessUpload>) {
  try {
    const res = await fetch(`${world.gw.url}${path}`, {
      method: 'POST',
      headers: { ...upload.headers, authorization: `Bearer ${KEYS.alice}` },
      body: upload.body,
      duplex: 'half',
    } as RequestInit)
    const text = await res.text()
    return { status: res.status, text }
  } catch (err) {
    // The gateway may close the connection after answering; what counts is what it read.
    return { status: 0, text: String(err) }
  }
}

describe('an upload is refused while it streams', () => {
  const line = batchLine('x', { prompt: 'p'.repeat(200) })

  // 4 GiB on offer; reading it all (what spooling the whole body did) takes seconds. What the
  // gateway reads past the cap is bounded by its short drain window, far below that.
  test('byte cap: a 4 GiB body is cut a little past the cap, not read to its end', async () => {
    const upload = endlessUpload([], 4096 * MiB, line)
    const reply = await post('/openai/v1/files?provider=openai', upload)
    if (reply.status !== 0) {
      expect(reply.status).toBe(413)
      expect(reply.text).toContain(String(CAP))
    }
    // The gateway stopped pulling soon after the cap: far from the gigabyte on offer.
    expect(upload.state.sent).toBeGreaterThan(CAP)
    expect(upload.state.sent).toBeLessThan(1024 * MiB)
  })

  test('byte cap with the provider unknown until after the file: the largest cap still holds', async () => {
    // Caps here are all CAP (BATCHGATE_MAX_UPLOAD_BYTES lowers every provider's).
    const upload = endlessUpload([], 4096 * MiB, line)
    await post('/openai/v1/files', upload)
    expect(upload.state.sent).toBeLessThan(1024 * MiB)
  })

  test('request-count cap, purpose and provider sent before the file: refused at the line past it', async () => {
    const upload = endlessUpload(
      [
        ['purpose', 'batch'],
        ['provider', 'gemini'],
      ],
      CAP - 1024,
      line,
    )
    const reply = await post('/openai/v1/files', upload)
    expectError('openai', { status: reply.status, text: reply.text, json: JSON.parse(reply.text) }, {
      status: 413,
      type: 'invalid_request_error',
      names: 'line 1001: gemini takes at most 1000 requests',
    })
  })

  test('a small over-cap upload through the official SDK gets a 413 it can read', async () => {
    const client = new OpenAI({ apiKey: KEYS.alice, baseURL: `${world.gw.url}/openai/v1`, maxRetries: 0 })
    const content = `${line}\n`.repeat(Math.ceil((CAP + 64 * 1024) / (line.length + 1)))
    const err = await client.files
      .create({ file: new File([content], 'big.jsonl'), purpose: 'batch' })
      .then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413)
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain(String(CAP))
  })

  test('afterwards: nothing went upstream, nothing stored, the spool is empty, still serving', async () => {
    expect(upstreamRequests(world.fakes)).toEqual(before)
    expect(leftovers(world.gw)).toEqual({ unready: [], spool: [], orphanBlobs: [] })
    expect(world.gw.store.db.query('SELECT id FROM files').all()).toEqual([])
    expect((await fetch(`${world.gw.url}/health`)).status).toBe(200)
  })
})
