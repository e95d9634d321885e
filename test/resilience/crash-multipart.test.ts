// Crash leftovers upstream (issue 11 class 12): a Bedrock upload large enough to go to S3 in parts
// is killed with SIGKILL after its first part, while the second is held at S3. The UploadId was
// recorded in the store before the first part went out, so the restarted gateway aborts the
// multipart upload: S3 then holds no open upload (no billed parts) and no object, and the store
// no pending row.

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI, { toFile } from 'openai'
import { type AllFakes, startAllFakes, TEST_BUCKET } from '../fakes/start'
import { rows, spawnGateway, waitFor } from './spawned-gateway'

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0'
/** Above the adapter's 16 MiB part size, so the upload goes up in two parts. */
const TARGET_BYTES = 18 * 1024 * 1024

let fakes: AllFakes
let dataDir: string

beforeAll(() => {
  fakes = startAllFakes({ autoAdvance: false })
  dataDir = mkdtempSync(join(tmpdir(), 'batchgate-crash-mpu-'))
})

afterAll(async () => {
  await fakes.close()
  rmSync(dataDir, { recursive: true, force: true })
})

function bigBatchFile(): string {
  const prompt = 'word '.repeat(12_000)
  const lines: string[] = []
  let bytes = 0
  for (let i = 0; bytes < TARGET_BYTES; i++) {
    const line = JSON.stringify({
      custom_id: `big-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: MODEL, messages: [{ role: 'user', content: prompt }], max_tokens: 10 },
    })
    lines.push(line)
    bytes += line.length + 1
  }
  return `${lines.join('\n')}\n`
}

test('kill -9 between the parts of an S3 multipart upload, restart: the upload is aborted, nothing stays in S3', async () => {
  const env = { ...fakes.env, BATCHGATE_DATA_DIR: dataDir, BATCHGATE_UPSTREAM_RETRIES: '0' }
  const first = await spawnGateway(env)
  const client = new OpenAI({ baseURL: `${first.url}/openai`, apiKey: 'open', maxRetries: 0, timeout: 60_000 })
  // Part 2 is held at S3 long enough for the kill to land while the upload is open.
  fakes.s3.faults.add({ match: (req, url) => req.method === 'PUT' && url.searchParams.get('partNumber') === '2', delayMs: 3000 })
  const upload = client.files
    .create({ file: await toFile(Buffer.from(bigBatchFile()), 'big.jsonl'), purpose: 'batch', provider: 'bedrock' } as never)
    .catch((err: unknown) => err)

  type Pending = { id: string; location: string }
  let pending: Pending[] = []
  await waitFor(
    'the first part to be stored and the UploadId recorded',
    () => {
      pending = rows<Pending>(dataDir, `SELECT id, location FROM files WHERE state = 'pending'`)
      const open = fakes.s3.openMultipartUploads(TEST_BUCKET)
      return pending.length === 1 && open.length === 1 && (open[0]?.partNumbers ?? []).includes(1)
    },
    20_000,
  )
  const [row] = pending as [Pending]
  const [open] = fakes.s3.openMultipartUploads(TEST_BUCKET)
  // Recorded before the first part went out: the row names the very upload S3 holds open.
  expect(JSON.parse(row.location).leftover).toMatchObject({ kind: 's3-multipart', bucket: TEST_BUCKET, uploadId: open?.uploadId })
  first.proc.kill('SIGKILL')
  expect(await first.exited).not.toBe(0)
  expect(await upload).toBeInstanceOf(Error)
  const key = `batchgate-input/${row.id}.jsonl`

  const second = await spawnGateway(env)
  try {
    expect(fakes.s3.openMultipartUploads(TEST_BUCKET)).toEqual([])
    expect(fakes.s3.hasObject(TEST_BUCKET, key)).toBe(false)
    expect(rows(dataDir, `SELECT id FROM files WHERE state = 'pending'`)).toEqual([])
    expect(second.output()).toContain('interrupted multipart upload aborted upstream')
    // The held part, arriving after the abort, cannot resurrect the upload.
    await Bun.sleep(3200)
    expect(fakes.s3.openMultipartUploads(TEST_BUCKET)).toEqual([])
    expect(fakes.s3.hasObject(TEST_BUCKET, key)).toBe(false)
  } finally {
    second.proc.kill('SIGTERM')
    await second.exited
  }
}, 40_000)
