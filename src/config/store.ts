// Store settings: SQLite under the data dir by default; BATCHGATE_DATABASE_URL (PostgreSQL) +
// BATCHGATE_BLOB_URL (a bucket, signed with the same AWS_* / S3_ENDPOINT settings as Bedrock)
// for several instances. A shared database with instance-local blobs is refused: a batch input
// uploaded through one instance would be missing on the next (docs/deploy.md).

import { parseBlobUrl } from '../store/blobs'
import { type BedrockConfig, DEFAULT_BASE_URL } from './instances'

export interface StoreConfig {
  /** postgres://…; null = SQLite under dataDir. */
  databaseUrl: string | null
  /** s3://bucket/prefix; null = dataDir/blobs. */
  blobUrl: string | null
  /** Credentials, region and endpoint for the blob bucket (null without BATCHGATE_BLOB_URL). */
  blobAws: BedrockConfig | null
  /** An instance whose heartbeat is older than this is gone; its intents may be taken over. */
  leaseTtlMs: number
}

export const STORE_SETTINGS: ReadonlyArray<[name: string, fallback: string, meaning: string]> = [
  ['BATCHGATE_DATABASE_URL', '(SQLite in the data dir)', 'postgres://user:pass@host/db: one store shared by several instances'],
  ['BATCHGATE_BLOB_URL', '(data dir blobs/)', 's3://bucket/prefix for files the gateway keeps (AWS_* and S3_ENDPOINT settings)'],
  ['BATCHGATE_LEASE_TTL_MS', '30000', 'after this long without a heartbeat an instance counts as gone'],
]

export function storeConfig(
  str: (name: string) => string | null,
  int: (name: string, fallback: number, min: number, max: number) => number,
  region: string,
  problems: string[],
): StoreConfig {
  const databaseUrl = str('BATCHGATE_DATABASE_URL')
  const blobUrl = str('BATCHGATE_BLOB_URL')
  if (databaseUrl !== null && !/^postgres(ql)?:\/\/./.test(databaseUrl)) {
    problems.push('BATCHGATE_DATABASE_URL must be a postgres:// URL')
  }
  let blobAws: BedrockConfig | null = null
  if (blobUrl !== null) {
    const accessKeyId = str('AWS_ACCESS_KEY_ID')
    const secretAccessKey = str('AWS_SECRET_ACCESS_KEY')
    if (!parseBlobUrl(blobUrl)) problems.push(`BATCHGATE_BLOB_URL must look like s3://bucket/prefix (got '${blobUrl}')`)
    else if (!accessKeyId || !secretAccessKey) problems.push('BATCHGATE_BLOB_URL needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
    else {
      blobAws = {
        accessKeyId,
        secretAccessKey,
        sessionToken: str('AWS_SESSION_TOKEN'),
        region,
        baseUrl: DEFAULT_BASE_URL.bedrock(region),
        s3Endpoint: str('S3_ENDPOINT')?.replace(/\/+$/, '') ?? null,
        roleArn: null,
        defaultBucket: null,
      }
    }
  } else if (databaseUrl !== null) {
    problems.push('BATCHGATE_DATABASE_URL needs BATCHGATE_BLOB_URL=s3://bucket/prefix: files the gateway keeps must be readable by every instance')
  }
  return { databaseUrl, blobUrl, blobAws, leaseTtlMs: int('BATCHGATE_LEASE_TTL_MS', 30_000, 500, 3_600_000) }
}
