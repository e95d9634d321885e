// The bench's ceiling relay (bench/ceiling-relay.ts) must put exactly the file's bytes upstream,
// in either field order, or its figure would be a ceiling of some other work.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uploadBatchFile } from '../../bench/client'
import { type GatewayProcess, spawnGateway } from '../../bench/gateway-process'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'

let fakes: AllFakes
let relay: GatewayProcess
let dir: string
let input: string
let bytes: Uint8Array

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ceiling-relay-'))
  fakes = startAllFakes()
  relay = await spawnGateway(fakes.env, join(dir, 'relay.log'), null, 'bench/ceiling-relay.ts')
  // ~3 MiB of lines holding boundary-like text, so chunk edges fall everywhere and a false match would show.
  const line = (i: number) => `${JSON.stringify({ custom_id: `r${i}`, note: `\r\n--bench-${'x'.repeat(i % 97)}` })}\n`
  const text = Array.from({ length: 40_000 }, (_, i) => line(i)).join('')
  bytes = new TextEncoder().encode(text)
  input = join(dir, 'input.jsonl')
  writeFileSync(input, bytes)
})

afterAll(async () => {
  await relay?.stop()
  await fakes?.close()
  rmSync(dir, { recursive: true, force: true })
})

const stored = async (provider: string, id: string): Promise<Uint8Array> => {
  const path =
    provider === 'openai'
      ? fakes.openai.files.get(id)?.path
      : provider === 'bedrock'
        ? fakes.s3.store.object(TEST_BUCKET, id).path
        : [...fakes.gemini.files.values()].find((f) => `files/${f.id}` === id || f.id === id)?.path
  if (!path) throw new Error(`nothing stored for ${provider} ${id}`)
  return new Uint8Array(await Bun.file(path).arrayBuffer())
}

describe('ceiling relay', () => {
  for (const provider of ['openai', 'bedrock', 'gemini'] as const) {
    for (const order of ['fields-first', 'file-first'] as const) {
      test(`${provider}, ${order}: the file's bytes exactly`, async () => {
        const up = await uploadBatchFile(`${relay.url}/${provider}`, provider, input, order)
        expect(up.bytes).toBe(bytes.length)
        const got = await stored(provider, up.id)
        expect(got.length).toBe(bytes.length)
        expect(Buffer.compare(Buffer.from(got), Buffer.from(bytes))).toBe(0)
      })
    }
  }
})
