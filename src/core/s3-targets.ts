// Which S3 places a caller may aim the gateway's AWS credentials at. Buckets come from
// `storage_config[s3]` or `output_s3_uri`; only buckets in BATCHGATE_S3_BUCKETS (default: the
// BEDROCK_S3_BUCKET) are accepted, checked before any S3 call (issue 7 §3). The region is part
// of the S3 host name, so it is held to the AWS region shape: anything else would let a caller
// send signed requests (and the session token) to a host of their choosing.

import { type Config, isBucketName } from '../config'
import { invalid } from '../errors'
import type { S3Target } from '../providers/provider'
import type { ProviderName } from './provider-name'

export interface RequestedStorage {
  bucket?: string
  region?: string
  prefix?: string
}

const STORAGE_KEYS = ['bucket', 'region', 'prefix'] as const
const REGION = /^[a-z]{2}(-[a-z]{1,12}){1,3}-\d{1,2}$/
const PREFIX = /^[-!_*'().a-zA-Z0-9/]{0,512}$/

/**
 * Reads `storage_config` as a client sent it (bracket fields or one JSON field, already nested):
 * exactly `{s3: {bucket?, region?, prefix?}}` with string values, or a 400 naming the field.
 */
export function parseStorageConfig(value: unknown): RequestedStorage | null {
  if (value === undefined) return null
  const root = plainObject(value, 'storage_config')
  for (const key of Object.keys(root)) {
    if (key !== 's3') throw invalid(`storage_config[${key.slice(0, 64)}] is not supported; only storage_config[s3] is.`, { param: 'storage_config' })
  }
  const s3 = plainObject(root.s3, 'storage_config[s3]')
  const out: RequestedStorage = {}
  for (const [key, v] of Object.entries(s3)) {
    const param = `storage_config[s3][${key.slice(0, 64)}]`
    if (!(STORAGE_KEYS as readonly string[]).includes(key)) {
      throw invalid(`${param} is not supported; storage_config[s3] takes ${STORAGE_KEYS.join(', ')}.`, { param })
    }
    if (typeof v !== 'string') throw invalid(`${param} must be a string.`, { param })
    out[key as (typeof STORAGE_KEYS)[number]] = v
  }
  return out
}

export function resolveStorage(config: Config, provider: ProviderName, requested: RequestedStorage | null): S3Target | null {
  if (provider !== 'bedrock') return null
  const bucket = requested?.bucket ?? config.bedrock?.defaultBucket ?? null
  if (!bucket) {
    throw invalid('Bedrock uploads need an S3 bucket: send storage_config[s3][bucket] or configure BEDROCK_S3_BUCKET.', {
      param: 'storage_config',
    })
  }
  // The operator's own default bucket is always usable; only a bucket the caller names is bounded.
  if (requested?.bucket !== undefined) checkBucket(config, bucket, 'storage_config[s3][bucket]')
  const region = requested?.region ?? config.bedrock?.region ?? null
  if (requested?.region !== undefined && !REGION.test(requested.region)) {
    throw invalid(`storage_config[s3][region] must be an AWS region such as us-east-1 (got '${requested.region.slice(0, 64)}').`, {
      param: 'storage_config[s3][region]',
    })
  }
  const prefix = (requested?.prefix ?? 'batchgate-input').replace(/^\/+|\/+$/g, '')
  checkPrefix(prefix, 'storage_config[s3][prefix]')
  return { bucket, region, prefix }
}

/** Validates `s3://bucket/prefix/`, its bucket against the allowlist and its prefix's characters. */
export function checkOutputUri(config: Config, uri: string): string {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri)
  if (!m || !isBucketName(m[1] as string)) {
    throw invalid(`output_s3_uri must look like s3://bucket/prefix/ (got '${uri.slice(0, 200)}').`, { param: 'output_s3_uri' })
  }
  checkBucket(config, m[1] as string, 'output_s3_uri')
  checkPrefix((m[2] ?? '').replace(/\/+$/, ''), 'output_s3_uri')
  return uri.endsWith('/') ? uri : `${uri}/`
}

function checkBucket(config: Config, bucket: string, param: string): void {
  if (!isBucketName(bucket)) throw invalid(`'${bucket.slice(0, 80)}' is not a valid S3 bucket name.`, { param })
  if (!config.s3Buckets.includes(bucket)) {
    throw invalid(`Bucket '${bucket}' is not one this gateway may use (BATCHGATE_S3_BUCKETS).`, { param })
  }
}

function checkPrefix(prefix: string, param: string): void {
  if (!PREFIX.test(prefix) || prefix.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw invalid(`${param}: a key prefix may only hold letters, digits, / and -!_*'(). and no '.' or '..' segments.`, {
      param,
    })
  }
}

function plainObject(value: unknown, param: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${param} must be an object (bracket fields such as ${param}[key]=value, or JSON).`, { param })
  }
  return value as Record<string, unknown>
}
