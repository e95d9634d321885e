// The bench's CEILING: a bare relay that does the least any gateway must do for an upload row —
// receive the client's multipart request, cut the file part out of it and stream those bytes on
// to the same provider fake — with no parsing, no validation, no spool, no store. Run as its own
// process (`bun bench/ceiling-relay.ts`), like the gateway, so it competes for the same cores
// the same way. What it skips makes it an upper bound, never a lower one:
// - it reads no form field: the route names the provider (`/<openai|bedrock|gemini>/…`);
// - the client tells it the file's size (`x-bench-file-bytes`), which S3's single PUT needs and a
//   real gateway would have to find by spooling or by a multipart upload of unknown length;
// - Bedrock gets the caller's bytes in one PUT, Gemini in one "upload, finalize" request, both
//   unconverted (the converting rows' output is larger than their input);
// - one upstream request per upload, no retries, no ids, no rows.

import { AwsClient } from 'aws4fetch'
import { DelimiterScan, delimiterOf } from '../src/dialects/part-data'

const env = (name: string): string => {
  const v = process.env[name]
  if (!v) throw new Error(`ceiling relay: ${name} is not set`)
  return v
}
const enc = new TextEncoder()

/** The part named `file` of a multipart body, as a stream; the rest of the body is read and dropped. */
function filePart(body: ReadableStream<Uint8Array>, boundary: string): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const delim = delimiterOf(boundary)
  // The file's data ends at the next delimiter: the same native search the gateway reads it with.
  const scan = new DelimiterScan(boundary)
  // Before the file's bytes: at most a few small fields and the part's head, so kept whole.
  let head = Buffer.alloc(0)
  let inFile = false
  let done = false
  const drain = async (): Promise<void> => {
    for (;;) if ((await reader.read()).done) return
  }
  /** Finds the file part's first data byte in `head` (skipping other parts); -1 until it has arrived. */
  const fileStart = (): number => {
    for (let at = 0; ; ) {
      const end = head.indexOf('\r\n\r\n', at)
      if (end === -1) return -1
      if (head.subarray(at, end).includes('name="file"')) return end + 4
      const next = head.indexOf(delim, end)
      if (next === -1) return -1
      at = next + delim.length
    }
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (done) return controller.close()
        const { done: ended, value } = await reader.read()
        if (ended) throw new Error('the body ended inside the file part')
        let chunk = Buffer.from(value.buffer, value.byteOffset, value.length)
        if (!inFile) {
          head = Buffer.concat([head, chunk])
          const start = fileStart()
          if (start === -1) continue
          inFile = true
          chunk = head.subarray(start)
          head = Buffer.alloc(0)
        }
        const { data, rest } = scan.take(chunk)
        for (const piece of data) controller.enqueue(piece)
        if (rest !== null) {
          done = true
          void drain()
          return controller.close()
        }
        if (data.length > 0) return
      }
    },
  })
}

/** A stream of `pieces`, the file's stream spliced in where it stands. */
function concatStreams(pieces: (Uint8Array | ReadableStream<Uint8Array>)[]): ReadableStream<Uint8Array> {
  let i = 0
  let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> } | null = null
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { done, value } = await reader.read()
          if (!done && value) return controller.enqueue(value)
          reader = null
        }
        const next = pieces[i++]
        if (next === undefined) return controller.close()
        if (next instanceof ReadableStream) reader = next.getReader()
        else return controller.enqueue(next)
      }
    },
  })
}

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what} → ${res.status}: ${(await res.text()).slice(0, 300)}`)
  return res
}

async function toOpenAI(file: ReadableStream<Uint8Array>, bytes: number): Promise<string> {
  const boundary = `ceiling-${crypto.randomUUID()}`
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
  )
  const tail = enc.encode(`\r\n--${boundary}--\r\n`)
  const res = await fetch(`${env('OPENAI_BASE_URL')}/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env('OPENAI_API_KEY')}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + bytes + tail.length),
    },
    body: concatStreams([head, file, tail]),
    duplex: 'half',
  } as RequestInit)
  return ((await (await ok(res, 'openai files')).json()) as { id: string }).id
}

const aws = new AwsClient({
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  service: 's3',
  region: process.env.AWS_REGION ?? 'us-east-1',
  retries: 0,
})

async function toS3(file: ReadableStream<Uint8Array>, bytes: number): Promise<string> {
  const key = `ceiling/${crypto.randomUUID()}.jsonl`
  const signed = await aws.sign(`${env('S3_ENDPOINT')}/${env('BEDROCK_S3_BUCKET')}/${key}`, {
    method: 'PUT',
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/jsonl', 'content-length': String(bytes) },
  })
  const res = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: file, duplex: 'half' } as RequestInit)
  await (await ok(res, 's3 put')).arrayBuffer()
  return key
}

async function toGemini(file: ReadableStream<Uint8Array>): Promise<string> {
  const base = env('GEMINI_BASE_URL')
  const key = env('GEMINI_API_KEY')
  const start = await ok(
    await fetch(`${base}/upload/v1beta/files`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': key,
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ file: { displayName: 'ceiling', mimeType: 'application/jsonl' } }),
    }),
    'gemini start',
  )
  const session = start.headers.get('x-goog-upload-url')
  if (!session) throw new Error('gemini start gave no upload url')
  const res = await fetch(session, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
    body: file,
    duplex: 'half',
  } as RequestInit)
  return ((await (await ok(res, 'gemini upload')).json()) as { file: { name: string } }).file.name
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  maxRequestBodySize: 8 * 1024 ** 3,
  idleTimeout: 0,
  async fetch(req) {
    try {
      const provider = new URL(req.url).pathname.split('/')[1]
      const boundary = /boundary=("?)([^";]+)\1/i.exec(req.headers.get('content-type') ?? '')?.[2]
      const bytes = Number(req.headers.get('x-bench-file-bytes'))
      if (!boundary || !req.body || !Number.isFinite(bytes)) return new Response('bad request', { status: 400 })
      const file = filePart(req.body, boundary)
      const id = provider === 'openai' ? await toOpenAI(file, bytes) : provider === 'bedrock' ? await toS3(file, bytes) : await toGemini(file)
      return Response.json({ id, bytes })
    } catch (err) {
      return new Response((err as Error).message, { status: 502 })
    }
  },
})
console.log(`ceiling relay listening on http://127.0.0.1:${server.port}`)
