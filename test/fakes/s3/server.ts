// HTTP front of the S3 fake: path-style addressing `/{bucket}/{key}` (spec bedrock.md §4),
// SigV4 checked for real on every request (§3), the operations a batch gateway needs, and
// S3's XML error documents. AWS SDK v3 extras (`x-id=…`, checksum headers, `amz-sdk-*`,
// `?uploads=`) are tolerated.

import { serveFake, type FakeServer } from '../harness'
import { DEFAULT_AWS_CREDENTIALS, verifySigV4, type AwsFakeCredentials, type SigV4Success } from '../sigv4'
import { readSmallBody, writeBodyToFile } from './body'
import { malformedXml, S3_NS, S3Error, s3ErrorResponse, xmlEscape, xmlResponse, xmlUnescape, newRequestId } from './errors'
import { listObjectsV1Xml, listObjectsV2Xml } from './list'
import { MIN_PART_SIZE, S3Store, type MultipartUpload, type StoredObject } from './store'

export interface S3FakeOptions {
  credentials?: AwsFakeCredentials
  /** Buckets that exist from the start (default ['batchgate-test']). */
  buckets?: string[]
}

export interface OpenMultipartUpload {
  key: string
  uploadId: string
  initiated: Date
  partNumbers: number[]
}

export interface S3Fake extends FakeServer {
  credentials: AwsFakeCredentials
  region: string
  /** Direct access to the store (buckets, objects, open uploads). */
  store: S3Store
  createBucket(name: string): void
  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): Promise<{ etag: string }>
  /** Throws NoSuchBucket / NoSuchKey errors (S3Error) when absent. */
  getObjectText(bucket: string, key: string): Promise<string>
  hasObject(bucket: string, key: string): boolean
  listKeys(bucket: string, prefix?: string): string[]
  deleteObject(bucket: string, key: string): void
  /** Uploads initiated but neither completed nor aborted (to assert the gateway aborts). */
  openMultipartUploads(bucket: string): OpenMultipartUpload[]
}

/** Largest single PUT and largest part S3 accepts (§4 limits). */
const MAX_PUT_SIZE = 5 * 1024 ** 3

function decodePath(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.")
  }
}

function metadataFrom(headers: Headers): Record<string, string> {
  const meta: Record<string, string> = {}
  for (const [name, value] of headers) if (name.startsWith('x-amz-meta-')) meta[name.slice('x-amz-meta-'.length)] = value
  return meta
}

function objectHeaders(o: StoredObject, withChecksum: boolean): Record<string, string> {
  const h: Record<string, string> = {
    etag: o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'content-type': o.contentType,
    'accept-ranges': 'bytes',
    'x-amz-request-id': newRequestId(),
  }
  for (const [k, v] of Object.entries(o.metadata)) h[`x-amz-meta-${k}`] = v
  if (withChecksum && o.crc32) h['x-amz-checksum-crc32'] = o.crc32
  return h
}

/** Parses `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined = ignore the header (as S3 does). */
function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  let start: number
  let end: number
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0) throw invalidRange(size)
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
    if (m[2] !== '' && Number(m[2]) < start) return undefined
  }
  if (start >= size) throw invalidRange(size)
  return { start, end }
}

const invalidRange = (size: number) =>
  new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) })

function parseCompleteBody(xml: string): { partNumber: number; etag: string }[] {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) throw malformedXml()
  const parts: { partNumber: number; etag: string }[] = []
  for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const inner = m[1] ?? ''
    const num = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1]
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1]
    if (num === undefined || etag === undefined) throw malformedXml()
    parts.push({ partNumber: Number(num), etag: xmlUnescape(etag.trim()) })
  }
  return parts
}

function authError(auth: Exclude<ReturnType<typeof verifySigV4>, SigV4Success>, expectedRegion: string): S3Error {
  switch (auth.kind) {
    case 'missing':
      return new S3Error(403, 'AccessDenied', 'Access Denied')
    case 'unknown-key':
      return new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
    case 'bad-token':
      return new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.')
    case 'wrong-region':
      return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${auth.scopeRegion ?? ''}' is wrong; expecting '${expectedRegion}'`, {
        Region: expectedRegion,
      })
    case 'skew':
      return new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.')
    case 'expired':
      return new S3Error(403, 'AccessDenied', 'Request has expired')
    case 'malformed':
      return new S3Error(400, 'AuthorizationHeaderMalformed', auth.message)
    case 'wrong-service':
    case 'bad-signature':
      return new S3Error(403, 'SignatureDoesNotMatch', `The request signature we calculated does not match the signature you provided. Check your key and signing method. (${auth.message})`)
  }
}

export function startS3Fake(opts: S3FakeOptions = {}): S3Fake {
  const credentials = opts.credentials ?? DEFAULT_AWS_CREDENTIALS
  const store = new S3Store(opts.buckets ?? ['batchgate-test'])
  let baseUrl = ''

  async function handle(req: Request, url: URL): Promise<Response> {
    const rawPath = url.pathname.slice(1)
    const slash = rawPath.indexOf('/')
    const resource = url.pathname
    try {
      const bucket = decodePath(slash < 0 ? rawPath : rawPath.slice(0, slash))
      const key = slash < 0 ? '' : decodePath(rawPath.slice(slash + 1))
      const auth = verifySigV4(req, url, { credentials, service: 's3' })
      if (!auth.ok) throw authError(auth, credentials.region)
      if (!bucket) return listBuckets(req)
      return key ? await objectOp(req, url, auth, bucket, key) : await bucketOp(req, url, auth, bucket)
    } catch (err) {
      if (err instanceof S3Error) return s3ErrorResponse(err, req.method, resource)
      throw err
    }
  }

  function listBuckets(req: Request): Response {
    if (req.method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
    const buckets = [...store.buckets.values()]
      .map((b) => `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${b.created.toISOString()}</CreationDate></Bucket>`)
      .join('')
    return xmlResponse(`<ListAllMyBucketsResult xmlns="${S3_NS}"><Owner><ID>fake</ID></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`)
  }

  async function bucketOp(req: Request, url: URL, auth: SigV4Success, bucket: string): Promise<Response> {
    const q = url.searchParams
    if (req.method === 'PUT' && [...q.keys()].every((k) => k === 'x-id')) {
      if (store.buckets.has(bucket)) {
        throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.')
      }
      store.createBucket(bucket)
      return new Response(null, { status: 200, headers: { location: `/${bucket}`, 'x-amz-request-id': newRequestId() } })
    }
    store.bucket(bucket) // NoSuchBucket for everything below
    if (req.method === 'HEAD') return new Response(null, { status: 200, headers: { 'x-amz-bucket-region': credentials.region } })
    if (req.method === 'GET' && q.has('uploads')) return listUploads(bucket)
    if (req.method === 'GET' && q.get('list-type') === '2') return xmlResponse(listObjectsV2Xml(store, bucket, q))
    if (req.method === 'GET') return xmlResponse(listObjectsV1Xml(store, bucket, q))
    if (req.method === 'POST' && q.has('delete')) return await deleteObjects(req, auth, bucket)
    throw new S3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented.')
  }

  function listUploads(bucket: string): Response {
    const uploads = [...store.uploads.values()]
      .filter((u) => u.bucket === bucket)
      .map(
        (u) =>
          `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
      )
      .join('')
    return xmlResponse(
      `<ListMultipartUploadsResult xmlns="${S3_NS}"><Bucket>${xmlEscape(bucket)}</Bucket><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`,
    )
  }

  async function deleteObjects(req: Request, auth: SigV4Success, bucket: string): Promise<Response> {
    const xml = await readSmallBody(req, auth)
    if (!/<Delete[\s>]/.test(xml)) throw malformedXml()
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(xml)
    const keys = [...xml.matchAll(/<Object>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((m) => xmlUnescape(m[1] ?? ''))
    if (keys.length > 1000) throw malformedXml()
    for (const k of keys) store.delete(bucket, k)
    const deleted = quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('')
    return xmlResponse(`<DeleteResult xmlns="${S3_NS}">${deleted}</DeleteResult>`)
  }

  async function objectOp(req: Request, url: URL, auth: SigV4Success, bucket: string, key: string): Promise<Response> {
    const q = url.searchParams
    const uploadId = q.get('uploadId')
    switch (req.method) {
      case 'PUT':
        if (uploadId !== null) return await uploadPart(req, auth, store.upload(bucket, key, uploadId), q.get('partNumber'))
        return await putObject(req, auth, bucket, key)
      case 'GET':
      case 'HEAD': {
        if (uploadId !== null) return listParts(store.upload(bucket, key, uploadId))
        return getObject(req, store.object(bucket, key))
      }
      case 'DELETE':
        if (uploadId !== null) {
          store.abortUpload(store.upload(bucket, key, uploadId))
          return new Response(null, { status: 204, headers: { 'x-amz-request-id': newRequestId() } })
        }
        store.bucket(bucket)
        store.delete(bucket, key) // missing keys are fine: S3 answers 204 either way
        return new Response(null, { status: 204, headers: { 'x-amz-request-id': newRequestId() } })
      case 'POST':
        if (q.has('uploads')) {
          const u = store.createUpload(bucket, key, req.headers.get('content-type') ?? 'binary/octet-stream', metadataFrom(req.headers))
          return xmlResponse(
            `<InitiateMultipartUploadResult xmlns="${S3_NS}"><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${u.uploadId}</UploadId></InitiateMultipartUploadResult>`,
          )
        }
        if (uploadId !== null) {
          const upload = store.upload(bucket, key, uploadId)
          const parts = parseCompleteBody(await readSmallBody(req, auth))
          const obj = await store.completeUpload(upload, parts)
          const location = `${baseUrl}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`
          return xmlResponse(
            `<CompleteMultipartUploadResult xmlns="${S3_NS}"><Location>${xmlEscape(location)}</Location><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(obj.etag)}</ETag></CompleteMultipartUploadResult>`,
          )
        }
        break
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
  }

  function checkDeclaredSize(req: Request): void {
    const declared = Number(req.headers.get('x-amz-decoded-content-length') ?? req.headers.get('content-length') ?? 0)
    if (declared > MAX_PUT_SIZE) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size')
  }

  async function putObject(req: Request, auth: SigV4Success, bucket: string, key: string): Promise<Response> {
    store.bucket(bucket)
    if (req.headers.has('x-amz-copy-source')) throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented by this fake.')
    checkDeclaredSize(req)
    const path = store.tempPath()
    const written = await writeBodyToFile(req, path, auth)
    const obj: StoredObject = {
      key,
      path,
      size: written.size,
      etag: `"${written.md5Hex}"`,
      lastModified: new Date(),
      contentType: req.headers.get('content-type') ?? 'binary/octet-stream',
      metadata: metadataFrom(req.headers),
      crc32: written.crc32,
    }
    store.commit(bucket, obj)
    const headers: Record<string, string> = { etag: obj.etag, 'x-amz-request-id': newRequestId() }
    if (req.headers.has('x-amz-checksum-crc32') || req.headers.get('x-amz-trailer') === 'x-amz-checksum-crc32') {
      headers['x-amz-checksum-crc32'] = written.crc32
    }
    return new Response(null, { status: 200, headers })
  }

  async function uploadPart(req: Request, auth: SigV4Success, upload: MultipartUpload, rawPartNumber: string | null): Promise<Response> {
    const partNumber = Number(rawPartNumber)
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'partNumber',
        ArgumentValue: rawPartNumber ?? '',
      })
    }
    checkDeclaredSize(req)
    const path = store.tempPath()
    const written = await writeBodyToFile(req, path, auth)
    if (!store.uploads.has(upload.uploadId)) {
      // Aborted while the part was streaming in.
      await Bun.file(path).delete().catch(() => {})
      throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.')
    }
    const old = upload.parts.get(partNumber)
    if (old) await Bun.file(old.path).delete().catch(() => {})
    const etag = `"${written.md5Hex}"`
    upload.parts.set(partNumber, { partNumber, path, size: written.size, etag, lastModified: new Date() })
    const headers: Record<string, string> = { etag, 'x-amz-request-id': newRequestId() }
    if (req.headers.has('x-amz-checksum-crc32') || req.headers.get('x-amz-trailer') === 'x-amz-checksum-crc32') {
      headers['x-amz-checksum-crc32'] = written.crc32
    }
    return new Response(null, { status: 200, headers })
  }

  function listParts(upload: MultipartUpload): Response {
    const parts = [...upload.parts.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(
        (p) =>
          `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(p.etag)}</ETag><Size>${p.size}</Size></Part>`,
      )
      .join('')
    return xmlResponse(
      `<ListPartsResult xmlns="${S3_NS}"><Bucket>${xmlEscape(upload.bucket)}</Bucket><Key>${xmlEscape(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`,
    )
  }

  function getObject(req: Request, o: StoredObject): Response {
    const rangeHeader = req.headers.get('range')
    const range = rangeHeader ? parseRange(rangeHeader, o.size) : undefined
    // A full-object checksum only describes the whole body, so ranged answers omit it.
    const wantChecksum = req.headers.get('x-amz-checksum-mode') === 'ENABLED' && !range
    const headers = objectHeaders(o, wantChecksum)
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${o.size}`
      headers['content-length'] = String(range.end - range.start + 1)
      const body = req.method === 'HEAD' ? null : Bun.file(o.path).slice(range.start, range.end + 1)
      return new Response(body, { status: 206, headers })
    }
    headers['content-length'] = String(o.size)
    return new Response(req.method === 'HEAD' ? null : Bun.file(o.path), { status: 200, headers })
  }

  const server = serveFake(handle)
  baseUrl = server.url
  return {
    ...server,
    credentials,
    region: credentials.region,
    store,
    close: async () => {
      await server.close()
      store.destroy()
    },
    createBucket: (name) => void store.createBucket(name),
    putObject: async (bucket, key, body, contentType) => ({ etag: (await store.put(bucket, key, body, contentType)).etag }),
    getObjectText: (bucket, key) => store.readText(bucket, key),
    hasObject: (bucket, key) => store.buckets.get(bucket)?.objects.has(key) ?? false,
    listKeys: (bucket, prefix) => store.keys(bucket, prefix),
    deleteObject: (bucket, key) => store.delete(bucket, key),
    openMultipartUploads: (bucket) =>
      [...store.uploads.values()]
        .filter((u) => u.bucket === bucket)
        .map((u) => ({ key: u.key, uploadId: u.uploadId, initiated: u.initiated, partNumbers: [...u.parts.keys()].sort((a, b) => a - b) })),
  }
}

export { MIN_PART_SIZE }
