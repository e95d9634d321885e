// Proves the Vertex fake (OAuth, Cloud Storage, batch prediction) with the official @google/genai
// client in Vertex mode, and with raw requests for the protocol details the SDK hides: JWT checks,
// the resumable-upload chunk rule and 308s, google.rpc errors for malformed jobs.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { ApiError, GoogleGenAI, JobState } from '@google/genai'
import { base64url, importPkcs8 } from '../../src/providers/vertex/auth'
import { startVertexFake } from './vertex'
import type { VertexFake } from './vertex'

let fake: VertexFake
let token: string
const BUCKET = 'acme-batches'
type Obj = Record<string, unknown>

/** A signed assertion as a service account would make it; `edit` changes claims or header. */
async function assertion(edit: { claims?: Obj; header?: Obj; key?: string } = {}): Promise<string> {
  const key = JSON.parse(readFileSync(fake.keyFile, 'utf8')) as Record<string, string>
  const now = Math.floor(Date.now() / 1000)
  const header = { alg: 'RS256', typ: 'JWT', kid: key.private_key_id, ...edit.header }
  const claims = { iss: key.client_email, scope: 'https://www.googleapis.com/auth/cloud-platform', aud: fake.tokenUrl, iat: now, exp: now + 3600, ...edit.claims }
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signer = await importPkcs8(edit.key ?? (key.private_key as string))
  return `${input}.${base64url(new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signer, new TextEncoder().encode(input))))}`
}

async function exchange(jwt: string): Promise<{ status: number; body: Obj }> {
  const res = await fetch(fake.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }),
  })
  return { status: res.status, body: (await res.json()) as Obj }
}

const call = (method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string> } = {}) =>
  fetch(`${fake.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...init.headers }, ...(init.body === undefined ? {} : { body: init.body }) })

function client(): GoogleGenAI {
  // The SDK's auth goes through google-auth-library; a client object that adds the token is its documented hook.
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${token}` }) }
  return new GoogleGenAI({
    vertexai: true,
    project: fake.project,
    location: fake.location,
    googleAuthOptions: { authClient: authClient as never },
    httpOptions: { baseUrl: fake.url, apiVersion: 'v1' },
  })
}

beforeAll(async () => {
  fake = await startVertexFake({ project: 'acme-prod', buckets: [BUCKET] })
  const got = await exchange(await assertion())
  token = got.body.access_token as string
})
afterAll(async () => {
  await fake.close()
})

describe('oauth token endpoint', () => {
  test('a signed assertion gets a bearer token with its lifetime', async () => {
    const got = await exchange(await assertion())
    expect(got.status).toBe(200)
    expect(got.body.token_type).toBe('Bearer')
    expect(got.body.expires_in).toBe(3599)
    expect(fake.issuer.valid(got.body.access_token as string)).toBe(true)
  })

  test('a signature by another key, a wrong audience, a long lifetime or no scope are refused', async () => {
    const other = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair
    const pem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await crypto.subtle.exportKey('pkcs8', other.privateKey)).toString('base64')}\n-----END PRIVATE KEY-----`
    const cases: Array<[Promise<string>, string]> = [
      [assertion({ key: pem }), 'Invalid JWT Signature.'],
      [assertion({ claims: { aud: 'https://oauth2.googleapis.com/token' } }), 'audience'],
      [assertion({ claims: { exp: Math.floor(Date.now() / 1000) + 7200 } }), 'short-lived'],
      [assertion({ header: { alg: 'HS256' } }), 'Invalid JWT Signature.'],
    ]
    for (const [jwt, text] of cases) {
      const got = await exchange(await jwt)
      expect(got.status).toBe(400)
      expect(got.body.error).toBe('invalid_grant')
      expect(String(got.body.error_description)).toContain(text)
    }
    const noScope = await exchange(await assertion({ claims: { scope: 'https://www.googleapis.com/auth/devstorage.read_only' } }))
    expect(noScope.body.error).toBe('invalid_scope')
    const res = await fetch(fake.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
    expect(((await res.json()) as Obj).error).toBe('unsupported_grant_type')
  })
})

describe('cloud storage', () => {
  test('resumable upload: 308 with Range between chunks, 256 KiB rule, final object, media download, list, delete', async () => {
    const total = 256 * 1024 * 2 + 1000
    const bytes = new Uint8Array(total).map((_, i) => i % 251)
    const start = await call('POST', `/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&name=${encodeURIComponent('in/a.jsonl')}`, {
      headers: { 'x-upload-content-type': 'application/jsonl', 'x-upload-content-length': String(total), 'content-type': 'application/json' },
      body: '{}',
    })
    expect(start.status).toBe(200)
    const session = start.headers.get('location') as string
    expect(session).toContain('upload_id=')
    const put = (range: string, body: Uint8Array) => fetch(session, { method: 'PUT', headers: { 'content-range': range }, body, redirect: 'manual' })
    // Not a multiple of 256 KiB and not the last chunk: refused.
    const odd = await put(`bytes 0-99999/${total}`, bytes.slice(0, 100000))
    expect(odd.status).toBe(400)
    expect(((await odd.json()) as { error: Obj }).error.message).toContain('262144')
    const first = await put(`bytes 0-262143/${total}`, bytes.slice(0, 262144))
    expect(first.status).toBe(308)
    expect(first.headers.get('range')).toBe('bytes=0-262143')
    const status = await put(`bytes */${total}`, new Uint8Array())
    expect(status.status).toBe(308)
    expect(status.headers.get('range')).toBe('bytes=0-262143')
    await put(`bytes 262144-524287/${total}`, bytes.slice(262144, 524288))
    const last = await put(`bytes 524288-${total - 1}/${total}`, bytes.slice(524288))
    expect(last.status).toBe(200)
    const object = (await last.json()) as Obj
    expect(object.size).toBe(String(total))
    expect(object.contentType).toBe('application/jsonl')
    const media = await call('GET', `/storage/v1/b/${BUCKET}/o/${encodeURIComponent('in/a.jsonl')}?alt=media`)
    expect(new Uint8Array(await media.arrayBuffer())).toEqual(bytes)
    const listed = (await (await call('GET', `/storage/v1/b/${BUCKET}/o?prefix=in/`)).json()) as { items: Obj[] }
    expect(listed.items.map((i) => i.name)).toEqual(['in/a.jsonl'])
    expect((await call('DELETE', `/storage/v1/b/${BUCKET}/o/${encodeURIComponent('in/a.jsonl')}`)).status).toBe(204)
    const gone = await call('GET', `/storage/v1/b/${BUCKET}/o/${encodeURIComponent('in/a.jsonl')}`)
    expect(gone.status).toBe(404)
  })

  test('a DELETE on the session URI cancels the upload: 499, then the session is unknown and no object is made', async () => {
    const start = await call('POST', `/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&name=${encodeURIComponent('in/cancelled.jsonl')}`, {
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    const session = start.headers.get('location') as string
    const first = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-262143/*' }, body: new Uint8Array(262144), redirect: 'manual' })
    expect(first.status).toBe(308)
    expect((await fetch(session, { method: 'DELETE' })).status).toBe(499)
    const after = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes */*' }, redirect: 'manual' })
    expect(after.status).toBe(404)
    expect((await fetch(session, { method: 'DELETE' })).status).toBe(404)
    expect((await call('GET', `/storage/v1/b/${BUCKET}/o/${encodeURIComponent('in/cancelled.jsonl')}`)).status).toBe(404)
  })

  test('no token, a foreign token, an unknown bucket', async () => {
    const anon = await fetch(`${fake.url}/storage/v1/b/${BUCKET}/o`)
    expect(anon.status).toBe(401)
    const forged = await fetch(`${fake.url}/storage/v1/b/${BUCKET}/o`, { headers: { authorization: 'Bearer ya29.someone-else' } })
    expect(forged.status).toBe(401)
    expect(((await forged.json()) as { error: Obj }).error.message).toBe('Invalid Credentials')
    expect((await call('GET', '/storage/v1/b/nobody-bucket/o')).status).toBe(404)
  })
})

describe('vertex batch prediction through @google/genai (Vertex mode)', () => {
  const line = (key: string, text: string) => JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text }] }] } })

  test('create, get through QUEUED → PENDING → RUNNING → SUCCEEDED, predictions file with keys, list, delete', async () => {
    fake.gcs.put(BUCKET, 'in/sdk.jsonl', new TextEncoder().encode([line('a', 'hello'), line('b', 'FAIL me'), line('c', 'bye')].join('\n')), 'application/jsonl')
    const ai = client()
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: `gs://${BUCKET}/in/sdk.jsonl`, config: { dest: `gs://${BUCKET}/out`, displayName: 'sdk-job' } })
    expect(job.name).toMatch(/^projects\/acme-prod\/locations\/us-central1\/batchPredictionJobs\/\d+$/)
    expect(job.state).toBe(JobState.JOB_STATE_QUEUED)
    const states: string[] = []
    let got = job
    while (got.state !== JobState.JOB_STATE_SUCCEEDED) {
      got = await ai.batches.get({ name: job.name as string })
      states.push(String(got.state))
    }
    expect(states).toEqual(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED'])
    expect(got.completionStats).toEqual({ successfulCount: '2', failedCount: '1' })
    const dir = got.outputInfo?.gcsOutputDirectory as string
    const rows = fake.objectText(`${dir}/predictions.jsonl`).trim().split('\n').map((l) => JSON.parse(l) as Obj)
    // Rows do not come back in input order; each carries its key and echoes its request.
    expect(rows.map((r) => r.key)).toEqual(['c', 'b', 'a'])
    const a = rows.find((r) => r.key === 'a') as Obj
    expect(a.status).toBe('')
    expect(JSON.stringify(a.response)).toContain('Reply to: hello')
    expect(String((rows.find((r) => r.key === 'b') as Obj).status)).toContain('"code":400')
    const pager = await ai.batches.list({ config: { pageSize: 10 } })
    expect(pager.page.some((j) => j.displayName === 'sdk-job')).toBe(true)
    await ai.batches.delete({ name: job.name as string })
    await expect(ai.batches.get({ name: job.name as string })).rejects.toBeInstanceOf(ApiError)
  })

  test('cancel moves a running job to CANCELLING then CANCELLED with the rows it ran', async () => {
    fake.gcs.put(BUCKET, 'in/cancel.jsonl', new TextEncoder().encode([line('x', 'one'), line('y', 'two')].join('\n')), 'application/jsonl')
    const ai = client()
    const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: `gs://${BUCKET}/in/cancel.jsonl`, config: { dest: `gs://${BUCKET}/out` } })
    await ai.batches.get({ name: job.name as string })
    await ai.batches.get({ name: job.name as string })
    await ai.batches.cancel({ name: job.name as string })
    expect((await ai.batches.get({ name: job.name as string })).state).toBe(JobState.JOB_STATE_CANCELLED)
    const done = fake.job(job.name as string)
    expect(done.stats).toEqual({ successfulCount: 1, failedCount: 0, incompleteCount: 1 })
    const again = await call('POST', `/v1/${job.name}:cancel`, { body: '{}', headers: { 'content-type': 'application/json' } })
    expect(again.status).toBe(400)
    expect(((await again.json()) as { error: Obj }).error.status).toBe('FAILED_PRECONDITION')
  })

  test('malformed jobs are refused with google.rpc errors; other projects and missing tokens too', async () => {
    const create = (body: unknown) => call('POST', `/v1/projects/acme-prod/locations/us-central1/batchPredictionJobs`, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    const good = {
      displayName: 'x',
      model: 'publishers/google/models/gemini-2.5-flash',
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [`gs://${BUCKET}/in/sdk.jsonl`] } },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: `gs://${BUCKET}/out` } },
    }
    const cases: Array<[unknown, number, string]> = [
      [{ ...good, displayName: undefined }, 400, 'display_name'],
      [{ ...good, colour: 'red' }, 400, 'Unknown name "colour"'],
      [{ ...good, model: 'gemini-2.5-flash' }, 400, 'Invalid Model resource name'],
      [{ ...good, model: 'publishers/google/models/llama-3' }, 404, 'not found'],
      [{ ...good, inputConfig: { instancesFormat: 'csv', gcsSource: { uris: ['gs://acme-batches/a'] } } }, 400, 'jsonl'],
      [{ ...good, outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: 'gs://not-ours/out' } } }, 400, 'not-ours'],
    ]
    for (const [body, status, text] of cases) {
      const res = await create(body)
      expect(res.status).toBe(status)
      const err = ((await res.json()) as { error: Obj }).error
      expect(err.code).toBe(status)
      expect(typeof err.status).toBe('string')
      expect(String(err.message)).toContain(text)
    }
    const elsewhere = await call('GET', '/v1/projects/someone-else/locations/us-central1/batchPredictionJobs')
    expect(elsewhere.status).toBe(403)
    const anon = await fetch(`${fake.url}/v1/projects/acme-prod/locations/us-central1/batchPredictionJobs`)
    expect(anon.status).toBe(401)
    expect(((await anon.json()) as { error: Obj }).error.status).toBe('UNAUTHENTICATED')
  })
})
