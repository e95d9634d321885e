// Streams an upload body (PutObject / UploadPart) to a file on disk while hashing it, so a
// 600 MB upload never sits in memory, and checks every integrity claim the client made:
// the signed payload hash (X-Amz-Content-Sha256), Content-MD5, x-amz-checksum-* headers or
// aws-chunked trailers, and x-amz-decoded-content-length.
//
// aws-chunked: AWS SDK v3 sends stream bodies as `content-encoding: aws-chunked` with
// `X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` and a trailing checksum; other
// clients use signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), verified here chunk by chunk.

import { createHash, type Hash } from 'node:crypto'
import { open, unlink } from 'node:fs/promises'
import zlib from 'node:zlib'
import { EMPTY_SHA256, hmacHex, sha256Hex, UNSIGNED_PAYLOAD, type SigV4Success } from '../sigv4'
import { S3Error } from './errors'

export interface WrittenBody {
  size: number
  md5Hex: string
  /** Base64 big-endian CRC32 of the decoded bytes (what x-amz-checksum-crc32 carries). */
  crc32: string
}

const crc32 = (zlib as unknown as { crc32(data: Uint8Array, value?: number): number }).crc32

export function crc32Base64(value: number): string {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(value >>> 0)
  return b.toString('base64')
}

export function bytesCrc32(data: Uint8Array): string {
  return crc32Base64(crc32(data))
}

const te = new TextDecoder()

/** Payload signing for aws-chunked bodies whose chunk headers carry `chunk-signature=`. */
interface ChunkSigner {
  auth: SigV4Success
  previous: string
}

function indexOfCrlf(data: Uint8Array, from: number): number {
  for (let i = from; i < data.length - 1; i++) if (data[i] === 13 && data[i + 1] === 10) return i
  return -1
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

const badChunk = (detail: string) => new S3Error(400, 'InvalidRequest', `Invalid aws-chunked body: ${detail}`)

/** Decodes an aws-chunked stream; trailer headers end up in `trailers`. */
async function* decodeAwsChunked(
  src: AsyncIterable<Uint8Array>,
  trailers: Map<string, string>,
  signer: ChunkSigner | undefined,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array = new Uint8Array(0)
  let state: 'header' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'header'
  let remaining = 0
  let chunkSig: string | undefined
  let chunkHash: Hash | undefined
  const checkChunk = (dataHash: string) => {
    if (!signer) return
    if (!chunkSig) throw badChunk('missing chunk-signature')
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', signer.auth.amzDate, signer.auth.scope, signer.previous, EMPTY_SHA256, dataHash].join('\n')
    const expected = hmacHex(signer.auth.signingKey, sts)
    if (expected !== chunkSig) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
    }
    signer.previous = expected
  }
  for await (const piece of src) {
    const data = pending.length ? concatBytes(pending, piece) : piece
    pending = new Uint8Array(0)
    let off = 0
    while (off < data.length) {
      if (state === 'data') {
        const n = Math.min(remaining, data.length - off)
        const slice = data.subarray(off, off + n)
        chunkHash?.update(slice)
        off += n
        remaining -= n
        if (remaining === 0) state = 'data-crlf'
        yield slice
        continue
      }
      const end = indexOfCrlf(data, off)
      if (end < 0) {
        pending = data.slice(off)
        if (pending.length > 8192) throw badChunk('chunk header too long')
        break
      }
      const line = te.decode(data.subarray(off, end))
      off = end + 2
      if (state === 'data-crlf') {
        if (line !== '') throw badChunk('chunk data longer than its declared size')
        checkChunk(chunkHash ? chunkHash.digest('hex') : '')
        chunkHash = undefined
        state = 'header'
      } else if (state === 'header') {
        const [sizeHex = '', ...exts] = line.split(';')
        if (!/^[0-9a-fA-F]+$/.test(sizeHex)) throw badChunk(`bad chunk size line '${line.slice(0, 40)}'`)
        chunkSig = exts.map((e) => /^chunk-signature=([0-9a-f]{64})$/.exec(e.trim())?.[1]).find(Boolean)
        remaining = parseInt(sizeHex, 16)
        if (remaining === 0) {
          checkChunk(EMPTY_SHA256)
          state = 'trailer'
        } else {
          chunkHash = signer ? createHash('sha256') : undefined
          state = 'data'
        }
      } else if (state === 'trailer') {
        if (line === '') {
          state = 'done'
        } else {
          const colon = line.indexOf(':')
          if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
        }
      } else if (line !== '') {
        throw badChunk('data after the final chunk')
      }
    }
  }
  // The unsigned-trailer form may end right after the trailer lines without a blank line.
  if (state !== 'done' && !(state === 'trailer' && pending.length === 0)) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header')
}

async function* emptyStream(): AsyncGenerator<Uint8Array> {}

/**
 * Writes the request body to `path`. `auth.payloadHash` is what the client signed: a hex
 * sha256 (verified here), UNSIGNED-PAYLOAD, or a STREAMING-* aws-chunked mode.
 * On any integrity failure the file is removed and an S3Error is thrown.
 */
export async function writeBodyToFile(req: Request, path: string, auth: SigV4Success): Promise<WrittenBody> {
  const payloadHash = auth.payloadHash
  const streaming = payloadHash.startsWith('STREAMING-')
  const chunked = streaming || (req.headers.get('content-encoding') ?? '').split(',').some((e) => e.trim() === 'aws-chunked')
  const decodedLengthHeader = req.headers.get('x-amz-decoded-content-length')
  if (!chunked && req.headers.get('content-length') === null) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.')
  }
  if (chunked && decodedLengthHeader === null && req.headers.get('content-length') === null) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.')
  }
  const trailers = new Map<string, string>()
  const source: AsyncIterable<Uint8Array> = req.body ? (req.body as unknown as AsyncIterable<Uint8Array>) : emptyStream()
  const signer = payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD') ? { auth, previous: auth.signature } : undefined
  const data = chunked ? decodeAwsChunked(source, trailers, signer) : source

  const md5 = createHash('md5')
  const wantSha256 = /^[0-9a-f]{64}$/.test(payloadHash) || req.headers.has('x-amz-checksum-sha256')
  const sha256 = wantSha256 ? createHash('sha256') : undefined
  const sha1 = req.headers.has('x-amz-checksum-sha1') ? createHash('sha1') : undefined
  let crc = 0
  let size = 0
  const fh = await open(path, 'w')
  try {
    try {
      for await (const chunk of data) {
        md5.update(chunk)
        sha256?.update(chunk)
        sha1?.update(chunk)
        crc = crc32(chunk, crc)
        size += chunk.length
        await fh.write(chunk)
      }
    } finally {
      await fh.close()
    }
    const md5Buf = md5.digest()
    const crcB64 = crc32Base64(crc)
    const sha256Buf = sha256?.digest()
    if (payloadHash !== UNSIGNED_PAYLOAD && !streaming && sha256Buf && sha256Buf.toString('hex') !== payloadHash) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: payloadHash,
        S3ComputedContentSHA256: sha256Buf.toString('hex'),
      })
    }
    if (decodedLengthHeader !== null && Number(decodedLengthHeader) !== size) {
      throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header')
    }
    const contentMd5 = req.headers.get('content-md5')
    if (contentMd5 !== null && contentMd5 !== md5Buf.toString('base64')) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.')
    }
    const claim = (name: string) => req.headers.get(name) ?? trailers.get(name)
    const checks: [string, string, string | undefined][] = [
      ['x-amz-checksum-crc32', 'CRC32', crcB64],
      ['x-amz-checksum-sha256', 'SHA256', sha256Buf?.toString('base64')],
      ['x-amz-checksum-sha1', 'SHA1', sha1?.digest('base64')],
    ]
    // CRC32C / CRC64NVME claims are accepted unchecked (no built-in implementation here).
    for (const [header, algo, actual] of checks) {
      const claimed = claim(header)
      if (claimed !== undefined && actual !== undefined && claimed !== actual) {
        throw new S3Error(400, 'BadDigest', `The ${algo} you specified did not match the calculated checksum.`)
      }
    }
    return { size, md5Hex: md5Buf.toString('hex'), crc32: crcB64 }
  } catch (err) {
    await unlink(path).catch(() => {})
    throw err
  }
}

/** Reads a small XML/JSON request body and checks it against the signed payload hash. */
export async function readSmallBody(req: Request, auth: SigV4Success): Promise<string> {
  const buf = new Uint8Array(await req.arrayBuffer())
  if (/^[0-9a-f]{64}$/.test(auth.payloadHash) && sha256Hex(buf) !== auth.payloadHash) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.")
  }
  return te.decode(buf)
}
