// Multipart upload for files above the part size (spec bedrock.md §4): Create → UploadPart per
// bounded slice of the spool file → Complete. A few parts go up at once, each streamed from
// disk, so memory stays at a few socket buffers whatever the file size. Any failure aborts the upload before rethrowing:
// S3 bills open uploads' parts forever unless a lifecycle rule cleans them up.

import { GatewayError } from '../../errors'
import { GrowingSource } from '../growing-source'
import { inLanes } from '../lanes'
import type { UploadSource, UpstreamLeftover } from '../provider'
import type { S3, S3Object } from './s3'
import { completeMultipartBody, isErrorDocument, s3ErrorOf, xmlText } from './s3-xml'

/** S3 takes at most 10 000 parts per upload. */
const MAX_PARTS = 10_000
/** Parts sent at once. */
export const PARTS_IN_FLIGHT = 3

export async function multipartPut(
  s3: S3,
  obj: S3Object,
  source: UploadSource | GrowingSource,
  contentType: string,
  noteLeftover?: (leftover: UpstreamLeftover) => Promise<void>,
): Promise<void> {
  // A growing file's size is not known yet: its parts are the configured size (S3's 10 000 parts
  // of 16 MiB are 156 GiB, far above Bedrock's 5 GB input limit).
  const partBytes = source instanceof GrowingSource ? s3.partBytes : Math.max(s3.partBytes, Math.ceil(source.bytes / MAX_PARTS))
  const uploadId = await createUpload(s3, obj, contentType)
  const idQuery = `uploadId=${encodeURIComponent(uploadId)}`
  try {
    // Durable before the first part: a kill -9 from here on leaves a record start-up can abort.
    await noteLeftover?.({ kind: 's3-multipart', bucket: obj.bucket, key: obj.key, region: obj.region ?? null, uploadId })
    const parts: { partNumber: number; etag: string }[] = []
    /** The part's byte range, once its bytes are on disk; null past the end of the file. */
    const rangeOf = async (partNumber: number): Promise<[number, number] | null> => {
      const start = (partNumber - 1) * partBytes
      // Waits for the writer (and throws its error: a bad line aborts the upload below).
      if (source instanceof GrowingSource) await source.until(start + partBytes)
      const bytes = source instanceof GrowingSource ? source.total : source.bytes
      if (bytes !== null && start >= bytes) return null
      if (partNumber > MAX_PARTS) throw new GatewayError('too_large', `the file needs more than ${MAX_PARTS} S3 parts`)
      return [start, Math.min(start + partBytes, bytes ?? Number.POSITIVE_INFINITY)]
    }
    const sendPart = async (partNumber: number, [start, end]: [number, number]): Promise<void> => {
      const res = await s3.send(obj, `partNumber=${partNumber}&${idQuery}`, {
        what: 'upload part',
        // Re-sending a part number replaces that part, so parts may be retried.
        idempotent: true,
        method: 'PUT',
        // The slice is streamed from disk; hashing it first would read it twice.
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        body: () => Bun.file(source.path).slice(start, end),
      })
      const etag = res.headers.get('etag')
      await res.body?.cancel()
      if (!etag) throw new GatewayError('upstream', 'S3 answered an upload part without an ETag', { upstreamStatus: 502 })
      parts.push({ partNumber, etag })
    }
    // PARTS_IN_FLIGHT parts at a time (issue 12, providers/lanes.ts). Each is a lazy file slice
    // streamed by Bun, so memory stays at a few socket buffers. Part numbers go out in order and
    // a lane sends its part before taking the next, so when every lane has stopped at the end of
    // the file, parts 1..n are all there.
    await inLanes(PARTS_IN_FLIGHT, async (index, stopped) => {
      const partNumber = index + 1
      const range = await rangeOf(partNumber)
      if (range === null) return false
      if (!stopped()) await sendPart(partNumber, range)
      return true
    })
    parts.sort((a, b) => a.partNumber - b.partNumber)
    const done = await s3.send(obj, idQuery, {
      what: 'complete multipart upload',
      // A repeat after a lost answer gets NoSuchUpload rather than a second object.
      idempotent: true,
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: () => completeMultipartBody(parts),
    })
    // S3 may answer 200 and still report a failure in the body (it sends headers early).
    const text = await done.text()
    if (isErrorDocument(text)) {
      const info = s3ErrorOf(text)
      throw new GatewayError('upstream', info.message || 'S3 could not complete the upload', {
        upstreamStatus: 500,
        code: info.code,
      })
    }
  } catch (err) {
    await abortUpload(s3, obj, idQuery).catch(() => {
      // The upload's own failure is what the caller must see; an orphan is left to lifecycle rules.
    })
    throw err
  }
}

async function createUpload(s3: S3, obj: S3Object, contentType: string): Promise<string> {
  const res = await s3.send(obj, 'uploads', {
    what: 'create multipart upload',
    // A retry after a lost answer can leave one empty upload behind; a 5xx created nothing.
    idempotent: true,
    method: 'POST',
    headers: { 'content-type': contentType },
  })
  const uploadId = xmlText(await res.text(), 'UploadId')
  if (!uploadId) throw new GatewayError('upstream', 'S3 started a multipart upload without an UploadId', { upstreamStatus: 502 })
  return uploadId
}

async function abortUpload(s3: S3, obj: S3Object, idQuery: string): Promise<void> {
  // NoSuchUpload (404): already aborted or completed, which is what was asked.
  const res = await s3.send(obj, idQuery, { what: 'abort multipart upload', idempotent: true, method: 'DELETE', okStatuses: [404] })
  await res.body?.cancel()
}

/** Aborts an upload a crashed process left open (start-up reconciliation). */
export function abortLeftoverUpload(s3: S3, leftover: UpstreamLeftover): Promise<void> {
  const obj = { bucket: leftover.bucket, key: leftover.key, region: leftover.region }
  return abortUpload(s3, obj, `uploadId=${encodeURIComponent(leftover.uploadId)}`)
}
