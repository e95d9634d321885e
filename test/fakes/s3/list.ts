// ListObjectsV2 (and the legacy V1 listing) over the store: prefix, delimiter →
// CommonPrefixes, max-keys, continuation-token / start-after, XML as in spec bedrock.md §4.

import { S3_NS, S3Error, xmlEscape } from './errors'
import type { S3Store, StoredObject } from './store'
import { compareKeys } from './store'

interface Entry {
  kind: 'object' | 'prefix'
  /** The key, or the common prefix (ends with the delimiter). */
  name: string
  obj?: StoredObject
}

function parseMaxKeys(raw: string | null): number {
  if (raw === null || raw === '') return 1000
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) {
    throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
      ArgumentValue: raw,
    })
  }
  return Math.min(n, 1000) // S3 never returns more than 1000 per page
}

/** Walks keys after `after` (exclusive), grouping by delimiter, and takes up to `max`. */
function collect(store: S3Store, bucket: string, prefix: string, delimiter: string, after: string, max: number) {
  const entries: Entry[] = []
  let truncated = false
  const objects = store.bucket(bucket).objects
  let lastPrefix: string | undefined
  for (const key of store.keys(bucket, prefix)) {
    if (after && compareKeys(key, after) <= 0) continue
    // A continuation that stopped on a common prefix must skip everything under it.
    if (after && delimiter && after.endsWith(delimiter) && key.startsWith(after)) continue
    let entry: Entry = { kind: 'object', name: key, obj: objects.get(key) }
    if (delimiter) {
      const idx = key.indexOf(delimiter, prefix.length)
      if (idx >= 0) {
        const common = key.slice(0, idx + delimiter.length)
        if (common === lastPrefix) continue
        lastPrefix = common
        entry = { kind: 'prefix', name: common }
      }
    }
    if (entries.length >= max) {
      truncated = true
      break
    }
    entries.push(entry)
  }
  return { entries, truncated }
}

function contentsXml(o: StoredObject, enc: (s: string) => string): string {
  return (
    `<Contents><Key>${enc(o.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
    `<ETag>${xmlEscape(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
  )
}

function encoder(encodingType: string | null): (s: string) => string {
  if (encodingType === 'url') return (s) => xmlEscape(encodeURIComponent(s).replace(/%2F/g, '/'))
  return xmlEscape
}

function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64')
}

function decodeToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'after' in parsed && typeof parsed.after === 'string') return parsed.after
  } catch {
    // fall through
  }
  throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' })
}

export function listObjectsV2Xml(store: S3Store, bucket: string, q: URLSearchParams): string {
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const max = parseMaxKeys(q.get('max-keys'))
  const token = q.get('continuation-token')
  const startAfter = q.get('start-after') ?? ''
  const encodingType = q.get('encoding-type')
  const enc = encoder(encodingType)
  let after = startAfter
  if (token !== null) after = decodeToken(token)
  const { entries, truncated } = collect(store, bucket, prefix, delimiter, after, max)
  const lastEntry = entries[entries.length - 1]
  let xml = `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>`
  if (delimiter) xml += `<Delimiter>${enc(delimiter)}</Delimiter>`
  if (startAfter) xml += `<StartAfter>${enc(startAfter)}</StartAfter>`
  if (token !== null) xml += `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>`
  xml += `<KeyCount>${entries.length}</KeyCount><MaxKeys>${max}</MaxKeys>`
  if (encodingType === 'url') xml += `<EncodingType>url</EncodingType>`
  xml += `<IsTruncated>${truncated}</IsTruncated>`
  if (truncated && lastEntry) xml += `<NextContinuationToken>${encodeToken(lastEntry.name)}</NextContinuationToken>`
  xml += entries.map((e) => (e.kind === 'object' && e.obj ? contentsXml(e.obj, enc) : '')).join('')
  xml += entries
    .filter((e) => e.kind === 'prefix')
    .map((e) => `<CommonPrefixes><Prefix>${enc(e.name)}</Prefix></CommonPrefixes>`)
    .join('')
  return `${xml}</ListBucketResult>`
}

/** Legacy ListObjects (V1): `marker` instead of continuation tokens. */
export function listObjectsV1Xml(store: S3Store, bucket: string, q: URLSearchParams): string {
  const prefix = q.get('prefix') ?? ''
  const delimiter = q.get('delimiter') ?? ''
  const max = parseMaxKeys(q.get('max-keys'))
  const marker = q.get('marker') ?? ''
  const enc = encoder(q.get('encoding-type'))
  const { entries, truncated } = collect(store, bucket, prefix, delimiter, marker, max)
  const lastEntry = entries[entries.length - 1]
  let xml = `<ListBucketResult xmlns="${S3_NS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix><Marker>${enc(marker)}</Marker>`
  if (delimiter) xml += `<Delimiter>${enc(delimiter)}</Delimiter>`
  xml += `<MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`
  if (truncated && lastEntry && delimiter) xml += `<NextMarker>${enc(lastEntry.name)}</NextMarker>`
  xml += entries.map((e) => (e.kind === 'object' && e.obj ? contentsXml(e.obj, enc) : '')).join('')
  xml += entries
    .filter((e) => e.kind === 'prefix')
    .map((e) => `<CommonPrefixes><Prefix>${enc(e.name)}</Prefix></CommonPrefixes>`)
    .join('')
  return `${xml}</ListBucketResult>`
}
