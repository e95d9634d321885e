// Tenants declared in BATCHGATE_CONFIG (keys by reference) own what they make on a named
// instance: another tenant's key sees none of it, and no key is a 401 in each dialect.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type GroqFake, startGroqFake } from '../fakes/groq'
import { type ConfigWorld, instanceToml, startConfigWorld } from './config-world'
import { chatLine, errorOf, jsonl, uploadBatchFile } from './openai-seed'

const MODEL = 'llama-3.1-8b-instant'
const dir = mkdtempSync(join(tmpdir(), 'batchgate-tenants-'))

describe('config-file tenants on a named instance', () => {
  let fake: GroqFake
  let world: ConfigWorld
  const as = (key: string) => new OpenAI({ baseURL: `${world.gw.url}/openai/v1`, apiKey: key, maxRetries: 0 })
  beforeAll(async () => {
    fake = startGroqFake()
    writeFileSync(join(dir, 'bob.key'), 'bob-secret-from-file\n')
    const toml = [
      '[tenants.alice]',
      'key_env = "ALICE_KEY"',
      '[tenants.bob]',
      `key_file = "${join(dir, 'bob.key')}"`,
      '',
      instanceToml('groq-team', 'groq', `${fake.url}/openai/v1`, 'GROQ_KEY'),
    ].join('\n')
    world = await startConfigWorld(toml, { ALICE_KEY: 'alice-secret-value', GROQ_KEY: fake.apiKey })
  })
  afterAll(async () => {
    await world.close()
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("alice's file and batch are invisible to bob; no key is a 401", async () => {
    const alice = as('alice-secret-value')
    const bob = as('bob-secret-from-file')
    const file = await uploadBatchFile(alice, jsonl(chatLine('t-1', 'hello', MODEL)), { provider: 'groq-team' })
    const batch = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect((await world.gw.store.batches.get(batch.id, 'alice'))?.provider).toBe('groq-team')

    expect((await errorOf(bob.files.retrieve(file.id))).status).toBe(404)
    expect((await errorOf(bob.batches.retrieve(batch.id))).status).toBe(404)
    expect((await errorOf(bob.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))).status).toBe(404)
    expect((await bob.batches.list()).data.map((b) => b.id)).not.toContain(batch.id)
    expect((await alice.batches.retrieve(batch.id)).id).toBe(batch.id)

    expect((await errorOf(as('not-a-tenant-key').files.list())).status).toBe(401)
    const anthropic = await fetch(`${world.gw.url}/anthropic/v1/messages/batches`, { headers: { 'x-model-provider': 'groq-team' } })
    expect(anthropic.status).toBe(401)
  })
})
