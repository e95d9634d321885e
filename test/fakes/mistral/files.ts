// The Mistral Files API: multipart upload (`file`, `purpose` fine-tune|batch|ocr), retrieve,
// download, delete and a paged list. Batch uploads are read as JSONL when uploaded (num_lines),
// as Mistral does; the job reads the lines again when it runs.

import { apiError, json, UUID, validation } from './errors'

export const PURPOSES = ['fine-tune', 'batch', 'ocr'] as const

export interface StoredMistralFile {
  id: string
  filename: string
  purpose: string
  bytes: Uint8Array
  created_at: number
  sample_type: 'batch_request' | 'batch_result' | 'batch_error' | 'instruct'
  source: 'upload' | 'mistral'
  num_lines: number | null
}

export function fileObject(f: StoredMistralFile) {
  return {
    id: f.id,
    object: 'file',
    bytes: f.bytes.length,
    created_at: f.created_at,
    filename: f.filename,
    purpose: f.purpose,
    sample_type: f.sample_type,
    num_lines: f.num_lines,
    mimetype: f.filename.endsWith('.jsonl') ? 'application/jsonl' : null,
    source: f.source,
    signature: null,
    expires_at: null,
    visibility: 'user',
  }
}

export class FilesStore {
  readonly files = new Map<string, StoredMistralFile>()

  /** A file the service writes itself (batch output and error files). */
  add(filename: string, content: string, sampleType: StoredMistralFile['sample_type']): StoredMistralFile {
    const bytes = new TextEncoder().encode(content)
    const file: StoredMistralFile = {
      id: crypto.randomUUID(),
      filename,
      purpose: 'batch',
      bytes,
      created_at: Math.floor(Date.now() / 1000),
      sample_type: sampleType,
      source: 'mistral',
      num_lines: content.split('\n').filter(Boolean).length,
    }
    this.files.set(file.id, file)
    return file
  }

  get(id: string): StoredMistralFile {
    if (!UUID.test(id)) throw validation(['path', 'file_id'], 'Input should be a valid UUID', 'uuid_parsing', id)
    const file = this.files.get(id)
    if (!file) throw apiError(404, `File with id ${id} not found`, '1404')
    return file
  }

  async handle(req: Request, url: URL, rest: string[]): Promise<Response | undefined> {
    if (rest.length === 0 && req.method === 'POST') return this.upload(req)
    if (rest.length === 0 && req.method === 'GET') return this.list(url)
    const [id, tail] = rest
    if (id === undefined || rest.length > 2) return undefined
    if (tail === 'content' && req.method === 'GET') {
      const file = this.get(id)
      return new Response(file.bytes, { headers: { 'content-type': 'application/octet-stream' } })
    }
    if (tail !== undefined) return undefined
    if (req.method === 'GET') return json(200, { ...fileObject(this.get(id)), deleted: false })
    if (req.method === 'DELETE') {
      this.get(id)
      this.files.delete(id)
      return json(200, { id, object: 'file', deleted: true })
    }
    return undefined
  }

  private async upload(req: Request): Promise<Response> {
    if (!(req.headers.get('content-type') ?? '').startsWith('multipart/form-data')) {
      throw validation(['body', 'file'], 'Field required', 'missing', null)
    }
    const form = await req.formData()
    const file = form.get('file')
    if (!(file instanceof File)) throw validation(['body', 'file'], 'Field required', 'missing', null)
    const purpose = form.get('purpose') ?? 'fine-tune'
    if (typeof purpose !== 'string' || !(PURPOSES as readonly string[]).includes(purpose)) {
      throw validation(['body', 'purpose'], "Input should be 'fine-tune', 'batch' or 'ocr'", 'enum', purpose)
    }
    const bytes = new Uint8Array(await file.arrayBuffer())
    if (bytes.length === 0) throw apiError(400, 'File is empty', '1400')
    let numLines: number | null = null
    if (purpose === 'batch') {
      if (!file.name.endsWith('.jsonl')) throw apiError(400, 'Batch files must be .jsonl files', '1400')
      numLines = new TextDecoder().decode(bytes).split('\n').filter((l) => l.trim() !== '').length
    }
    const stored: StoredMistralFile = {
      id: crypto.randomUUID(),
      filename: file.name,
      purpose,
      bytes,
      created_at: Math.floor(Date.now() / 1000),
      sample_type: purpose === 'batch' ? 'batch_request' : 'instruct',
      source: 'upload',
      num_lines: numLines,
    }
    this.files.set(stored.id, stored)
    return json(200, fileObject(stored))
  }

  private list(url: URL): Response {
    const page = Number(url.searchParams.get('page') ?? '0')
    const size = Number(url.searchParams.get('page_size') ?? '100')
    const purpose = url.searchParams.get('purpose')
    const all = [...this.files.values()].filter((f) => !purpose || f.purpose === purpose).sort((a, b) => b.created_at - a.created_at)
    return json(200, { data: all.slice(page * size, page * size + size).map(fileObject), object: 'list', total: all.length })
  }
}
