// Two fake Google Cloud projects and the BATCHGATE_CONFIG that puts a vertex instance in front of
// each: `vertex` (service-account key file, two allowed buckets) and `vertex-eu` (another project
// and location, with an access token read from a file).

import { expect } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startVertexFake, type VertexFake, type VertexFakeOptions } from '../fakes/vertex'
import { type ConfigWorld, startConfigWorld } from './config-world'

export const MODEL = 'gemini-2.5-flash'
export const EU_TOKEN = 'ya29.workload-identity-token-eu'

export interface Fakes {
  us: VertexFake
  eu: VertexFake
  tokenDir: string
}

export async function startFakes(usOptions: Partial<VertexFakeOptions> = {}): Promise<Fakes> {
  const us = await startVertexFake({ project: 'acme-prod', buckets: ['acme-batches', 'acme-extra', 'acme-private'], ...usOptions })
  const eu = await startVertexFake({ project: 'acme-eu', location: 'europe-west4', buckets: ['acme-eu-batches'] })
  eu.allowStaticToken(EU_TOKEN)
  const tokenDir = mkdtempSync(join(tmpdir(), 'vertex-token-'))
  writeFileSync(join(tokenDir, 'token'), `${EU_TOKEN}\n`)
  return { us, eu, tokenDir }
}

export async function closeFakes(f: Fakes): Promise<void> {
  await Promise.all([f.us.close(), f.eu.close()])
  rmSync(f.tokenDir, { recursive: true, force: true })
}

export function vertexToml(f: Fakes): string {
  return `
[providers.vertex]
kind = "vertex"
project = "acme-prod"
location = "us-central1"
bucket = "acme-batches"
buckets = ["acme-extra"]
credentials_file = "${f.us.keyFile}"
base_url = "${f.us.url}"
storage_url = "${f.us.url}"
default_model = "${MODEL}"

[providers.vertex-eu]
kind = "vertex"
project = "acme-eu"
location = "europe-west4"
bucket = "acme-eu-batches"
token_file = "${join(f.tokenDir, 'token')}"
base_url = "${f.eu.url}"
storage_url = "${f.eu.url}"
default_model = "${MODEL}"
`
}

/** Every authenticated call a fake received carried a token that fake itself accepts. */
export function expectOwnTokensOnly(fake: VertexFake): void {
  const authed = fake.requests.filter((r) => r.path !== '/token' && !r.query.includes('upload_id='))
  expect(authed.length).toBeGreaterThan(0)
  for (const r of authed) {
    const token = (r.headers.authorization ?? '').replace(/^Bearer /, '')
    expect(fake.issuer.valid(token)).toBe(true)
  }
}

/** A gateway in front of both projects; `env` adds settings (keys, retries). */
export async function vertexWorld(f: Fakes, env: Record<string, string> = {}): Promise<ConfigWorld> {
  return startConfigWorld(vertexToml(f), env)
}
