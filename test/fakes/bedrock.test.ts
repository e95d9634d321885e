import { afterAll, describe, expect, test } from 'bun:test'
import {
  BedrockClient,
  BedrockServiceException,
  CreateModelInvocationJobCommand,
  GetModelInvocationJobCommand,
  ListModelInvocationJobsCommand,
  StopModelInvocationJobCommand,
  type CreateModelInvocationJobCommandInput,
} from '@aws-sdk/client-bedrock'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { AwsClient } from 'aws4fetch'
import { startBedrockFake } from './bedrock'
import { startS3Fake } from './s3'

const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test' }
const s3fake = startS3Fake({ buckets: ['batchgate-test', 'out-bucket'] })
const fake = startBedrockFake({ s3: s3fake })
const frozen = startBedrockFake({ s3: s3fake, autoAdvance: false, roleArnPattern: /:role\/BedrockBatchRole$/ })
const clientFor = (url: string, secretAccessKey = creds.secretAccessKey) =>
  new BedrockClient({ endpoint: url, region: 'us-east-1', maxAttempts: 1, credentials: { ...creds, secretAccessKey } })
const bedrock = clientFor(fake.url)
const s3 = new S3Client({ endpoint: s3fake.url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1, credentials: creds })

afterAll(async () => {
  await fake.close()
  await frozen.close()
  await s3fake.close()
})

const ROLE = 'arn:aws:iam::123456789012:role/BedrockBatchRole'
const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0'

function claudeInput(prompt: string, extra: Record<string, unknown> = {}) {
  return {
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 256,
    messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    ...extra,
  }
}

function jobInput(overrides: Partial<CreateModelInvocationJobCommandInput> = {}): CreateModelInvocationJobCommandInput {
  return {
    jobName: 'job1',
    roleArn: ROLE,
    modelId: CLAUDE,
    inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batchgate-test/claude/input.jsonl', s3InputFormat: 'JSONL' } },
    outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://out-bucket/results/' } },
    timeoutDurationInHours: 24,
    ...overrides,
  }
}

async function sdkError(p: Promise<unknown>): Promise<BedrockServiceException> {
  try {
    await p
  } catch (err) {
    if (err instanceof BedrockServiceException) return err
    throw err
  }
  throw new Error('expected the call to fail')
}

async function readS3(bucket: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return (await got.Body?.transformToString()) ?? ''
}

const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('')

describe('Bedrock fake via @aws-sdk/client-bedrock', () => {
  test('anthropic job end to end: every status, .out file and manifest in S3', async () => {
    await s3fake.putObject(
      'batchgate-test',
      'claude/input.jsonl',
      jsonl([
        { recordId: 'CALL0000001', modelInput: claudeInput('Say hi') },
        { recordId: 'CALL0000002', modelInput: claudeInput('Please FAIL now') },
        { recordId: 'CALL0000003', modelInput: claudeInput('x', { model: 'claude-3-haiku' }) },
        { recordId: 'CALL0000004', modelInput: { messages: [{ role: 'user', content: [{ text: 'nova-shaped' }] }] } },
        { modelInput: { ...claudeInput('first'), messages: [...claudeInput('first').messages, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'second turn' }] } },
      ]),
    )
    const { jobArn } = await bedrock.send(new CreateModelInvocationJobCommand(jobInput({ jobName: 'claude-e2e' })))
    expect(jobArn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:model-invocation-job\/[a-z0-9]{12}$/)
    const jobId = jobArn?.split('/').at(-1) ?? ''

    const seen: string[] = []
    for (let i = 0; i < 10; i++) {
      const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))
      seen.push(job.status ?? '')
      if (job.status === 'Completed') {
        expect(job.endTime).toBeInstanceOf(Date)
        expect(job.submitTime).toBeInstanceOf(Date)
        expect(job.jobName).toBe('claude-e2e')
        expect(job.roleArn).toBe(ROLE)
        expect(job.totalRecordCount).toBe(5)
        expect(job.processedRecordCount).toBe(5)
        expect(job.successRecordCount).toBe(2)
        expect(job.errorRecordCount).toBe(3)
        break
      }
    }
    expect(seen).toEqual(['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Completed'])
    // The ARN is percent-encoded as one path segment (and signed double-encoded).
    expect(fake.requests.at(-1)?.path).toBe(`/model-invocation-job/${encodeURIComponent(jobArn ?? '')}`)

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'out-bucket', Prefix: `results/${jobId}/` }))
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([`results/${jobId}/input.jsonl.out`, `results/${jobId}/manifest.json.out`])

    const lines = (await readS3('out-bucket', `results/${jobId}/input.jsonl.out`)).trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(5)
    const byId = new Map(lines.map((l) => [l.recordId as string, l]))
    const ok = byId.get('CALL0000001')
    expect(ok.modelInput).toEqual(claudeInput('Say hi'))
    expect(ok.modelOutput.type).toBe('message')
    expect(ok.modelOutput.role).toBe('assistant')
    expect(ok.modelOutput.model).toBe('claude-3-haiku-20240307')
    expect(ok.modelOutput.content).toEqual([{ type: 'text', text: 'Reply to: Say hi' }])
    expect(ok.modelOutput.stop_reason).toBe('end_turn')
    expect(ok.modelOutput.usage.output_tokens).toBeGreaterThan(0)
    expect(byId.get('CALL0000002').error.errorCode).toBe(400)
    expect(byId.get('CALL0000002').modelOutput).toBeUndefined()
    expect(byId.get('CALL0000003').error.errorMessage).toContain('extraneous key [model]')
    expect(byId.get('CALL0000004').error.errorMessage).toContain('anthropic_version')
    // The record without an id got one, and the reply uses the LAST user message.
    const generated = lines.find((l) => !String(l.recordId).startsWith('CALL'))
    expect(generated.recordId).toMatch(/^[A-Za-z0-9]{11}$/)
    expect(generated.modelOutput.content[0].text).toBe('Reply to: second turn')

    const manifest = JSON.parse(await readS3('out-bucket', `results/${jobId}/manifest.json.out`))
    expect(manifest).toMatchObject({ totalRecordCount: 5, processedRecordCount: 5, successRecordCount: 2, errorRecordCount: 3 })
    expect(manifest.inputTokenCount).toBeGreaterThan(0)
    expect(manifest.outputTokenCount).toBeGreaterThan(0)
  })

  test('nova job over a prefix of .jsonl files, finished directly', async () => {
    const novaInput = (text: string, maxTokens?: number) => ({
      schemaVersion: 'messages-v1',
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text }] }],
      ...(maxTokens ? { inferenceConfig: { maxTokens } } : {}),
    })
    await s3fake.putObject('batchgate-test', 'nova/in/a.jsonl', jsonl([{ recordId: 'A1', modelInput: novaInput('alpha') }]))
    await s3fake.putObject(
      'batchgate-test',
      'nova/in/b.jsonl',
      jsonl([
        { recordId: 'B1', modelInput: novaInput('one two three four five', 2) },
        { recordId: 'B2', modelInput: claudeInput('wrong family') },
      ]),
    )
    await s3fake.putObject('batchgate-test', 'nova/in/ignored.txt', 'not input')
    const { jobArn } = await bedrock.send(
      new CreateModelInvocationJobCommand(
        jobInput({
          jobName: 'nova-job',
          modelId: 'us.amazon.nova-lite-v1:0',
          inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batchgate-test/nova/in/' } },
          outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://out-bucket/nova' } },
        }),
      ),
    )
    const job = await fake.finish(jobArn ?? '')
    expect(job.status).toBe('Completed')
    const got = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: job.id }))
    expect(got.status).toBe('Completed')
    expect(s3fake.listKeys('out-bucket', `nova/${job.id}/`)).toEqual([
      `nova/${job.id}/a.jsonl.out`,
      `nova/${job.id}/b.jsonl.out`,
      `nova/${job.id}/manifest.json.out`,
    ])
    const a = JSON.parse((await readS3('out-bucket', `nova/${job.id}/a.jsonl.out`)).trim())
    expect(a.modelOutput).toEqual({
      output: { message: { role: 'assistant', content: [{ text: 'Reply to: alpha' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 3, outputTokens: 3, totalTokens: 6 },
    })
    const b = (await readS3('out-bucket', `nova/${job.id}/b.jsonl.out`)).trim().split('\n').map((l) => JSON.parse(l))
    const b1 = b.find((l) => l.recordId === 'B1')
    expect(b1.modelOutput.stopReason).toBe('max_tokens')
    expect(b1.modelOutput.usage.outputTokens).toBe(2)
    expect(b.find((l) => l.recordId === 'B2').error).toMatchObject({ errorCode: 400 })
  })

  test('missing input object → Failed with a message', async () => {
    const { jobArn } = await bedrock.send(
      new CreateModelInvocationJobCommand(
        jobInput({ jobName: 'missing-input', inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batchgate-test/nope/none.jsonl' } } }),
      ),
    )
    const statuses: string[] = []
    for (let i = 0; i < 4; i++) {
      const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))
      statuses.push(job.status ?? '')
      if (job.status === 'Failed') {
        expect(job.message).toContain('does not exist')
        expect(job.endTime).toBeInstanceOf(Date)
        break
      }
    }
    expect(statuses).toEqual(['Submitted', 'Validating', 'Failed'])
  })

  test('clientRequestToken makes create idempotent', async () => {
    const input = jobInput({ jobName: 'idem', clientRequestToken: 'token-123-abc' })
    const first = await bedrock.send(new CreateModelInvocationJobCommand(input))
    const second = await bedrock.send(new CreateModelInvocationJobCommand(input))
    expect(second.jobArn).toBe(first.jobArn ?? '')
    const third = await bedrock.send(new CreateModelInvocationJobCommand({ ...input, clientRequestToken: 'token-456' }))
    expect(third.jobArn).not.toBe(first.jobArn ?? '')
  })

  test('list: paging, filters, sort order', async () => {
    const names = ['listjob-a', 'listjob-b', 'listjob-c']
    for (const jobName of names) await clientFor(frozen.url).send(new CreateModelInvocationJobCommand(jobInput({ jobName })))
    const client = clientFor(frozen.url)
    const page1 = await client.send(new ListModelInvocationJobsCommand({ maxResults: 2, nameContains: 'listjob', sortOrder: 'Ascending' }))
    expect(page1.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['listjob-a', 'listjob-b'])
    expect(page1.nextToken).toBeTruthy()
    const page2 = await client.send(new ListModelInvocationJobsCommand({ maxResults: 2, nameContains: 'listjob', sortOrder: 'Ascending', nextToken: page1.nextToken }))
    expect(page2.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['listjob-c'])
    expect(page2.nextToken).toBeUndefined()
    const desc = await client.send(new ListModelInvocationJobsCommand({ nameContains: 'listjob' }))
    expect(desc.invocationJobSummaries?.map((j) => j.jobName)).toEqual(['listjob-c', 'listjob-b', 'listjob-a'])
    expect(desc.invocationJobSummaries?.[0]?.status).toBe('Submitted')
    expect(desc.invocationJobSummaries?.[0]?.submitTime).toBeInstanceOf(Date)
    const none = await client.send(new ListModelInvocationJobsCommand({ statusEquals: 'Completed' }))
    expect(none.invocationJobSummaries).toEqual([])
  })

  test('stop: Stopping, then Stopped; stopping a finished job is rejected', async () => {
    const client = clientFor(frozen.url)
    const { jobArn } = await client.send(new CreateModelInvocationJobCommand(jobInput({ jobName: 'to-stop' })))
    // Frozen fake: polling does not advance.
    expect((await client.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))).status).toBe('Submitted')
    expect((await client.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))).status).toBe('Submitted')
    const stopped = await client.send(new StopModelInvocationJobCommand({ jobIdentifier: jobArn }))
    expect(stopped.$metadata.httpStatusCode).toBe(200)
    expect(frozen.job(jobArn ?? '')?.status).toBe('Stopping')
    const listed = await client.send(new ListModelInvocationJobsCommand({ statusEquals: 'Stopping' }))
    expect(listed.invocationJobSummaries?.map((j) => j.jobArn)).toEqual([jobArn ?? ''])
    const after = await client.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))
    expect(after.status).toBe('Stopped')
    expect(after.endTime).toBeInstanceOf(Date)
    const again = await sdkError(client.send(new StopModelInvocationJobCommand({ jobIdentifier: jobArn })))
    expect(again.name).toBe('ValidationException')
    expect(again.$metadata.httpStatusCode).toBe(400)
  })

  test('test hooks: expire, fail, partiallyComplete', async () => {
    const client = clientFor(frozen.url)
    await s3fake.putObject('batchgate-test', 'hooks/in.jsonl', jsonl([1, 2, 3, 4].map((n) => ({ recordId: `R${n}`, modelInput: claudeInput(`n${n}`) }))))
    const mk = async (jobName: string) =>
      (
        await client.send(
          new CreateModelInvocationJobCommand(jobInput({ jobName, inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batchgate-test/hooks/in.jsonl' } } })),
        )
      ).jobArn ?? ''
    const e = await mk('expire-me')
    frozen.expire(e)
    const expired = await client.send(new GetModelInvocationJobCommand({ jobIdentifier: e }))
    expect(expired.status).toBe('Expired')
    expect(s3fake.listKeys('out-bucket', `results/${e.split('/').at(-1)}/`)).toEqual([])

    const f = await mk('fail-me')
    frozen.fail(f, 'Internal error while processing')
    const failed = await client.send(new GetModelInvocationJobCommand({ jobIdentifier: f }))
    expect(failed.status).toBe('Failed')
    expect(failed.message).toBe('Internal error while processing')

    const p = await mk('partial')
    const job = await frozen.partiallyComplete(p)
    expect(job.status).toBe('PartiallyCompleted')
    const got = await client.send(new GetModelInvocationJobCommand({ jobIdentifier: p }))
    expect(got.status).toBe('PartiallyCompleted')
    expect(got.totalRecordCount).toBe(4)
    expect(got.processedRecordCount).toBe(2)
    const out = (await readS3('out-bucket', `results/${job.id}/in.jsonl.out`)).trim().split('\n')
    expect(out).toHaveLength(2)
    const manifest = JSON.parse(await readS3('out-bucket', `results/${job.id}/manifest.json.out`))
    expect(manifest).toMatchObject({ totalRecordCount: 4, processedRecordCount: 2, successRecordCount: 2, errorRecordCount: 0 })
  })

  test('unknown job → ResourceNotFoundException; malformed id → ValidationException', async () => {
    const missing = await sdkError(bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: 'abcdefghijkl' })))
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    const otherRegionArn = 'arn:aws:bedrock:eu-west-1:123456789012:model-invocation-job/abcdefghijkl'
    expect((await sdkError(bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: otherRegionArn })))).name).toBe('ResourceNotFoundException')
    const bad = await sdkError(bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: 'NOT_AN_ID' })))
    expect(bad.name).toBe('ValidationException')
  })

  test('create validation: jobName, roleArn, timeout, s3Uri, token, model', async () => {
    const cases: [Partial<CreateModelInvocationJobCommandInput>, string][] = [
      [{ jobName: 'bad name!' }, "at 'jobName'"],
      [{ jobName: 'x'.repeat(64) }, 'length less than or equal to 63'],
      [{ roleArn: 'arn:aws:iam::123:user/someone' }, "at 'roleArn'"],
      [{ timeoutDurationInHours: 12 }, 'greater than or equal to 24'],
      [{ timeoutDurationInHours: 200 }, 'less than or equal to 168'],
      [{ inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batchgate-test/has space.jsonl' } } }, 's3Uri'],
      [{ outputDataConfig: { s3OutputDataConfig: { s3Uri: 'https://bucket/out/' } } }, 's3Uri'],
      [{ clientRequestToken: 'bad_token' }, 'clientRequestToken'],
      [{ modelId: 'meta.llama3-8b-instruct-v1:0' }, 'model identifier'],
    ]
    for (const [override, needle] of cases) {
      const err = await sdkError(bedrock.send(new CreateModelInvocationJobCommand(jobInput(override))))
      expect(err.name).toBe('ValidationException')
      expect(err.$metadata.httpStatusCode).toBe(400)
      expect(err.message).toContain(needle)
    }
    // Two violations at once are both reported.
    const two = await sdkError(bedrock.send(new CreateModelInvocationJobCommand(jobInput({ jobName: '-bad', timeoutDurationInHours: 1 }))))
    expect(two.message).toStartWith('2 validation errors detected')
  })

  test('roleArnPattern: a role the caller may not pass → AccessDeniedException', async () => {
    const err = await sdkError(
      clientFor(frozen.url).send(new CreateModelInvocationJobCommand(jobInput({ roleArn: 'arn:aws:iam::123456789012:role/SomeOtherRole' }))),
    )
    expect(err.name).toBe('AccessDeniedException')
    expect(err.$metadata.httpStatusCode).toBe(403)
  })

  test('wrong secret → 403 InvalidSignatureException', async () => {
    const err = await sdkError(clientFor(fake.url, 'wrong-secret').send(new ListModelInvocationJobsCommand({})))
    expect(err.name).toBe('InvalidSignatureException')
    expect(err.$metadata.httpStatusCode).toBe(403)
  })
})

describe('Bedrock fake via aws4fetch', () => {
  test('signed with service bedrock works (double-encoded ARN path)', async () => {
    const aws = new AwsClient({ ...creds, service: 'bedrock', region: 'us-east-1', retries: 0 })
    const created = await aws.fetch(`${fake.url}/model-invocation-job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(jobInput({ jobName: 'a4f-job' })),
    })
    expect(created.status).toBe(200)
    const { jobArn } = (await created.json()) as { jobArn: string }
    const got = await aws.fetch(`${fake.url}/model-invocation-job/${encodeURIComponent(jobArn)}`)
    expect(got.status).toBe(200)
    expect(((await got.json()) as { status: string }).status).toBe('Submitted')
  })

  test('raw bodies: union with no member / two members, non-JSON → 400', async () => {
    const aws = new AwsClient({ ...creds, service: 'bedrock', region: 'us-east-1', retries: 0 })
    const post = (body: string) =>
      aws.fetch(`${fake.url}/model-invocation-job`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const empty = await post(JSON.stringify({ ...jobInput(), inputDataConfig: {} }))
    expect(empty.status).toBe(400)
    expect(empty.headers.get('x-amzn-errortype')).toBe('ValidationException')
    expect(((await empty.json()) as { message: string }).message).toContain('inputDataConfig')
    const two = await post(JSON.stringify({ ...jobInput(), outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://out-bucket/x/' }, other: {} } }))
    expect(two.status).toBe(400)
    expect(two.headers.get('x-amzn-errortype')).toBe('ValidationException')
    const missing = await post(JSON.stringify({ jobName: 'only-name' }))
    expect(((await missing.json()) as { message: string }).message).toContain("Value null at 'roleArn'")
    const notJson = await post('{nope')
    expect(notJson.status).toBe(400)
    expect(notJson.headers.get('x-amzn-errortype')).toBe('SerializationException')
  })

  test('an ARN path signed single-encoded (S3 style) is rejected', async () => {
    const single = new AwsClient({ ...creds, service: 'bedrock', region: 'us-east-1', retries: 0 })
    const jobArn = [...fake.jobs.values()][0]?.jobArn ?? ''
    const url = `${fake.url}/model-invocation-job/${encodeURIComponent(jobArn)}`
    const bad = await single.fetch(url, { aws: { singleEncode: true } })
    expect(bad.status).toBe(403)
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException')
    const good = await single.fetch(url)
    expect(good.status).toBe(200)
  })

  test('wrong service in scope / unknown key / no auth → 403 with x-amzn-ErrorType', async () => {
    const s3Scoped = new AwsClient({ ...creds, service: 's3', region: 'us-east-1', retries: 0 })
    const r1 = await s3Scoped.fetch(`${fake.url}/model-invocation-jobs`)
    expect(r1.status).toBe(403)
    expect(r1.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException')
    expect(((await r1.json()) as { message: string }).message).toContain("'bedrock'")

    const unknown = new AwsClient({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'x', service: 'bedrock', region: 'us-east-1', retries: 0 })
    const r2 = await unknown.fetch(`${fake.url}/model-invocation-jobs`)
    expect(r2.status).toBe(403)
    expect(r2.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException')

    const r3 = await fetch(`${fake.url}/model-invocation-jobs`)
    expect(r3.status).toBe(403)
    expect(r3.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException')
  })
})
