// On-disk file store of the OpenAI fake. Every file (uploads, assembled Uploads, batch results)
// lives in one temp directory, so a 600 MB upload is never held in memory and downloads are
// streamed straight from disk.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newId, nowSeconds, type OpenAIFileObject } from './wire'

/** What the fake remembers about a file; `path` is where its bytes sit on disk. */
export interface StoredFile {
  id: string
  purpose: string
  filename: string
  bytes: number
  path: string
  created_at: number
  expires_at: number | null
  /** Insertion sequence: breaks created_at ties (whole seconds) so list order is stable. */
  seq: number
}

/** `purpose=batch` files expire after 30 days unless told otherwise (openai.md §2 POST /files). */
export const THIRTY_DAYS = 30 * 24 * 3600

export class FileStore {
  readonly dir: string
  readonly files = new Map<string, StoredFile>()
  private seq = 0
  private tmpSeq = 0

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'openai-fake-'))
  }

  /** A fresh path in the store directory for streaming bytes into. */
  tempPath(label: string): string {
    this.tmpSeq += 1
    return join(this.dir, `${label}-${this.tmpSeq}-${crypto.randomUUID()}`)
  }

  /** Registers bytes already written to `path` (the store takes ownership of the file). */
  register(path: string, meta: { filename: string; purpose: string; bytes: number; expiresAfterSeconds?: number }): StoredFile {
    const created = nowSeconds()
    const expiresAfter = meta.expiresAfterSeconds ?? (meta.purpose === 'batch' ? THIRTY_DAYS : undefined)
    this.seq += 1
    const file: StoredFile = {
      id: newId.file(),
      purpose: meta.purpose,
      filename: meta.filename,
      bytes: meta.bytes,
      path,
      created_at: created,
      expires_at: expiresAfter === undefined ? null : created + expiresAfter,
      seq: this.seq,
    }
    this.files.set(file.id, file)
    return file
  }

  /** Writes generated content (batch result files) and registers it. */
  writeGenerated(content: string, meta: { filename: string; purpose: string; expiresAfterSeconds?: number }): StoredFile {
    const path = this.tempPath('generated')
    const data = Buffer.from(content, 'utf8')
    writeFileSync(path, data)
    return this.register(path, { ...meta, bytes: data.byteLength })
  }

  delete(id: string): boolean {
    const file = this.files.get(id)
    if (!file) return false
    this.files.delete(id)
    rmSync(file.path, { force: true })
    return true
  }

  removeAll(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export function toWireFile(file: StoredFile): OpenAIFileObject {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.created_at,
    expires_at: file.expires_at,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
  }
}
