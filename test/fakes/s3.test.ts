import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { AwsClient } from 'aws4fetch'
import { MIN_PART_SIZE, startS3Fake } from './s3'

const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test' }
const fake = startS3Fake({ buckets: ['batchgate-test', 'other'] })
const s3 = new S3Client({ endpoint: fake.url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1, credentials: creds })
const aws = new AwsClient({ ...creds, service: 's3', region: 'us-east-1', retries: 0 })
const B = 'batchgate-test'

afterAll(() => fake.close())

async function sdkError(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p
  } catch (err) {
    if (err instanceof S3ServiceException) return err
    throw err
  }
  throw new Error('expected the call to fail')
}

describe('S3 fake via @aws-sdk/client-s3', () => {
  test('put / get / head / range / delete', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl', Body: 'hello world\n', ContentType: 'application/jsonl' }))
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(fake.listKeys(B, 'in/')).toEqual(['in/a b+c.jsonl'])
    // The SDK encodes the key per segment; the fake must decode it back.
    expect(fake.requests.at(-1)?.path).toBe('/batchgate-test/in/a%20b%2Bc.jsonl')

    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl' }))
    expect(await got.Body?.transformToString()).toBe('hello world\n')
    expect(got.ETag).toBe(put.ETag)
    expect(got.ContentType).toBe('application/jsonl')
    expect(got.ContentLength).toBe(12)

    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl' }))
    expect(head.ContentLength).toBe(12)
    expect(head.ETag).toBe(put.ETag)

    const ranged = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl', Range: 'bytes=6-10' }))
    expect(await ranged.Body?.transformToString()).toBe('world')
    expect(ranged.ContentRange).toBe('bytes 6-10/12')

    const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl' }))
    expect(del.$metadata.httpStatusCode).toBe(204)
    const missing = await sdkError(s3.send(new GetObjectCommand({ Bucket: B, Key: 'in/a b+c.jsonl' })))
    expect(missing.name).toBe('NoSuchKey')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    const headMissing = await sdkError(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' })))
    expect(headMissing.$metadata.httpStatusCode).toBe(404)
    // Deleting a key that does not exist is still 204.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'nope' }))).$metadata.httpStatusCode).toBe(204)
  })

  test('stream body upload (aws-chunked with trailing checksum)', async () => {
    const body = Readable.from([Buffer.from('line1\n'), Buffer.from('line2\n')])
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'stream.jsonl', Body: body, ContentLength: 12 }))
    expect(await fake.getObjectText(B, 'stream.jsonl')).toBe('line1\nline2\n')
  })

  test('unknown bucket → NoSuchBucket', async () => {
    const err = await sdkError(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })))
    expect(err.name).toBe('NoSuchBucket')
    expect(err.$metadata.httpStatusCode).toBe(404)
  })

  test('ListObjectsV2: prefix, delimiter, paging', async () => {
    for (const k of ['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl', 'list/sub/x.out', 'list/sub/y.out', 'list/z/1']) {
      await fake.putObject('other', k, k)
    }
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'other', Prefix: 'list/' }))
    expect(all.Contents?.map((c) => c.Key)).toEqual(['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl', 'list/sub/x.out', 'list/sub/y.out', 'list/z/1'])
    expect(all.KeyCount).toBe(6)
    expect(all.Contents?.[0]?.Size).toBe('list/a.jsonl'.length)

    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'other', Prefix: 'list/', Delimiter: '/' }))
    expect(grouped.Contents?.map((c) => c.Key)).toEqual(['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl'])
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['list/sub/', 'list/z/'])

    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'other', Prefix: 'list/', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }))
      pages += 1
      seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''))
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    expect(pages).toBe(3)
    expect(seen).toEqual(['list/a.jsonl', 'list/b.jsonl', 'list/c.jsonl', 'list/sub/', 'list/z/'])
  })

  test('multipart: upload, complete, read back', async () => {
    const key = 'big/input.jsonl'
    const part1 = new Uint8Array(MIN_PART_SIZE).fill(97)
    const part2 = new TextEncoder().encode('tail\n')
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ContentType: 'application/jsonl' }))
    expect(UploadId).toBeTruthy()
    expect(fake.openMultipartUploads(B).map((u) => u.key)).toEqual([key])
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: part1 }))
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 2, Body: part2 }))
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    )
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/)
    expect(done.Key).toBe(key)
    expect(fake.openMultipartUploads(B)).toEqual([])
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }))
    expect(head.ContentLength).toBe(MIN_PART_SIZE + 5)
    // Completing wrote nothing: until read, the object is its two parts' files.
    const stored = fake.store.object(B, key)
    const parts = [...(stored.files ?? [])]
    expect(parts).toHaveLength(2)
    const tail = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, Range: 'bytes=-5' }))
    expect(await tail.Body?.transformToString()).toBe('tail\n')
    // The first read joined them into one file, in part order, and removed the parts.
    expect(stored.files).toEqual([stored.path])
    expect(parts.map((p) => existsSync(p))).toEqual([false, false])
    const whole = await Bun.file(stored.path).bytes()
    expect(whole.length).toBe(MIN_PART_SIZE + 5)
    expect(whole.subarray(0, MIN_PART_SIZE).every((b) => b === 97)).toBe(true)
    expect(new TextDecoder().decode(whole.subarray(MIN_PART_SIZE))).toBe('tail\n')
    // Replacing the key removes the joined file (unlinked in the background: waited for).
    await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'small' }))
    for (let i = 0; i < 100 && existsSync(stored.path); i++) await Bun.sleep(10)
    expect(existsSync(stored.path)).toBe(false)
  })

  test('multipart: small non-final part → EntityTooSmall; wrong ETag → InvalidPart; abort', async () => {
    const key = 'big/small.jsonl'
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }))
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: 'tiny' }))
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 2, Body: 'tail' }))
    const tooSmall = await sdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
        }),
      ),
    )
    expect(tooSmall.name).toBe('EntityTooSmall')
    expect(tooSmall.$metadata.httpStatusCode).toBe(400)
    const badEtag = await sdkError(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })),
    )
    expect(badEtag.name).toBe('InvalidPart')

    expect(fake.openMultipartUploads(B).map((u) => u.uploadId)).toEqual([UploadId ?? ''])
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: key, UploadId }))
    expect(aborted.$metadata.httpStatusCode).toBe(204)
    expect(fake.openMultipartUploads(B)).toEqual([])
    const gone = await sdkError(s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 3, Body: 'x' })))
    expect(gone.name).toBe('NoSuchUpload')
    expect(gone.$metadata.httpStatusCode).toBe(404)
    expect(fake.hasObject(B, key)).toBe(false)
  })

  test('wrong secret → 403 SignatureDoesNotMatch; unknown key → InvalidAccessKeyId', async () => {
    const bad = new S3Client({
      endpoint: fake.url,
      forcePathStyle: true,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'wrong' },
    })
    const err = await sdkError(bad.send(new GetObjectCommand({ Bucket: B, Key: 'x' })))
    expect(err.name).toBe('SignatureDoesNotMatch')
    expect(err.$metadata.httpStatusCode).toBe(403)
    const unknown = new S3Client({
      endpoint: fake.url,
      forcePathStyle: true,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'secret-test' },
    })
    const err2 = await sdkError(unknown.send(new ListObjectsV2Command({ Bucket: B })))
    expect(err2.name).toBe('InvalidAccessKeyId')
    expect(err2.$metadata.httpStatusCode).toBe(403)
  })
})

describe('S3 fake with temporary credentials', () => {
  test('session token must be sent and match', async () => {
    const temp = startS3Fake({ credentials: { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'tok-1', region: 'eu-west-1' } })
    try {
      const client = (sessionToken?: string, region = 'eu-west-1') =>
        new S3Client({
          endpoint: temp.url,
          forcePathStyle: true,
          region,
          maxAttempts: 1,
          credentials: { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken },
        })
      await client('tok-1').send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'v' }))
      expect(await temp.getObjectText(B, 'k')).toBe('v')
      expect((await sdkError(client(undefined).send(new GetObjectCommand({ Bucket: B, Key: 'k' })))).name).toBe('InvalidToken')
      expect((await sdkError(client('tok-2').send(new GetObjectCommand({ Bucket: B, Key: 'k' })))).name).toBe('InvalidToken')
      // A scope for another region is refused the way S3 does it.
      expect((await sdkError(client('tok-1', 'us-east-1').send(new GetObjectCommand({ Bucket: B, Key: 'k' })))).name).toBe('AuthorizationHeaderMalformed')
    } finally {
      await temp.close()
    }
  })
})

describe('S3 fake via aws4fetch', () => {
  test('put / get / list round trip', async () => {
    const put = await aws.fetch(`${fake.url}/${B}/a4f/x y.jsonl`, { method: 'PUT', body: '{"a":1}\n' })
    expect(put.status).toBe(200)
    expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    const get = await aws.fetch(`${fake.url}/${B}/a4f/x%20y.jsonl`)
    expect(await get.text()).toBe('{"a":1}\n')
    const list = await aws.fetch(`${fake.url}/${B}?list-type=2&prefix=a4f%2F`)
    const xml = await list.text()
    expect(xml).toContain('<Key>a4f/x y.jsonl</Key>')
    expect(xml).toContain('<KeyCount>1</KeyCount>')
  })

  test('signed payload hash is checked against the body', async () => {
    const good = await aws.fetch(`${fake.url}/${B}/signed.txt`, {
      method: 'PUT',
      body: 'abc',
      headers: { 'x-amz-content-sha256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    })
    expect(good.status).toBe(200)
    const bad = await aws.fetch(`${fake.url}/${B}/signed2.txt`, {
      method: 'PUT',
      body: 'abd',
      headers: { 'x-amz-content-sha256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('<Code>XAmzContentSHA256Mismatch</Code>')
    expect(fake.hasObject(B, 'signed2.txt')).toBe(false)
  })

  test('presigned GET works; tampered presigned URL does not', async () => {
    await fake.putObject(B, 'pre/obj.txt', 'presigned!')
    const signed = await aws.sign(`${fake.url}/${B}/pre/obj.txt`, { aws: { signQuery: true } })
    const ok = await fetch(signed.url)
    expect(await ok.text()).toBe('presigned!')
    const tampered = await fetch(signed.url.replace('obj.txt', 'other.txt'))
    expect(tampered.status).toBe(403)
  })

  test('wrong service in scope, wrong secret, unsigned → 403', async () => {
    const wrongService = new AwsClient({ ...creds, service: 'bedrock', region: 'us-east-1', retries: 0 })
    const r1 = await wrongService.fetch(`${fake.url}/${B}?list-type=2`, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })
    expect(r1.status).toBe(403)
    expect(await r1.text()).toContain('<Code>SignatureDoesNotMatch</Code>')

    const wrongSecret = new AwsClient({ ...creds, secretAccessKey: 'nope', service: 's3', region: 'us-east-1', retries: 0 })
    const r2 = await wrongSecret.fetch(`${fake.url}/${B}?list-type=2`)
    expect(r2.status).toBe(403)
    expect(await r2.text()).toContain('<Code>SignatureDoesNotMatch</Code>')

    const r3 = await fetch(`${fake.url}/${B}?list-type=2`)
    expect(r3.status).toBe(403)
    expect(await r3.text()).toContain('<Code>AccessDenied</Code>')
  })
})
