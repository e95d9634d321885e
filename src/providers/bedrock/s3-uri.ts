// `s3://bucket/key` URIs: how Bedrock names its input and output, and how this adapter names
// S3 objects in file locations and result refs.

import { GatewayError } from '../../errors'

export interface S3Uri {
  bucket: string
  key: string
}

export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`
}

export function parseS3Uri(uri: string): S3Uri {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri)
  if (!m?.[1]) throw new GatewayError('internal', 'not an s3:// URI')
  return { bucket: m[1], key: m[2] ?? '' }
}

/** Bedrock writes a job's output under `{output uri}/{jobId}/` (spec bedrock.md §2.2). */
export function jobOutputPrefix(outputUri: string, jobArn: string): S3Uri {
  const { bucket, key } = parseS3Uri(outputUri)
  const base = key.replace(/\/+$/, '')
  return { bucket, key: `${base ? `${base}/` : ''}${jobIdOf(jobArn)}/` }
}

/** The job id is the ARN's last segment (12 lowercase alphanumerics, §1.1). */
export function jobIdOf(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1)
}
