// The CPU baselines: the least any JSONL tool written in Bun must do, single-threaded, with no
// validation, no HTTP. Gateway throughput is reported as a ratio to the loop that does the same
// kind of work, measured in the same run on the same bytes (issue 12's table):
// - `parse`: read → split → JSON.parse (what a passthrough that checks every line must do);
// - `convert`: read → split → JSON.parse → reshape → JSON.stringify → write to a file (a
//   converting upload's work, minus validation and the upload itself);
// - `map`: read → split → JSON.parse → reshape → JSON.stringify (reading results back).
//
// Lines are cut in the bytes and decoded one by one: measured ~12 % faster than decoding whole
// 512 KB chunks and cutting the text (a chunk holding one wide character decodes entirely to
// two-byte strings). The loops are the fastest bare ones we know, so the ratios do not flatter.

export type BaselineMode = 'parse' | 'convert' | 'map'

export interface BaselineResult {
  bytes: number
  lines: number
  /** Characters produced: summed so the work cannot be optimised away. */
  outChars: number
  seconds: number
}

const LF = 0x0a
type Json = Record<string, unknown>

/** A converting upload's reshape: an OpenAI batch line → a Bedrock-like record. */
function reshapeRequest(o: Json): unknown {
  const body = o.body as Json
  return {
    recordId: o.custom_id,
    modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: body.max_tokens ?? 1024, messages: body.messages },
  }
}

/** Reading results back: an upstream result line → an OpenAI output line. */
function reshapeResult(o: Json): unknown {
  return {
    id: 'batch_req_0',
    custom_id: o.recordId ?? o.key ?? o.custom_id,
    response: { status_code: 200, request_id: '', body: o.modelOutput ?? o.response ?? null },
    error: null,
  }
}

export async function baselineLoop(path: string, mode: BaselineMode = 'convert'): Promise<BaselineResult> {
  const started = performance.now()
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  const sink = mode === 'convert' ? Bun.file(`${path}.baseline-out`).writer({ highWaterMark: 1 << 20 }) : null
  let out = new Uint8Array(1 << 16)
  let used = 0
  let bytes = 0
  let lines = 0
  let outChars = 0
  let pending: Uint8Array | null = null
  const each = (line: Uint8Array): void => {
    if (line.length === 0) return
    lines++
    const value = JSON.parse(decoder.decode(line)) as Json
    if (mode === 'parse') {
      outChars += value === null ? 0 : 1
      return
    }
    const text = JSON.stringify(mode === 'convert' ? reshapeRequest(value) : reshapeResult(value))
    outChars += text.length
    if (!sink) return
    if (used + text.length * 3 + 1 > out.length) {
      sink.write(out.subarray(0, used))
      out = new Uint8Array(Math.max(1 << 16, text.length * 3 + 1))
      used = 0
    }
    used += encoder.encodeInto(text, out.subarray(used)).written
    out[used++] = LF
  }
  for await (const chunk of Bun.file(path).stream()) {
    bytes += chunk.length
    let start = 0
    let nl = chunk.indexOf(LF)
    if (pending && nl !== -1) {
      each(Buffer.concat([pending, chunk.subarray(0, nl)]))
      pending = null
      start = nl + 1
      nl = chunk.indexOf(LF, start)
    }
    for (; nl !== -1; nl = chunk.indexOf(LF, start)) {
      each(chunk.subarray(start, nl))
      start = nl + 1
    }
    if (start < chunk.length) pending = pending ? Buffer.concat([pending, chunk.subarray(start)]) : chunk.slice(start)
    if (sink) await sink.flush()
  }
  if (pending) each(pending)
  if (sink) {
    if (used > 0) sink.write(out.subarray(0, used))
    await sink.end()
    await Bun.file(`${path}.baseline-out`).delete()
  }
  return { bytes, lines, outChars, seconds: (performance.now() - started) / 1000 }
}
