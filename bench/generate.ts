// Writes a synthetic OpenAI batch JSONL of a given size straight to disk, one bounded chunk at a
// time, so a 2 GB input costs the bench process no more memory than a 256 MB one. The content is
// deterministic (seeded PRNG): every run, and every target model, gets the same lines, so the
// baseline and the gateway runs read the same bytes apart from the model name.

import { open } from 'node:fs/promises'

export interface GenerateOptions {
  /** Stop before the file would exceed this many bytes. */
  bytes: number
  /** Average line length; lines vary from ¼× to 1¾× of it, like real prompt mixes. */
  lineBytes: number
  /** The `model` every line names (converters pick the Bedrock body family from it). */
  model: string
  /** Stop after this many lines too. */
  maxLines?: number
  seed?: number
}

export interface GeneratedFile {
  path: string
  bytes: number
  lines: number
}

// Text the way batch prompts come: mostly plain ASCII, some Latin-1 accents, some CJK and emoji,
// plus characters JSON must escape. The mix matters: JavaScriptCore keeps a string of Latin-1
// characters at one byte per character and anything else at two, so the share of lines with
// wider characters moves every string-heavy step (decode, parse, stringify, encode).
const ASCII = (
  'the a batch of requests model answer question summary document report table value result ' +
  'please explain why how what when where which list describe compare translate classify ' +
  '"quoted" back\\slash tab\there'
).split(' ')
const LATIN1 = [...ASCII, ...'données café naïve über straße résumé señor'.split(' ')]
const WIDE = [...LATIN1, ...'東京 日本語 数据 😀 — “curly”'.split(' ')]
/** One line in ten carries characters outside Latin-1; two in ten carry accents. */
const pickVocabulary = (roll: number): readonly string[] => (roll < 0.1 ? WIDE : roll < 0.3 ? LATIN1 : ASCII)

/** mulberry32: tiny, fast, and good enough to vary text; not for anything secret. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function text(rand: () => number, chars: number, vocabulary: readonly string[]): string {
  const words: string[] = []
  let length = 0
  while (length < chars) {
    const word = vocabulary[Math.floor(rand() * vocabulary.length)] as string
    words.push(word)
    length += word.length + 1
  }
  // Paragraph breaks become \n escapes inside the JSON string.
  return words.join(' ').replace(/ the /g, '\nthe ')
}

function line(rand: () => number, index: number, model: string, lineBytes: number): string {
  const promptChars = Math.max(16, Math.floor(lineBytes * (0.25 + rand() * 1.5)) - 260)
  const words = pickVocabulary(rand())
  const messages: Array<{ role: string; content: string }> = []
  // Two lines in three carry a system prompt; one in four is a short multi-turn exchange.
  if (rand() < 0.66) messages.push({ role: 'system', content: 'You are a concise assistant. Answer in one paragraph.' })
  if (rand() < 0.25) {
    messages.push({ role: 'user', content: text(rand, 40, words) }, { role: 'assistant', content: text(rand, 60, words) })
  }
  messages.push({ role: 'user', content: text(rand, promptChars, words) })
  const body: Record<string, unknown> = { model, messages, max_tokens: 64 + Math.floor(rand() * 960) }
  if (rand() < 0.5) body.temperature = Math.round(rand() * 100) / 100
  return JSON.stringify({ custom_id: `request-${index}`, method: 'POST', url: '/v1/chat/completions', body })
}

export async function generateBatchFile(path: string, opts: GenerateOptions): Promise<GeneratedFile> {
  const rand = prng(opts.seed ?? 42)
  const encoder = new TextEncoder()
  const file = await open(path, 'w')
  let bytes = 0
  let lines = 0
  let chunk: string[] = []
  let chunkChars = 0
  try {
    for (;;) {
      const next = `${line(rand, lines + 1, opts.model, opts.lineBytes)}\n`
      // Byte length, not UTF-16 length: the file must not pass the size a provider caps at.
      const size = Buffer.byteLength(next)
      if (bytes + size > opts.bytes || lines >= (opts.maxLines ?? Number.POSITIVE_INFINITY)) break
      chunk.push(next)
      chunkChars += next.length
      bytes += size
      lines++
      if (chunkChars >= 1 << 20) {
        await file.write(encoder.encode(chunk.join('')))
        chunk = []
        chunkChars = 0
      }
    }
    if (chunk.length > 0) await file.write(encoder.encode(chunk.join('')))
  } finally {
    await file.close()
  }
  return { path, bytes, lines }
}
