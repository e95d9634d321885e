// Emulated batches survive kill -9 (issue 17): the real process is killed with SIGKILL at ~30 %
// of a batch; a new process resumes it. The chat server's own counts prove that no request whose
// answer was recorded before the kill is sent again; only the in-flight ones may repeat.

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { chatLine, jsonl, uploadBatchFile } from '../e2e/openai-seed'
import { type ChatFake, startChatFake } from '../fakes/chat-completions'
import { expandResult } from '../../src/convert/results/emulated-line'
import { ResultLog } from '../../src/store/emulated-log'
import { type SpawnedGateway, spawnGateway, waitFor } from './spawned-gateway'

const dir = mkdtempSync(join(tmpdir(), 'batchgate-emulated-kill-'))
let fake: ChatFake | undefined
let gw: SpawnedGateway | undefined
afterAll(async () => {
  gw?.proc.kill('SIGKILL')
  await fake?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('kill -9 at ~30 %: the restarted gateway completes the batch and sends no recorded request again', async () => {
  fake = startChatFake()
  const concurrency = 16
  const total = 3000
  const config = join(dir, 'batchgate.toml')
  writeFileSync(config, `[providers.local]\nkind = "emulated"\nbase_url = "${fake.url}"\napi_key_env = "LOCAL_KEY"\nconcurrency = ${concurrency}\n`)
  const env = { BATCHGATE_DATA_DIR: join(dir, 'data'), BATCHGATE_CONFIG: config, LOCAL_KEY: fake.apiKey }
  gw = await spawnGateway(env)
  let client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  const file = await uploadBatchFile(client, jsonl(...Array.from({ length: total }, (_, i) => chatLine(`k-${i}`, `kill ${i}`, 'm'))), { provider: 'local' })
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  const chat = fake
  await waitFor('30 % of the requests', () => chat.received() >= total * 0.3, 60_000)
  gw.proc.kill('SIGKILL')
  await gw.exited

  // What the killed process had recorded: the whole records of the run's result log.
  const recorded: string[] = []
  const log = new ResultLog(env.BATCHGATE_DATA_DIR)
  for await (const group of log.results(batch.id, 'output', total)) recorded.push(...group.map((r) => JSON.parse(expandResult(batch.id, r.line, r.body)).custom_id as string))
  expect(recorded.length).toBeGreaterThan(0)
  expect(recorded.length).toBeLessThan(total)
  const sentBeforeKill = new Map(chat.counts)

  gw = await spawnGateway(env)
  client = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: 'x', maxRetries: 0 })
  let done: OpenAI.Batch | undefined
  await waitFor(
    'the resumed batch to complete',
    async () => {
      done = await client.batches.retrieve(batch.id)
      return done.status === 'completed'
    },
    120_000,
  )
  expect(done?.request_counts).toEqual({ total, completed: total, failed: 0 })
  // No recorded request went out again.
  for (const id of recorded) {
    const prompt = `kill ${id.slice(2)}`
    expect(chat.counts.get(prompt)).toBe(sentBeforeKill.get(prompt) as number)
  }
  // Only the ones in flight at the kill were repeated.
  const repeated = [...chat.counts.values()].filter((n) => n > 1).length
  expect(repeated).toBeLessThanOrEqual(concurrency)
  expect(chat.counts.size).toBe(total)
  const output = await (await client.files.content(done?.output_file_id as string)).text()
  expect(output.trim().split('\n').length).toBe(total)
}, 240_000)
