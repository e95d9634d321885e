// The `POST /v1/messages/batches` body, streamed from the spooled JSONL of request items:
// `{"requests":[` + line1 + `,` + line2 … + `]}`. A batch may be 256 MB, so lines are never
// joined in memory; each disk chunk's complete lines go out as one chunk (pull-based, so the
// socket's pace decides how fast the file is read).

import { LineSplitter } from '../../convert/lines'
import { iterableToStream } from '../multipart-body'
import type { UploadSource } from '../provider'

// Lines were validated when core spooled them; this bound only stops a corrupt spool file from
// growing one endless partial line. Anthropic caps a whole batch body at 256 MB (spec §4).
const MAX_LINE_BYTES = 256 * 1024 * 1024

const encoder = new TextEncoder()

async function* requestsBodyChunks(source: UploadSource): AsyncGenerator<Uint8Array> {
  yield encoder.encode('{"requests":[')
  let ready: string[] = []
  let first = true
  // The splitter drops BOM, CRLF and blank lines, so the JSON array never gets an empty element.
  const splitter = new LineSplitter((text) => ready.push(text), { maxLineBytes: MAX_LINE_BYTES })
  const reader = Bun.file(source.path).stream().getReader()
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) splitter.end()
      else splitter.push(value)
      if (ready.length > 0) {
        yield encoder.encode((first ? '' : ',') + ready.join(','))
        first = false
        ready = []
      }
      if (done) {
        finished = true
        break
      }
    }
  } finally {
    // An aborted upload (timeout, socket error) must not leave the file handle open.
    if (!finished) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
  yield encoder.encode(']}')
}

/** A fresh stream over the spool file; call once per attempt. */
export function requestsBody(source: UploadSource): ReadableStream<Uint8Array> {
  return iterableToStream(requestsBodyChunks(source))
}
