// The file part's data is read past busboy (dialects/part-data.ts): its end is found with a
// native search for the delimiter. Whatever the content and however the body is cut into chunks,
// the stored bytes must be exactly the part's, and a body without the closing delimiter must fail
// as before.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { DelimiterScan, heldBytes } from '../../src/dialects/part-data'
import { KEYS, startWorld, type World } from '../security/world'

const BOUNDARY = 'part-data-boundary'
const NEEDLE = Buffer.from(`\r\n--${BOUNDARY}`)

describe('DelimiterScan', () => {
  test('finds the delimiter at every split between two chunks, keeping every data byte in order', () => {
    const data = Buffer.from(`{"a":1}\r\n-\r\n--${BOUNDARY.slice(0, 7)}x\r\n${'y'.repeat(40)}`)
    const body = Buffer.concat([data, NEEDLE, Buffer.from('--\r\n')])
    for (let cut = 0; cut <= body.length; cut++) {
      const scan = new DelimiterScan(BOUNDARY)
      const seen: Buffer[] = []
      // From the delimiter on: what the scan hands back, then the chunks after it, untouched.
      const after: Buffer[] = []
      for (const chunk of [body.subarray(0, cut), body.subarray(cut)]) {
        if (after.length > 0) {
          after.push(chunk)
          continue
        }
        const r = scan.take(Buffer.from(chunk))
        seen.push(...r.data)
        if (r.rest) after.push(r.rest)
      }
      expect(Buffer.concat(seen).toString(), `cut at ${cut}`).toBe(data.toString())
      expect(Buffer.concat(after).toString(), `cut at ${cut}`).toBe(`${NEEDLE.toString()}--\r\n`)
    }
  })

  test('byte by byte', () => {
    const data = Buffer.from(`\r\n\r\n--${BOUNDARY}x-not-it\r\n--${BOUNDARY.slice(0, -1)}`)
    const body = Buffer.concat([data, NEEDLE, Buffer.from('\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch')])
    const scan = new DelimiterScan(BOUNDARY)
    const seen: Buffer[] = []
    let rest: Buffer | null = null
    let at = 0
    for (; at < body.length && rest === null; at++) {
      const r = scan.take(Buffer.from(body.subarray(at, at + 1)))
      seen.push(...r.data)
      rest = r.rest
    }
    // The second CRLF opens the delimiter; `--boundary` followed by anything is the delimiter
    // already (RFC 2046: no part contains it), as busboy reads it too.
    expect(Buffer.concat(seen).toString()).toBe('\r\n')
    expect(Buffer.concat([rest as Buffer, body.subarray(at)]).toString()).toBe(body.subarray(2).toString())
  })

  test('a body that ends without the delimiter hands back what it held', () => {
    const scan = new DelimiterScan(BOUNDARY)
    const r = scan.take(Buffer.from(`abc\r\n--${BOUNDARY.slice(0, 4)}`))
    expect(Buffer.concat(r.data).toString()).toBe('abc')
    expect(r.rest).toBeNull()
    expect(scan.end().toString()).toBe(`\r\n--${BOUNDARY.slice(0, 4)}`)
  })

  test('heldBytes: the longest suffix that begins the delimiter', () => {
    expect(heldBytes(Buffer.from('abc'), NEEDLE)).toBe(0)
    expect(heldBytes(Buffer.from('abc\r'), NEEDLE)).toBe(1)
    expect(heldBytes(Buffer.from('abc\r\n-'), NEEDLE)).toBe(3)
    expect(heldBytes(Buffer.from(`abc\r\n--${BOUNDARY.slice(0, 5)}`), NEEDLE)).toBe(9)
    expect(heldBytes(Buffer.from('abc\r\nx'), NEEDLE)).toBe(0)
    expect(heldBytes(Buffer.from('\r\n\r'), NEEDLE)).toBe(1)
  })
})

describe('uploads read past busboy', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(async () => {
    await world.close()
  })

  /** A body streamed in chunks of awkward sizes, so delimiters and their look-alikes straddle chunks. */
  function streamed(parts: Buffer[], sizes: number[]): ReadableStream<Uint8Array> {
    const body = Buffer.concat(parts)
    let at = 0
    let i = 0
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.length) return controller.close()
        const n = sizes[i++ % sizes.length] as number
        controller.enqueue(new Uint8Array(body.subarray(at, at + n)))
        at += n
      },
    })
  }

  const head = (name: string, filename?: string) =>
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n`)
  const field = (name: string, value: string) => Buffer.concat([head(name), Buffer.from(`${value}\r\n`)])

  // Look-alikes of the delimiter, CRs and a cut-off boundary, repeated so they land on chunk edges.
  const tricky = Buffer.from(
    Array.from({ length: 3000 }, (_, i) => `line ${i}\r\n--${BOUNDARY.slice(0, i % BOUNDARY.length)}\r${i % 7 === 0 ? '\r\n\r\n' : ''}-`).join(''),
  )

  for (const order of ['fields first', 'file first'] as const) {
    for (const sizes of [[1], [7, 13, 64, 1021], [65536], [5, 70000]]) {
      test(`${order}, chunks of ${sizes.join('/')} bytes: the stored file is the part, byte for byte`, async () => {
        const fileParts = [head('file', 'tricky.bin'), tricky, Buffer.from('\r\n')]
        const fields = [field('purpose', 'user_data')]
        const parts = order === 'fields first' ? [...fields, ...fileParts] : [...fileParts, ...fields]
        const res = await fetch(`${world.gw.url}/openai/v1/files`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': `multipart/form-data; boundary="${BOUNDARY}"` },
          body: streamed([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)], sizes),
          duplex: 'half',
        } as RequestInit)
        const text = await res.text()
        expect(res.status, text).toBe(200)
        const { id, bytes } = JSON.parse(text) as { id: string; bytes: number }
        expect(bytes).toBe(tricky.length)
        const content = await fetch(`${world.gw.url}/openai/v1/files/${id}/content`, { headers: { authorization: `Bearer ${KEYS.alice}` } })
        expect(Buffer.compare(Buffer.from(await content.arrayBuffer()), tricky)).toBe(0)
      })
    }
  }

  test('a body cut short inside the file part is refused as malformed, with nothing kept', async () => {
    const before = world.fakes.openai.countFiles()
    const res = await fetch(`${world.gw.url}/openai/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: streamed([field('purpose', 'user_data'), head('file', 'cut.bin'), tricky.subarray(0, 20_000)], [4096]),
      duplex: 'half',
    } as RequestInit)
    const body = (await res.json()) as { error: { code: string } }
    expect(res.status).toBe(400)
    expect(body.error.code).toBe('invalid_multipart')
    expect(world.fakes.openai.countFiles()).toBe(before)
  })
})
