// `[providers.NAME] kind = "vertex"`: project, location, buckets and Google credentials by
// reference (a service-account key file, or a file a workload-identity agent keeps an access token
// in). The key file is read once at start so a wrong path or a file that is no key is a start-up
// line, never a first-request failure; its contents are never printed.

import { readFileSync } from 'node:fs'
import type { ServiceAccountKey, VertexConfig } from './instances'
import type { Section } from './section'

const LOCATION = /^(global|[a-z]+-[a-z]+\d+)$/
/** Project ids: 6–30 lower-case letters, digits and hyphens, starting with a letter. */
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/

/** The location's regional endpoint; `global` has none of its own prefix. */
export function vertexBaseUrl(location: string): string {
  return location === 'global' || location === '' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`
}

/** Cloud Storage bucket names: lower-case letters, digits, `-`, `_` and `.` (3–222 with dots). */
export function isGcsBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name) && !name.includes('..') && name.split('.').every((p) => p.length <= 63)
}

/** Settings of a vertex instance; on any problem the section holds its line (the value is then unused). */
export function readVertex(s: Section): VertexConfig {
  const project = s.string('project', { pattern: PROJECT, like: 'my-project-123' })
  if (project === null && !s.problems.some((p) => p.startsWith(`${s.path}.project`))) s.problem('project', 'is required for vertex (the Google Cloud project id)')
  const location = s.string('location', { pattern: LOCATION, like: 'us-central1' }) ?? 'us-central1'
  const bucketName = (b: string) => (isGcsBucketName(b) ? null : `has an invalid bucket name '${b.slice(0, 80)}'`)
  const bucket = s.string('bucket')
  if (bucket === null && !s.problems.some((p) => p.startsWith(`${s.path}.bucket`))) {
    s.problem('bucket', 'is required for vertex (the Cloud Storage bucket batch input and output go to)')
  } else if (bucket !== null && bucketName(bucket)) s.problem('bucket', bucketName(bucket) as string)
  const listed = s.strings('buckets', bucketName) ?? []
  const credentialsFile = s.string('credentials_file')
  const tokenFile = s.string('token_file')
  if ((credentialsFile === null) === (tokenFile === null)) {
    s.problem(null, 'needs one of credentials_file (a service-account key JSON) or token_file (a file holding an access token)')
  }
  const tokenUrl = s.url('token_url')
  const key = credentialsFile === null ? null : readKeyFile(s, credentialsFile)
  return {
    project: project ?? '',
    location,
    baseUrl: (s.url('base_url') ?? vertexBaseUrl(location)).replace(/\/+$/, ''),
    storageUrl: (s.url('storage_url') ?? 'https://storage.googleapis.com').replace(/\/+$/, ''),
    serviceAccount: key && tokenUrl ? { ...key, tokenUri: tokenUrl } : key,
    tokenFile,
    defaultBucket: bucket ?? '',
    buckets: [...new Set([...(bucket ? [bucket] : []), ...listed])],
  }
}

function readKeyFile(s: Section, path: string): ServiceAccountKey | null {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const code = (err as { code?: string }).code
    s.problem('credentials_file', code ? `names '${path}', which cannot be read (${code})` : `names '${path}', which is not JSON`)
    return null
  }
  const k = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
  const clientEmail = str(k.client_email)
  const privateKey = str(k.private_key)
  const tokenUri = str(k.token_uri) ?? 'https://oauth2.googleapis.com/token'
  if (k.type !== 'service_account' || !clientEmail || !privateKey?.includes('-----BEGIN PRIVATE KEY-----')) {
    s.problem('credentials_file', `names '${path}', which is not a service-account key (type "service_account" with client_email and a PKCS#8 private_key)`)
    return null
  }
  return { clientEmail, privateKey, privateKeyId: str(k.private_key_id), tokenUri }
}
