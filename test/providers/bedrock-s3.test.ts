// The Bedrock adapter's S3 side against the S3 fake: single PUT and multipart uploads (with
// abort on failure), streamed reads, listing with paging and XML-escaped keys, deletes, and
// S3 error mapping.

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BedrockConfig } from '../../src/config'
import { mintId } from '../../src/core/ids'
import { GatewayError } from '../../src/errors'
import { BedrockAdapter } from '../../src/providers/bedrock/adapter'
import { S3 } from '../../src/providers/bedrock/s3'
import { GrowingSource } from '../../src/providers/growing-source'
import { parseListPage, xmlUnescape } from '../../src/providers/bedrock/s3-xml'
import type { UploadMeta, UploadSource } from '../../src/providers/provider'
import { MIN_PART_SIZE, startS3Fake } from '../fakes/s3'

const BUCKET = 'batchgate-test'
const policy = { timeoutMs: 5000, retries: 2 }
const fake = startS3Fake({ buckets: [BUCKET] })
const dir = mkdtempSync(join(tmpdir(), 'bedrock-s3-test-'))

afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

function configFor(overrides: Partial<BedrockConfig> = {}): BedrockConfig {
  return {
    accessKeyId: fake.credentials.accessKeyId,
    secretAccessKey: fake.credentials.secretAccessKey,
    sessionToken: null,
    region: 'us-east-1',
    baseUrl: 'http://127.0.0.1:1',
    s3Endpoint: fake.url,
    roleArn: null,
    defaultBucket: BUCKET,
    ...overrides,
  }
}

let spoolCount = 0
async function spool(content: string | Uint8Array): Promise<UploadSource> {
  const path = join(dir, `spool-${++spoolCount}`)
  const bytes = await Bun.write(path, content)
  return { path, bytes }
}

function meta(overrides: Partial<UploadMeta> = {}): UploadMeta {
  return {
    gatewayId: mintId('openaiFile'),
    filename: 'my input file.jsonl',
    purpose: 'batch',
    mimeType: 'application/jsonl',
    dialect: 'openai',
    storage: { bucket: BUCKET, region: null, prefix: 'in/' },
    ...overrides,
  }
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GatewayError) return err
    throw err
  }
  throw new Error('expected a GatewayError')
}

const streamText = (s: ReadableStream<Uint8Array>) => new Response(s).text()
const requestsSince = (n: number) => fake.requests.slice(n).map((r) => `${r.method} ${r.path}${r.query}`)

describe('bedrock adapter: S3 files', () => {
  const adapter = new BedrockAdapter(configFor(), policy)

  test('small upload is one PUT keyed by the gateway id; read back and delete', async () => {
    const m = meta()
    const content = '{"recordId":"A1","modelInput":{}}\n'
    const before = fake.requests.length
    const file = await adapter.uploadFile(await spool(content), m)
    const key = `in/${m.gatewayId}.jsonl`
    expect(file).toEqual({
      location: { kind: 'upstream', upstreamId: `s3://${BUCKET}/${key}`, bucket: BUCKET, key },
      bytes: content.length,
      createdAt: expect.any(Number),
      expiresAt: null,
    })
    expect(requestsSince(before)).toEqual([`PUT /${BUCKET}/${key}`])
    expect(fake.requests.at(-1)?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD')
    expect(fake.requests.at(-1)?.headers.authorization).toContain('/us-east-1/s3/aws4_request')
    expect(await fake.getObjectText(BUCKET, key)).toBe(content)
    expect(fake.store.object(BUCKET, key).contentType).toBe('application/jsonl')

    expect(await streamText(await adapter.fileContent(file.location))).toBe(content)
    await adapter.deleteFile(file.location)
    expect(fake.hasObject(BUCKET, key)).toBe(false)
    // S3 deletes are 204 for missing keys too.
    await adapter.deleteFile(file.location)
  })

  test('prefix without trailing slash, and no prefix', async () => {
    const a = meta({ storage: { bucket: BUCKET, region: null, prefix: 'deep/er' } })
    const b = meta({ storage: { bucket: BUCKET, region: null, prefix: '' } })
    expect((await adapter.uploadFile(await spool('x\n'), a)).location.key).toBe(`deep/er/${a.gatewayId}.jsonl`)
    expect((await adapter.uploadFile(await spool('y\n'), b)).location.key).toBe(`${b.gatewayId}.jsonl`)
  })

  test('no storage target → invalid_request naming storage_config', async () => {
    const err = await failure(adapter.uploadFile(await spool('x\n'), meta({ storage: null })))
    expect(err.kind).toBe('invalid_request')
    expect(err.param).toBe('storage_config')
    expect(err.message).toBe('bedrock uploads need storage_config[s3][bucket] or BEDROCK_S3_BUCKET')
  })

  test('unknown bucket → upstream 404 with the S3 code and message', async () => {
    const err = await failure(adapter.uploadFile(await spool('x\n'), meta({ storage: { bucket: 'no-such-bucket', region: null, prefix: '' } })))
    expect({ kind: err.kind, message: err.message, details: err.details }).toEqual({
      kind: 'upstream',
      message: 'S3 NoSuchBucket: The specified bucket does not exist',
      details: { upstreamStatus: 404, retryAfter: undefined, code: 'NoSuchBucket' },
    })
  })

  test('reading a missing object → upstream 404 NoSuchKey', async () => {
    const err = await failure(adapter.fileContent({ kind: 'upstream', upstreamId: `s3://${BUCKET}/nope.jsonl` }))
    expect(err.kind).toBe('upstream')
    expect(err.details.upstreamStatus).toBe(404)
    expect(err.details.code).toBe('NoSuchKey')
  })

  test('wrong secret (SignatureDoesNotMatch) → upstream 403, credentials refused', async () => {
    const bad = new BedrockAdapter(configFor({ secretAccessKey: 'wrong-secret' }), policy)
    const err = await failure(bad.uploadFile(await spool('x\n'), meta()))
    expect(err.kind).toBe('upstream')
    expect(err.details.upstreamStatus).toBe(403)
    expect(err.details.code).toBe('upstream_credentials_refused')
    expect(err.message).not.toContain('wrong-secret')
  })

  test('unreachable S3 endpoint → upstream_unreachable', async () => {
    const down = new BedrockAdapter(configFor({ s3Endpoint: 'http://127.0.0.1:1' }), { timeoutMs: 2000, retries: 0 })
    const err = await failure(down.uploadFile(await spool('x\n'), meta()))
    expect(err.kind).toBe('upstream_unreachable')
  })

  test('transient 500 on PUT is retried', async () => {
    const m = meta()
    fake.faults.add({ match: (req) => req.method === 'PUT', status: 500, body: '<Error><Code>InternalError</Code><Message>oops</Message></Error>' })
    const file = await adapter.uploadFile(await spool('retried\n'), m)
    expect(await fake.getObjectText(BUCKET, file.location.key ?? '')).toBe('retried\n')
  })
})

describe('bedrock adapter: multipart uploads', () => {
  const partBytes = MIN_PART_SIZE
  const adapter = new BedrockAdapter(configFor(), policy, { partBytes })
  const line = `${JSON.stringify({ recordId: 'R', modelInput: { pad: 'x'.repeat(200) } })}\n`
  const big = line.repeat(Math.ceil((11 * 1024 * 1024) / line.length))

  test('an ~11 MiB file goes up as three parts and reads back identical', async () => {
    const m = meta()
    const key = `in/${m.gatewayId}.jsonl`
    const before = fake.requests.length
    const file = await adapter.uploadFile(await spool(big), m)
    expect(file.bytes).toBe(big.length)
    const calls = requestsSince(before).map((c) => c.replace(/uploadId=[^&]+/, 'uploadId=U'))
    // Parts go up a few at a time, so they may arrive in any order between create and complete.
    calls.splice(1, 3, ...calls.slice(1, 4).sort())
    expect(calls).toEqual([
      `POST /${BUCKET}/${key}?uploads`,
      `PUT /${BUCKET}/${key}?partNumber=1&uploadId=U`,
      `PUT /${BUCKET}/${key}?partNumber=2&uploadId=U`,
      `PUT /${BUCKET}/${key}?partNumber=3&uploadId=U`,
      `POST /${BUCKET}/${key}?uploadId=U`,
    ])
    const parts = fake.requests.slice(before + 1, before + 4).sort((a, b) => a.query.localeCompare(b.query))
    expect(parts.map((r) => r.headers['content-length'])).toEqual([String(partBytes), String(partBytes), String(big.length - 2 * partBytes)])
    expect(parts.every((r) => r.headers['x-amz-content-sha256'] === 'UNSIGNED-PAYLOAD')).toBe(true)
    expect(fake.store.object(BUCKET, key).etag).toMatch(/-3"$/)
    expect(await fake.getObjectText(BUCKET, key)).toBe(big)
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
  })

  test('parts go up several at a time: a slow first part does not hold back the others', async () => {
    const arrived = new Map<string, number>()
    fake.faults.add({
      match: (req, url) => {
        const part = url.searchParams.get('partNumber')
        if (req.method !== 'PUT' || !part) return false
        arrived.set(part, performance.now())
        return part === '1'
      },
      // Kept live after part 1, so the later parts' arrivals are seen too.
      times: 2,
      delayMs: 600,
    })
    const file = await adapter.uploadFile(await spool(big), meta())
    expect((await fake.getObjectText(BUCKET, file.location.key ?? '')).length).toBe(big.length)
    // Parts 2 and 3 were sent while part 1 was still waiting for its answer.
    const first = arrived.get('1') as number
    expect((arrived.get('2') as number) - first).toBeLessThan(500)
    expect((arrived.get('3') as number) - first).toBeLessThan(500)
    fake.faults.clear()
  })

  test('a failing part aborts the upload and surfaces the error', async () => {
    const m = meta()
    const key = `in/${m.gatewayId}.jsonl`
    fake.faults.add({
      match: (req, url) => req.method === 'PUT' && url.searchParams.get('partNumber') === '2',
      status: 400,
      body: '<Error><Code>InvalidArgument</Code><Message>injected part failure</Message></Error>',
    })
    const err = await failure(adapter.uploadFile(await spool(big), m))
    expect({ kind: err.kind, status: err.details.upstreamStatus, code: err.details.code, message: err.message }).toEqual({
      kind: 'upstream',
      status: 400,
      code: 'InvalidArgument',
      message: 'S3 InvalidArgument: injected part failure',
    })
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
    expect(fake.hasObject(BUCKET, key)).toBe(false)
    expect(fake.requests.at(-1)?.method).toBe('DELETE')
  })

  test('a 503 on a part is retried and the upload completes', async () => {
    const m = meta()
    fake.faults.add({
      match: (req, url) => req.method === 'PUT' && url.searchParams.get('partNumber') === '1',
      status: 503,
      body: '<Error><Code>SlowDown</Code><Message>slow down</Message></Error>',
    })
    const file = await adapter.uploadFile(await spool(big), m)
    expect((await fake.getObjectText(BUCKET, file.location.key ?? '')).length).toBe(big.length)
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
  })

  test('an error document in a 200 Complete answer aborts too', async () => {
    fake.faults.add({
      match: (req, url) => req.method === 'POST' && url.searchParams.has('uploadId'),
      status: 200,
      body: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
    })
    const err = await failure(adapter.uploadFile(await spool(big), meta()))
    expect(err.details.code).toBe('InternalError')
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
  })
})

describe('bedrock adapter: uploads of a file still being written (issue 12, one pass)', () => {
  const partBytes = MIN_PART_SIZE
  const adapter = new BedrockAdapter(configFor(), policy, { partBytes })
  const line = `${JSON.stringify({ recordId: 'R', modelInput: { pad: 'y'.repeat(300) } })}\n`
  const piece = line.repeat(Math.ceil((2 * 1024 * 1024) / line.length))

  /** Appends `pieces` to a new file one at a time, telling `source` after each, with a pause between. */
  async function writeSlowly(source: GrowingSource, pieces: string[], fail?: Error): Promise<void> {
    const sink = Bun.file(source.path).writer()
    let written = 0
    for (const p of pieces) {
      sink.write(p)
      await sink.flush()
      written += Buffer.byteLength(p)
      source.grow(written)
      await Bun.sleep(40)
    }
    await sink.end()
    if (fail) source.fail(fail)
    else source.finish(written)
  }

  test('parts go up while the file grows; the object is the whole file, in order', async () => {
    const source = new GrowingSource(join(dir, `growing-${++spoolCount}`))
    const pieces = Array.from({ length: 8 }, (_, i) => piece.replace(/R/g, String(i)))
    const m = meta()
    const before = fake.requests.length
    const partTimes: number[] = []
    fake.faults.add({
      match: (req, url) => {
        if (req.method === 'PUT' && url.searchParams.has('partNumber')) partTimes.push(performance.now())
        return false
      },
      times: 1_000,
    })
    let finishedAt = 0
    const [file] = await Promise.all([
      adapter.uploadGrowingFile(source, m),
      writeSlowly(source, pieces).then(() => {
        finishedAt = performance.now()
      }),
    ])
    fake.faults.clear()
    const whole = pieces.join('')
    expect(file.bytes).toBe(Buffer.byteLength(whole))
    expect(await fake.getObjectText(BUCKET, file.location.key ?? '')).toBe(whole)
    // 16 MiB in 5 MiB parts: four parts, the first sent before the writer was done.
    const parts = fake.requests.slice(before).filter((r) => r.method === 'PUT')
    // Parts go up three at a time, so they may arrive in any order.
    const sizes = parts.map((r) => Number(r.headers['content-length'])).sort((a, b) => b - a)
    expect(sizes).toEqual([partBytes, partBytes, partBytes, Buffer.byteLength(whole) - 3 * partBytes])
    expect(partTimes[0] as number).toBeLessThan(finishedAt)
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
  })

  test('a file that ends within one part waits for its end and goes up in one PUT', async () => {
    const source = new GrowingSource(join(dir, `growing-${++spoolCount}`))
    const before = fake.requests.length
    const [file] = await Promise.all([adapter.uploadGrowingFile(source, meta()), writeSlowly(source, [line, line])])
    expect(requestsSince(before).map((c) => c.split(' ')[0])).toEqual(['PUT'])
    expect(await fake.getObjectText(BUCKET, file.location.key ?? '')).toBe(line + line)
  })

  test("the writer's error after parts went up aborts the upload: nothing stays, the error is the writer's", async () => {
    const source = new GrowingSource(join(dir, `growing-${++spoolCount}`))
    const m = meta()
    const before = fake.requests.length
    const bad = new GatewayError('invalid_request', 'line 40001 is not valid JSON', { line: 40001 })
    const [outcome] = await Promise.all([
      adapter.uploadGrowingFile(source, m).then(
        () => null,
        (err: unknown) => err,
      ),
      writeSlowly(source, Array.from({ length: 6 }, () => piece), bad),
    ])
    expect(outcome).toBe(bad)
    expect(requestsSince(before).some((c) => c.startsWith('PUT') && c.includes('partNumber=2'))).toBe(true)
    expect(fake.openMultipartUploads(BUCKET)).toEqual([])
    expect(fake.hasObject(BUCKET, `in/${m.gatewayId}.jsonl`)).toBe(false)
  })
})

describe('S3 client: listing and addressing', () => {
  const s3 = new S3(configFor(), policy)

  test('lists every page under a prefix and unescapes keys', async () => {
    const keys = ['list/a&b.out', 'list/c <d>.out', "list/e'f\".out", 'list/g.out', 'list/sub/h.out', 'other/x.out']
    for (const k of keys) await fake.putObject(BUCKET, k, k)
    const before = fake.requests.length
    const listed = await s3.listObjects(BUCKET, 'list/', { pageSize: 2 })
    expect(listed).toEqual(keys.filter((k) => k.startsWith('list/')).map((key) => ({ key, size: key.length })))
    expect(fake.requests.length - before).toBe(3)
  })

  test('getObject streams, headObject reports size or null', async () => {
    await fake.putObject(BUCKET, 'h/obj.jsonl', 'hello\n', 'application/jsonl')
    expect(await streamText(await s3.getObject({ bucket: BUCKET, key: 'h/obj.jsonl' }))).toBe('hello\n')
    expect(await s3.headObject({ bucket: BUCKET, key: 'h/obj.jsonl' })).toEqual({
      bytes: 6,
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
      contentType: 'application/jsonl',
    })
    expect(await s3.headObject({ bucket: BUCKET, key: 'h/missing' })).toBeNull()
  })

  test('virtual-hosted addressing without S3_ENDPOINT, keys encoded per segment', () => {
    const aws = new S3(configFor({ s3Endpoint: null }), policy)
    expect(aws.objectUrl('my-bucket', 'in/x y+(1).jsonl', 'eu-west-1')).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/in/x%20y%2B%281%29.jsonl')
    expect(aws.objectUrl('my-bucket', '', 'us-east-1')).toBe('https://my-bucket.s3.us-east-1.amazonaws.com/')
    expect(aws.objectUrl('my.bucket', 'k', 'us-east-1')).toBe('https://s3.us-east-1.amazonaws.com/my.bucket/k')
    expect(s3.objectUrl('b', 'a/b c', 'us-east-1')).toBe(`${fake.url}/b/a/b%20c`)
  })

  test('XML helpers', () => {
    expect(xmlUnescape('a&amp;lt;b &#65;&#x42; &quot;q&quot;')).toBe('a&lt;b AB "q"')
    expect(
      parseListPage(
        '<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;2</NextContinuationToken>' +
          '<Contents><Key>k&amp;1</Key><Size>3</Size></Contents></ListBucketResult>',
      ),
    ).toEqual({ objects: [{ key: 'k&1', size: 3 }], nextToken: 't&2' })
  })
})

describe('temporary credentials', () => {
  test('the session token is sent and signed', async () => {
    const creds = { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'session-token-1', region: 'us-east-1' }
    const tokenFake = startS3Fake({ credentials: creds, buckets: [BUCKET] })
    try {
      const cfg = configFor({ ...creds, s3Endpoint: tokenFake.url })
      const file = await new BedrockAdapter(cfg, policy).uploadFile(await spool('t\n'), meta())
      expect(await tokenFake.getObjectText(BUCKET, file.location.key ?? '')).toBe('t\n')
      expect(tokenFake.requests.at(-1)?.headers['x-amz-security-token']).toBe('session-token-1')
      const err = await failure(new BedrockAdapter({ ...cfg, sessionToken: null }, policy).uploadFile(await spool('t\n'), meta()))
      expect(err.details.upstreamStatus).toBe(400)
      expect(err.details.code).toBe('InvalidToken')
    } finally {
      await tokenFake.close()
    }
  })
})
