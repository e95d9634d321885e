// Files above OpenAI's 512 MB per-request limit (the gateway's own Uploads API takes up to 8 GB
// for OpenAI) go up through OpenAI's Uploads API: create an Upload, send the spool in 64 MB parts
// — a few in flight, each streamed from its own slice of the file so memory stays flat — and
// complete with the part ids in file order. Any failure cancels the Upload, so OpenAI keeps
// nothing of a relay that did not finish.

import type OpenAI from 'openai'
import type { ProviderName } from '../../core/provider-name'
import { GatewayError } from '../../errors'
import { inLanes } from '../lanes'
import { streamedMultipart } from '../multipart-body'
import type { UploadSource } from '../provider'
import { readJsonErrorMessage, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'

const MB = 1024 * 1024

export interface RelaySizes {
  /** Files larger than this go through the Uploads API (OpenAI: 512 MB per POST /files). */
  aboveBytes: number
  /** Bytes per part (OpenAI: at most 64 MB). */
  partBytes: number
  /** Parts sent at once. */
  inFlight: number
}

export const OPENAI_RELAY: RelaySizes = { aboveBytes: 512 * MB, partBytes: 64 * MB, inFlight: 3 }

/** The purposes OpenAI's POST /uploads takes (a narrower list than POST /files). */
const RELAY_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision']

export interface RelayDeps {
  provider: ProviderName
  policy: UpstreamPolicy
  client(): Promise<OpenAI>
  /** Maps the client's errors to GatewayErrors. */
  call<T>(fn: () => Promise<T>): Promise<T>
  /** URL and credentials for a path under the API base (multipart part uploads bypass the client). */
  target(path: string): Promise<{ url: string; headers: Record<string, string> }>
}

export interface RelayFile {
  filename: string
  /** The purpose as OpenAI names it. */
  purpose: string
  mimeType: string
  expiresAfterSeconds: number | null
}

export async function relayUpload(deps: RelayDeps, sizes: RelaySizes, source: UploadSource, file: RelayFile): Promise<OpenAI.FileObject> {
  if (!RELAY_PURPOSES.includes(file.purpose)) {
    throw new GatewayError(
      'too_large',
      `${deps.provider} takes files over ${sizes.aboveBytes} bytes only through its Uploads API, which does not take purpose '${file.purpose}' (${RELAY_PURPOSES.join(', ')}).`,
      { param: 'purpose', code: 'limit_exceeded' },
    )
  }
  const client = await deps.client()
  const upload = await deps.call(() =>
    client.uploads.create({
      bytes: source.bytes,
      filename: file.filename,
      mime_type: file.mimeType,
      purpose: file.purpose as OpenAI.FilePurpose,
      ...(file.expiresAfterSeconds ? { expires_after: { anchor: 'created_at' as const, seconds: file.expiresAfterSeconds } } : {}),
    }),
  )
  try {
    const partIds = await sendParts(deps, sizes, upload.id, source)
    const done = await deps.call(() => client.uploads.complete(upload.id, { part_ids: partIds }))
    if (!done.file) throw new GatewayError('upstream', `${deps.provider} completed the upload without a file`, { upstreamStatus: 502 })
    return done.file
  } catch (err) {
    // Best effort: an Upload left pending expires upstream within the hour anyway.
    await deps.call(() => client.uploads.cancel(upload.id)).catch(() => undefined)
    throw err
  }
}

/** Every part, `inFlight` at a time; the ids come back in file order whatever order they finish. */
async function sendParts(deps: RelayDeps, sizes: RelaySizes, uploadId: string, source: UploadSource): Promise<string[]> {
  const count = Math.ceil(source.bytes / sizes.partBytes)
  const ids: string[] = new Array(count)
  await inLanes(Math.min(sizes.inFlight, count), async (index) => {
    if (index >= count) return false
    const offset = index * sizes.partBytes
    ids[index] = await sendPart(deps, uploadId, source, offset, Math.min(sizes.partBytes, source.bytes - offset))
    return true
  })
  return ids
}

async function sendPart(deps: RelayDeps, uploadId: string, source: UploadSource, offset: number, bytes: number): Promise<string> {
  const target = await deps.target(`uploads/${encodeURIComponent(uploadId)}/parts`)
  const res = await upstreamFetch(
    target.url,
    {
      provider: deps.provider,
      what: 'upload part',
      // Safe to repeat: a part sent twice is only an unused part; complete names the ones to keep.
      idempotent: true,
      readError: readJsonErrorMessage,
      init: () => {
        const form = streamedMultipart([], { name: 'data', filename: 'part', contentType: 'application/octet-stream', path: source.path, bytes, offset })
        return { method: 'POST', headers: { ...form.headers, ...target.headers }, body: form.body }
      },
    },
    deps.policy,
  )
  const part = (await res.json()) as { id?: unknown }
  if (typeof part.id !== 'string') throw new GatewayError('upstream', `${deps.provider} answered an upload part without an id`, { upstreamStatus: 502 })
  return part.id
}
