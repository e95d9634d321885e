// BATCHGATE_DATABASE_URL / BATCHGATE_BLOB_URL / BATCHGATE_LEASE_TTL_MS (config/store.ts): each
// mistake is its own problem line, and a shared database never gets instance-local blobs.

import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import { problemsOf } from './problems'

const AWS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', S3_ENDPOINT: 'http://minio:9000/' }

describe('store settings', () => {
  test('unset: SQLite and local blobs, a 30 s lease', () => {
    expect(loadConfig({}).store).toEqual({ databaseUrl: null, blobUrl: null, blobAws: null, leaseTtlMs: 30_000 })
  })

  test('PostgreSQL with a bucket signs with the AWS settings and the custom endpoint', () => {
    const { store } = loadConfig({ ...AWS, BATCHGATE_DATABASE_URL: 'postgres://u:p@db/batchgate', BATCHGATE_BLOB_URL: 's3://blobs/gw', AWS_REGION: 'eu-west-1' })
    expect(store.databaseUrl).toBe('postgres://u:p@db/batchgate')
    expect(store.blobAws).toMatchObject({ accessKeyId: 'AKID', region: 'eu-west-1', s3Endpoint: 'http://minio:9000' })
  })

  const bad: Array<[string, Record<string, string>, string]> = [
    ['a database URL of another kind', { ...AWS, BATCHGATE_DATABASE_URL: 'mysql://db/x', BATCHGATE_BLOB_URL: 's3://blobs/p' }, 'BATCHGATE_DATABASE_URL must be a postgres:// URL'],
    ['PostgreSQL with local blobs', { BATCHGATE_DATABASE_URL: 'postgres://db/x' }, 'BATCHGATE_DATABASE_URL needs BATCHGATE_BLOB_URL=s3://bucket/prefix'],
    ['a blob URL that is not s3://', { ...AWS, BATCHGATE_BLOB_URL: 'https://bucket/x' }, "BATCHGATE_BLOB_URL must look like s3://bucket/prefix (got 'https://bucket/x')"],
    ['a bucket without credentials', { BATCHGATE_BLOB_URL: 's3://blobs/gw' }, 'BATCHGATE_BLOB_URL needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    ['a lease shorter than half a second', { BATCHGATE_LEASE_TTL_MS: '10' }, 'BATCHGATE_LEASE_TTL_MS must be an integer'],
  ]
  for (const [what, env, message] of bad) {
    test(`refused: ${what}`, () => {
      const problems = problemsOf(env)
      expect(problems.length).toBe(1)
      expect(problems[0]).toContain(message)
    })
  }
})
