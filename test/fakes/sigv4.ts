// AWS Signature Version 4 verification shared by the S3 and Bedrock fakes.
//
// The fakes know the secret, so they check signatures for real instead of only parsing the
// Credential= scope (spec bedrock.md §3): rebuild the canonical request from what arrived on
// the wire, derive the signing key, and compare. A client that gets the service, region,
// path encoding or payload hash wrong is rejected exactly as AWS would reject it.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export interface AwsFakeCredentials {
  accessKeyId: string
  secretAccessKey: string
  /** When set, requests must carry it in X-Amz-Security-Token (temporary credentials). */
  sessionToken?: string
  region: string
}

export const DEFAULT_AWS_CREDENTIALS: AwsFakeCredentials = {
  accessKeyId: 'AKIDTEST',
  secretAccessKey: 'secret-test',
  region: 'us-east-1',
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
/** AWS rejects requests whose X-Amz-Date is further than this from its clock (15 min). */
const MAX_SKEW_MS = 15 * 60 * 1000

export type SigV4FailureKind =
  | 'missing' // no Authorization header / presign query at all
  | 'malformed' // header present but not parseable
  | 'unknown-key' // access key id not ours
  | 'bad-token' // session token missing / wrong / unexpected
  | 'wrong-service'
  | 'wrong-region'
  | 'skew' // X-Amz-Date too far from now
  | 'expired' // presigned URL past X-Amz-Expires
  | 'bad-signature'

export interface SigV4Failure {
  ok: false
  kind: SigV4FailureKind
  message: string
  /** The region the client put in its scope (S3 reports it in AuthorizationHeaderMalformed). */
  scopeRegion?: string
}

export interface SigV4Success {
  ok: true
  accessKeyId: string
  /** The payload hash the client signed (header value, or the body hash for non-S3). */
  payloadHash: string
  /** X-Amz-Date value (long form), credential scope and seed signature: needed to verify
   * aws-chunked signed payload chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
  amzDate: string
  scope: string
  signature: string
  signingKey: Buffer
}

export type SigV4Result = SigV4Success | SigV4Failure

export interface VerifyOptions {
  credentials: AwsFakeCredentials
  /** Signing name the endpoint expects: 's3' or 'bedrock'. */
  service: string
  /**
   * Non-S3 services: hex sha256 of the body actually received. AWS computes it itself there,
   * so a client that signed a different hash fails. S3: leave undefined; the signed hash comes
   * from X-Amz-Content-Sha256 and the caller checks the body against it while streaming.
   */
  bodySha256?: string
  now?: Date
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date)
  const kRegion = hmac(kDate, region)
  const kService = hmac(kRegion, service)
  return hmac(kService, 'aws4_request')
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex')
}

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent plus !'()* escaped. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Canonical URI candidates. S3 signs the path encoded once (each segment RFC 3986 encoded);
 * other services encode the already-encoded wire path a second time, so an ARN segment
 * `arn%3Aaws…` is signed as `arn%253Aaws…` (spec §3). Clients differ in which characters they
 * escape on the wire, so both the wire form and the normalised form are tried.
 */
function canonicalUris(rawPath: string, service: string): string[] {
  const path = rawPath === '' ? '/' : rawPath
  if (service === 's3') {
    const normalised = path
      .split('/')
      .map((seg) => uriEscape(safeDecode(seg)))
      .join('/')
    return unique([normalised, path])
  }
  // Non-S3 (smithy and aws4fetch both): drop empty and '.' segments, then escape the wire path.
  const segs: string[] = []
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') segs.pop()
    else segs.push(seg)
  }
  const trailing = segs.length > 0 && path.endsWith('/') ? '/' : ''
  const wire = `/${segs.join('/')}${trailing}`
  const normalisedWire = `/${segs.map((s) => uriEscape(safeDecode(s))).join('/')}${trailing}`
  const twice = (p: string) => uriEscape(p).replace(/%2F/g, '/')
  return unique([twice(wire), twice(normalisedWire)])
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)]
}

/** Sorted `k=v&…` with both sides RFC 3986 encoded; X-Amz-Signature excluded (presign). */
function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = []
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    if (k === '' || k === 'X-Amz-Signature') continue
    pairs.push([uriEscape(k), uriEscape(v)])
  }
  pairs.sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join('&')
}

interface AuthParts {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
  amzDate: string
  presigned: boolean
  expiresSec?: number
}

function fail(kind: SigV4FailureKind, message: string, scopeRegion?: string): SigV4Failure {
  return { ok: false, kind, message, scopeRegion }
}

function parseAuth(req: Request, url: URL): AuthParts | SigV4Failure {
  const header = req.headers.get('authorization')
  const q = url.searchParams
  let credential: string | undefined
  let signedHeaders: string | undefined
  let signature: string | undefined
  let amzDate = req.headers.get('x-amz-date') ?? undefined
  let presigned = false
  let expiresSec: number | undefined
  if (header) {
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim())
    if (!m) return fail('malformed', `Unsupported Authorization Type`)
    for (const part of (m[1] ?? '').split(',')) {
      const eq = part.indexOf('=')
      if (eq < 0) continue
      const name = part.slice(0, eq).trim()
      const value = part.slice(eq + 1).trim()
      if (name === 'Credential') credential = value
      else if (name === 'SignedHeaders') signedHeaders = value
      else if (name === 'Signature') signature = value
    }
    if (!amzDate) {
      const d = req.headers.get('date')
      if (d && !Number.isNaN(Date.parse(d))) amzDate = toAmzDate(new Date(d))
    }
  } else if (q.has('X-Amz-Signature') || q.has('X-Amz-Credential')) {
    presigned = true
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return fail('malformed', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    credential = q.get('X-Amz-Credential') ?? undefined
    signedHeaders = q.get('X-Amz-SignedHeaders') ?? undefined
    signature = q.get('X-Amz-Signature') ?? undefined
    amzDate = q.get('X-Amz-Date') ?? undefined
    const exp = q.get('X-Amz-Expires')
    expiresSec = exp === null ? undefined : Number(exp)
  } else {
    return fail('missing', 'Missing Authentication Token')
  }
  if (!credential || !signedHeaders || !signature) {
    return fail('malformed', 'Authorization header requires Credential, SignedHeaders and Signature parameters.')
  }
  const scope = credential.split('/')
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return fail('malformed', `Credential should be scoped to a valid region, not '${scope[2] ?? ''}'.`)
  }
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return fail('malformed', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.')
  }
  return {
    accessKeyId: scope[0] ?? '',
    date: scope[1] ?? '',
    region: scope[2] ?? '',
    service: scope[3] ?? '',
    signedHeaders: signedHeaders.split(';').filter(Boolean),
    signature,
    amzDate,
    presigned,
    expiresSec,
  }
}

export function toAmzDate(d: Date): string {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '')
}

function parseAmzDate(s: string): number {
  return Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15))
}

/** Verifies a SigV4-signed request (Authorization header or presigned query). */
export function verifySigV4(req: Request, url: URL, opts: VerifyOptions): SigV4Result {
  const creds = opts.credentials
  const auth = parseAuth(req, url)
  if ('ok' in auth) return auth
  if (auth.accessKeyId !== creds.accessKeyId) {
    return fail('unknown-key', 'The security token included in the request is invalid.')
  }
  if (auth.service !== opts.service) {
    return fail('wrong-service', `Credential should be scoped to correct service: '${opts.service}'.`, auth.region)
  }
  if (auth.region !== creds.region) {
    return fail(
      'wrong-region',
      `Credential should be scoped to a valid region. The region '${auth.region}' is wrong; expecting '${creds.region}'`,
      auth.region,
    )
  }
  if (auth.date !== auth.amzDate.slice(0, 8)) {
    return fail('bad-signature', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${auth.amzDate.slice(0, 8)}'`)
  }
  const now = (opts.now ?? new Date()).getTime()
  const signedAt = parseAmzDate(auth.amzDate)
  if (auth.presigned) {
    const exp = auth.expiresSec
    if (exp === undefined || !Number.isInteger(exp) || exp < 1 || exp > 604800) {
      return fail('malformed', 'X-Amz-Expires must be an integer between 1 and 604800')
    }
    if (now > signedAt + exp * 1000) return fail('expired', 'Request has expired')
    if (signedAt - now > MAX_SKEW_MS) return fail('skew', 'Request is not yet valid')
  } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return fail('skew', `Signature expired: ${auth.amzDate} is now earlier than ${toAmzDate(new Date(now - MAX_SKEW_MS))}`)
  }
  // Temporary credentials: the token must be present and equal; a token we never issued is
  // as bad as a wrong one.
  const token = req.headers.get('x-amz-security-token') ?? url.searchParams.get('X-Amz-Security-Token')
  if ((creds.sessionToken ?? null) !== (token ?? null)) {
    return fail('bad-token', 'The security token included in the request is invalid.')
  }
  if (!auth.signedHeaders.includes('host')) {
    return fail('bad-signature', "'Host' must be a 'SignedHeader' in the AWS Authorization.")
  }

  let payloadHash: string
  const declared = req.headers.get('x-amz-content-sha256')
  if (opts.service === 's3') {
    if (declared) payloadHash = declared
    else if (auth.presigned) payloadHash = UNSIGNED_PAYLOAD
    else return fail('malformed', 'Missing required header for this request: x-amz-content-sha256')
  } else {
    payloadHash = opts.bodySha256 ?? EMPTY_SHA256
  }

  const canonicalHeaders = auth.signedHeaders
    .map((name) => {
      const value = name === 'host' ? (req.headers.get('host') ?? url.host) : req.headers.get(name)
      return `${name}:${(value ?? '').replace(/\s+/g, ' ').trim()}\n`
    })
    .join('')
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
  const key = deriveSigningKey(creds.secretAccessKey, auth.date, auth.region, auth.service)
  const query = canonicalQuery(url.search.slice(1))
  for (const uri of canonicalUris(url.pathname, opts.service)) {
    const canonical = [req.method, uri, query, canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join('\n')
    const stringToSign = ['AWS4-HMAC-SHA256', auth.amzDate, scope, sha256Hex(canonical)].join('\n')
    const expected = hmacHex(key, stringToSign)
    if (expected.length === auth.signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
      return { ok: true, accessKeyId: auth.accessKeyId, payloadHash, amzDate: auth.amzDate, scope, signature: auth.signature, signingKey: key }
    }
  }
  return fail(
    'bad-signature',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  )
}
