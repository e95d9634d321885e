// The few S3 XML documents the adapter reads and writes (spec bedrock.md §4). They are small
// and flat, so a couple of regexes do; anything we read back is XML-unescaped (keys may
// contain `&`, `<`, quotes), anything we write is escaped.

import type { AwsErrorInfo } from './aws-fetch'

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** `<Error><Code>…</Code><Message>…</Message></Error>`; HEAD answers carry no body. */
export async function readS3Error(res: Response): Promise<AwsErrorInfo> {
  return s3ErrorOf((await res.text()).slice(0, 4000))
}

export function s3ErrorOf(xml: string): AwsErrorInfo {
  const code = xmlText(xml, 'Code')
  const message = xmlText(xml, 'Message') ?? ''
  return { code, message: code ? `S3 ${code}${message ? `: ${message}` : ''}` : message }
}

/** True for an `<Error>` document (CompleteMultipartUpload can send one with status 200). */
export function isErrorDocument(xml: string): boolean {
  return /<Error[\s>]/.test(xml)
}

export interface ListedObject {
  key: string
  size: number
}

export interface ListPage {
  objects: ListedObject[]
  nextToken: string | undefined
}

/** A ListObjectsV2 `<ListBucketResult>`; `nextToken` only while `IsTruncated` is true. */
export function parseListPage(xml: string): ListPage {
  const objects: ListedObject[] = []
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const inner = m[1] ?? ''
    const key = xmlText(inner, 'Key')
    if (key !== undefined) objects.push({ key, size: Number(xmlText(inner, 'Size') ?? 0) })
  }
  const truncated = xmlText(xml, 'IsTruncated')?.trim() === 'true'
  return { objects, nextToken: truncated ? xmlText(xml, 'NextContinuationToken') : undefined }
}

export function completeMultipartBody(parts: ReadonlyArray<{ partNumber: number; etag: string }>): string {
  const items = parts.map((p) => `<Part><ETag>${xmlEscape(p.etag)}</ETag><PartNumber>${p.partNumber}</PartNumber></Part>`).join('')
  return `<CompleteMultipartUpload xmlns="${S3_NS}">${items}</CompleteMultipartUpload>`
}

/** The text of the first `<tag>` in a small XML document, unescaped. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)
  return m?.[1] === undefined ? undefined : xmlUnescape(m[1])
}

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' }

/** One pass, so `&amp;lt;` stays the text `&lt;`. */
export function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|quot|apos|lt|gt|amp);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16))
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10))
    return ENTITIES[name] ?? whole
  })
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
}
