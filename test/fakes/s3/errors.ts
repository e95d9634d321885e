// S3 error plumbing: every failure is an XML <Error> document (spec bedrock.md §4), HEAD
// answers carry no body (real S3 only sends the status), and each answer has a request id.

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra child elements of <Error>, e.g. {Key: 'k'} or {BucketName: 'b'}. */
    readonly extra: Record<string, string> = {},
  ) {
    super(message)
  }
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
}

export function xmlUnescape(s: string): string {
  return s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

export function newRequestId(): string {
  return crypto.randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()
}

export const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

export function xmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(XML_HEADER + body, {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': newRequestId(), ...headers },
  })
}

export function s3ErrorResponse(err: S3Error, method: string, resource: string): Response {
  const requestId = newRequestId()
  const headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': requestId }
  if (method === 'HEAD') return new Response(null, { status: err.status, headers })
  const extra = Object.entries(err.extra)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('')
  const body =
    `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${extra}` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`
  return new Response(XML_HEADER + body, { status: err.status, headers })
}

export const noSuchBucket = (bucket: string) =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket })
export const noSuchKey = (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key })
export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  )
export const malformedXml = () =>
  new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema')
