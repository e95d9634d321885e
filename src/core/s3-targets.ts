// Which S3 places a caller may aim the gateway's AWS credentials at. Buckets come from
// `storage_config[s3]` or `output_s3_uri`; only buckets on the Bedrock instance's allowlist
// (BATCHGATE_S3_BUCKETS, default BEDROCK_S3_BUCKET; `buckets` in BATCHGATE_CONFIG) are accepted, checked before any S3 call (issue 7 §3). The region is part
// of the S3 host name, so it is held to the AWS region shape: anything else would let a caller
// send signed requests (and the session token) to a host of their choosing.

import { type InstanceConfig, isBucketName } from '../config'
import { isGcsBucketName } from '../config/vertex'
import type { ProviderKind } from './provider-name'
import { invalid } from '../errors'
import type { S3Target } from '../providers/provider'

export interface RequestedStorage {
  bucket?: string
  region?: string
  prefix?: string
}

type StoreKind = 's3' | 'gcs'
/** GCS buckets are global: no region to name. */
const STORAGE_KEYS = { s3: ['bucket', 'region', 'prefix'], gcs: ['bucket', 'prefix'] } as const
const REGION = /^[a-z]{2}(-[a-z]{1,12}){1,3}-\d{1,2}$/
const PREFIX = /^[-!_*'().a-zA-Z0-9/]{0,512}$/

/**
 * Reads `storage_config` as a client sent it (bracket fields or one JSON field, already nested):
 * exactly `{s3: {bucket?, region?, prefix?}}` with string values, or a 400 naming the field.
 */
export function parseStorageConfig(value: unknown, store: StoreKind = 's3'): RequestedStorage | null {
  if (value === undefined) return null
  const root = plainObject(value, 'storage_config')
  for (const key of Object.keys(root)) {
    if (key !== store) {
      throw invalid(`storage_config[${key.slice(0, 64)}] is not supported here; this provider takes storage_config[${store}].`, { param: 'storage_config' })
    }
  }
  const keys = STORAGE_KEYS[store]
  const section = plainObject(root[store], `storage_config[${store}]`)
  const out: RequestedStorage = {}
  for (const [key, v] of Object.entries(section)) {
    const param = `storage_config[${store}][${key.slice(0, 64)}]`
    if (!(keys as readonly string[]).includes(key)) {
      throw invalid(`${param} is not supported; storage_config[${store}] takes ${keys.join(', ')}.`, { param })
    }
    if (typeof v !== 'string') throw invalid(`${param} must be a string.`, { param })
    out[key as keyof RequestedStorage] = v
  }
  return out
}

/** The object store behind a kind's files: S3 for Bedrock, Cloud Storage for Vertex; null elsewhere. */
export function storeOf(kind: ProviderKind): StoreKind | null {
  return kind === 'bedrock' ? 's3' : kind === 'vertex' ? 'gcs' : null
}

export function resolveStorage(instance: InstanceConfig, requested: RequestedStorage | null): S3Target | null {
  if (instance.kind === 'vertex') return resolveGcsStorage(instance, requested)
  if (instance.kind !== 'bedrock') return null
  const bucket = requested?.bucket ?? instance.settings.defaultBucket
  if (!bucket) {
    throw invalid('Bedrock uploads need an S3 bucket: send storage_config[s3][bucket] or configure BEDROCK_S3_BUCKET.', {
      param: 'storage_config',
    })
  }
  // The operator's own default bucket is always usable; only a bucket the caller names is bounded.
  if (requested?.bucket !== undefined) checkBucket(instance, bucket, 'storage_config[s3][bucket]')
  const region = requested?.region ?? instance.settings.region
  if (requested?.region !== undefined && !REGION.test(requested.region)) {
    throw invalid(`storage_config[s3][region] must be an AWS region such as us-east-1 (got '${requested.region.slice(0, 64)}').`, {
      param: 'storage_config[s3][region]',
    })
  }
  const prefix = (requested?.prefix ?? 'batchgate-input').replace(/^\/+|\/+$/g, '')
  checkPrefix(prefix, 'storage_config[s3][prefix]')
  return { bucket, region, prefix }
}

/**
 * A vertex instance's Cloud Storage place (region null: buckets are global). Like S3, a bucket the
 * caller names must be on the instance's `buckets` list, refused before any upstream call.
 */
function resolveGcsStorage(instance: Extract<InstanceConfig, { kind: 'vertex' }>, requested: RequestedStorage | null): S3Target {
  const bucket = requested?.bucket ?? instance.settings.defaultBucket
  if (requested?.bucket !== undefined) {
    if (!isGcsBucketName(bucket)) throw invalid(`'${bucket.slice(0, 80)}' is not a valid Cloud Storage bucket name.`, { param: 'storage_config[gcs][bucket]' })
    if (!instance.settings.buckets.includes(bucket)) {
      throw invalid(`Bucket '${bucket}' is not one this gateway may use (providers.${instance.name}.buckets).`, { param: 'storage_config[gcs][bucket]' })
    }
  }
  const prefix = (requested?.prefix ?? 'batchgate-input').replace(/^\/+|\/+$/g, '')
  checkPrefix(prefix, 'storage_config[gcs][prefix]')
  return { bucket, region: null, prefix }
}

/**
 * Validates `s3://bucket/prefix/`, its bucket against the allowlists of the instances given (one
 * must allow it: the dialect checks every Bedrock instance before it knows which one the input
 * file names, core/batch-create.ts then the one it does) and its prefix's characters.
 */
export function checkOutputUri(instances: readonly InstanceConfig[], uri: string): string {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri)
  if (!m || !isBucketName(m[1] as string)) {
    throw invalid(`output_s3_uri must look like s3://bucket/prefix/ (got '${uri.slice(0, 200)}').`, { param: 'output_s3_uri' })
  }
  const bucket = m[1] as string
  const allowing = instances.find((i) => i.kind === 'bedrock' && (i.settings.buckets ?? []).includes(bucket))
  checkBucket(allowing ?? instances[0] ?? null, bucket, 'output_s3_uri')
  checkPrefix((m[2] ?? '').replace(/\/+$/, ''), 'output_s3_uri')
  return uri.endsWith('/') ? uri : `${uri}/`
}

function checkBucket(instance: InstanceConfig | null, bucket: string, param: string): void {
  if (!isBucketName(bucket)) throw invalid(`'${bucket.slice(0, 80)}' is not a valid S3 bucket name.`, { param })
  const allowed = instance?.kind === 'bedrock' ? (instance.settings.buckets ?? []) : []
  if (!allowed.includes(bucket)) {
    const where = !instance || instance.name === 'bedrock' ? 'BATCHGATE_S3_BUCKETS' : `providers.${instance.name}.buckets`
    throw invalid(`Bucket '${bucket}' is not one this gateway may use (${where}).`, { param })
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
