// Which S3 places a caller may aim the gateway's AWS credentials at. Buckets come from
// `storage_config[s3]` or `output_s3_uri`; only buckets in BATCHGATE_S3_BUCKETS (default: the
// BEDROCK_S3_BUCKET) are accepted, checked before any S3 call (issue 7 §3).

import { type Config, isBucketName } from '../config'
import { invalid } from '../errors'
import type { S3Target } from '../providers/provider'
import type { ProviderName } from './provider-name'

export interface RequestedStorage {
  bucket?: string
  region?: string
  prefix?: string
}

export function resolveStorage(config: Config, provider: ProviderName, requested: RequestedStorage | null): S3Target | null {
  if (provider !== 'bedrock') return null
  const bucket = requested?.bucket ?? config.bedrock?.defaultBucket ?? null
  if (!bucket) {
    throw invalid('Bedrock uploads need an S3 bucket: send storage_config[s3][bucket] or configure BEDROCK_S3_BUCKET.', {
      param: 'storage_config',
    })
  }
  checkBucket(config, bucket, 'storage_config[s3][bucket]')
  const prefix = (requested?.prefix ?? 'batchgate-input').replace(/^\/+|\/+$/g, '')
  if (!/^[-!_*'().a-zA-Z0-9/]*$/.test(prefix) || prefix.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw invalid('storage_config[s3][prefix] may only hold letters, digits, / and -!_*\'().', {
      param: 'storage_config[s3][prefix]',
    })
  }
  return { bucket, region: requested?.region ?? config.bedrock?.region ?? null, prefix }
}

/** Validates `s3://bucket/prefix/` and its bucket against the allowlist. */
export function checkOutputUri(config: Config, uri: string): string {
  const m = /^s3:\/\/([^/]+)(\/.*)?$/.exec(uri)
  if (!m || !isBucketName(m[1] as string)) throw invalid(`output_s3_uri must look like s3://bucket/prefix/ (got '${uri.slice(0, 200)}').`, { param: 'output_s3_uri' })
  checkBucket(config, m[1] as string, 'output_s3_uri')
  return uri.endsWith('/') ? uri : `${uri}/`
}

function checkBucket(config: Config, bucket: string, param: string): void {
  if (!isBucketName(bucket)) throw invalid(`'${bucket.slice(0, 80)}' is not a valid S3 bucket name.`, { param })
  if (!config.s3Buckets.includes(bucket)) {
    throw invalid(`Bucket '${bucket}' is not one this gateway may use (BATCHGATE_S3_BUCKETS).`, { param })
  }
}
