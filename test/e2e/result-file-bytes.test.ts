// An OpenAI result file's `bytes`: unknown when the file is minted (a derived file is produced on
// each read; an adopted one is not fetched), so it starts at 0, and the first download read to its
// end records the real size, which retrieve and list report from then on.

import { describe, expect, test } from 'bun:test'
import { chatLine, jsonl, openaiWorld, pollToEnd, uploadBatchFile } from './openai-seed'

const world = openaiWorld()

const CASES = [
  ['openai', 'gpt-4o-mini', 'adopted from OpenAI'],
  ['gemini', 'gemini-2.0-flash', 'derived from Gemini responses'],
  ['bedrock', 'anthropic.claude-3-haiku-20240307-v1:0', 'derived from Bedrock records'],
] as const

describe('result file sizes', () => {
  for (const [provider, model, how] of CASES) {
    test(`${provider}: an output and an error file ${how} report their real bytes once downloaded`, async () => {
      const file = await uploadBatchFile(world.client, jsonl(chatLine('a', 'hi é', model), chatLine('b', 'FAIL x', model)), { provider })
      const created = await world.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', provider, model } as never)
      const { batch } = await pollToEnd(world.client, created.id)
      for (const id of [batch.output_file_id, batch.error_file_id] as string[]) {
        const content = Buffer.from(await (await world.client.files.content(id)).arrayBuffer())
        expect(content.length).toBeGreaterThan(0)
        expect((await world.client.files.retrieve(id)).bytes).toBe(content.length)
        const listed = (await world.client.files.list({ purpose: 'batch_output' } as never)).data.find((f) => f.id === id)
        expect(listed?.bytes).toBe(content.length)
        // A second download gives the same bytes.
        expect(Buffer.from(await (await world.client.files.content(id)).arrayBuffer()).equals(content)).toBe(true)
      }
    })
  }
})
