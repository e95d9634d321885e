// The gateway's own bytes. Two kinds of place:
// - the spool: uploads in flight (raw and converted), always on this instance's disk, never
//   outliving its request; start-up empties it (issue 7 §7).
// - blobs: what another request (or another instance) needs later: batch input files for
//   providers without input files of their own (Anthropic), and the custom_ids kept beside an
//   input (`ids`), and the parts of an OpenAI Upload until it completes (`part`, named by the
//   part id). Local directory by default, a bucket when configured (BATCHGATE_BLOB_URL).

export type BlobKind = 'content' | 'ids' | 'part'

const EXTENSION: Record<BlobKind, string> = { content: 'jsonl', ids: 'ids', part: 'part' }

export interface BlobRef {
  fileId: string
  kind: BlobKind
}

export interface BlobStore {
  /** A fresh spool path on local disk; `tag` only makes the name readable. */
  spoolPath(tag: string): string
  /** Removes a spool file (or any local path); missing is fine. */
  remove(path: string): void
  /** Removes every spool file: anything there belongs to a request that died with the process. */
  clearSpool(): number

  /** Moves a finished spool file into the blob store; resolves to where it lives (for humans). */
  put(spoolPath: string, fileId: string, kind: BlobKind): Promise<string>
  /** The blob's bytes, or null when there is none. */
  open(fileId: string, kind: BlobKind): Promise<ReadableStream<Uint8Array> | null>
  has(fileId: string, kind: BlobKind): Promise<boolean>
  delete(fileId: string, kind: BlobKind): Promise<void>
  /** Every blob held (start-up sweeps those no row names; migrate-store copies them). */
  list(): Promise<BlobRef[]>
}

/** Gateway ids are [a-z0-9_-] only (core/ids.ts), so they are safe as file and object names. */
export const blobName = (fileId: string, kind: BlobKind): string => `${fileId}.${EXTENSION[kind]}`

export function parseBlobName(name: string): BlobRef | null {
  const m = /^([a-z0-9_-]+)\.(jsonl|ids|part)$/i.exec(name)
  return m ? { fileId: m[1] as string, kind: m[2] === 'jsonl' ? 'content' : (m[2] as 'ids' | 'part') } : null
}

export interface BlobBucket {
  bucket: string
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string
}

/** `s3://bucket/prefix` → bucket and prefix; null when it is not one. */
export function parseBlobUrl(raw: string): BlobBucket | null {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(raw.trim())
  if (!m) return null
  return { bucket: m[1] as string, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') }
}
