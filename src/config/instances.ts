// Provider instances: one kind's settings plus the name clients use and that instance's limits.
// The fixed environment variables make the instances named openai/anthropic/gemini/bedrock;
// `[providers.NAME]` tables of BATCHGATE_CONFIG make any number more (config/file.ts).

import type { ProviderKind, ProviderName } from '../core/provider-name'
import type { Section } from './section'
import { readVertex, vertexBaseUrl } from './vertex'

export interface OpenAIConfig {
  apiKey: string
  baseUrl: string
}
export interface AnthropicConfig {
  apiKey: string
  baseUrl: string
}
export interface GeminiConfig {
  apiKey: string
  baseUrl: string
}
/** `Authorization: Bearer` key; base URL without `/v1` (the API's paths carry it). */
export interface MistralConfig {
  apiKey: string
  baseUrl: string
}
export interface AzureConfig {
  /** The resource endpoint, e.g. https://NAME.openai.azure.com (calls go under /openai). */
  endpoint: string
  apiVersion: string
  /** The resource key (`api-key` header), or null when a Microsoft Entra token is used. */
  apiKey: string | null
  /** File holding the current Entra access token, re-read on every call (refreshed outside). */
  tokenFile: string | null
}
/** A Google service-account key (the JSON file's fields this gateway uses). */
export interface ServiceAccountKey {
  clientEmail: string
  /** PKCS#8 PEM, as Google issues it. */
  privateKey: string
  privateKeyId: string | null
  /** Where the signed assertion is exchanged for an access token. */
  tokenUri: string
}

/** kind = "vertex": Vertex AI batch prediction for Gemini models, input and output in GCS. */
export interface VertexConfig {
  project: string
  location: string
  /** aiplatform endpoint, e.g. https://us-central1-aiplatform.googleapis.com (calls go under /v1). */
  baseUrl: string
  /** Cloud Storage JSON API endpoint (https://storage.googleapis.com). */
  storageUrl: string
  /** The service account's own key, or null when an access token is read from `tokenFile`. */
  serviceAccount: ServiceAccountKey | null
  /** File holding a current access token (workload identity, a sidecar), re-read on every call. */
  tokenFile: string | null
  /** Where uploads go unless `storage_config[gcs][bucket]` names another allowed bucket. */
  defaultBucket: string
  /** Buckets callers may name (the default bucket is always one). */
  buckets: readonly string[]
}

export interface BedrockConfig {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string | null
  region: string
  baseUrl: string
  /** Custom S3 endpoint (fakes, MinIO): path-style addressing when set. */
  s3Endpoint: string | null
  roleArn: string | null
  defaultBucket: string | null
  /** Buckets `storage_config` and `output_s3_uri` may name (issue 7 §3); core/s3-targets.ts reads it. */
  buckets?: readonly string[]
}

/** kind = "emulated": the gateway runs batches itself over an OpenAI-compatible endpoint (issue 17). */
export interface EmulatedConfig {
  /** e.g. http://localhost:11434/v1; requests go to {baseUrl}/chat/completions. */
  baseUrl: string
  /** Sent as `Authorization: Bearer …` when set (local servers often need none). */
  apiKey: string | null
  /** Requests in flight at once for one batch. */
  concurrency: number
  requestsPerMinute: number | null
  tokensPerMinute: number | null
  /** Caps every batch's completion window (seconds); null: the window the client asked for. */
  completionWindowSeconds: number | null
  /** Models batches may name; null: any. */
  models: readonly string[] | null
  /** One request's time limit. */
  requestTimeoutMs: number
}

export interface InstanceLimits {
  /** Max upload size in bytes. */
  maxUploadBytes: number
  /** Max requests in one batch. */
  maxBatchRequests: number
  /**
   * Max size of a file made through the gateway's Uploads API: more than maxUploadBytes where the
   * kind takes larger files through its own Uploads API (OpenAI: 512 MB per POST, 8 GB per Upload).
   */
  maxUploadsApiBytes: number
}

type KindLimits = Omit<InstanceLimits, 'maxUploadsApiBytes'>

interface Instance<K extends ProviderKind, S> {
  name: ProviderName
  kind: K
  limits: InstanceLimits
  /** Model a batch gets when neither the create call nor its input names one. */
  defaultModel: string | null
  settings: S
}

export type InstanceConfig =
  | Instance<'openai', OpenAIConfig>
  | Instance<'anthropic', AnthropicConfig>
  | Instance<'gemini', GeminiConfig>
  | Instance<'vertex', VertexConfig>
  | Instance<'bedrock', BedrockConfig>
  | Instance<'groq', OpenAIConfig>
  | Instance<'azure-openai', AzureConfig>
  | Instance<'mistral', MistralConfig>
  | Instance<'emulated', EmulatedConfig>

export type InstanceOf<K extends ProviderKind> = Extract<InstanceConfig, { kind: K }>

const MB = 1024 * 1024

/** Each kind's own limits (spec README §4); instances and BATCHGATE_MAX_* may only lower them. */
export const KIND_LIMITS: Record<ProviderKind, KindLimits> = {
  openai: { maxUploadBytes: 512 * MB, maxBatchRequests: 50_000 },
  anthropic: { maxUploadBytes: 500 * MB, maxBatchRequests: 100_000 },
  // Gemini and Bedrock batch sizes are unverified quotas; S3 takes 5 GiB in one PUT.
  gemini: { maxUploadBytes: 2048 * MB, maxBatchRequests: 1_000_000 },
  bedrock: { maxUploadBytes: 5120 * MB, maxBatchRequests: 1_000_000 },
  // Vertex batch prediction for Gemini: up to 200 000 requests in one job; the input file is a
  // GCS object (up to 1 GB per batch input per the Vertex quotas page).
  vertex: { maxUploadBytes: 1024 * MB, maxBatchRequests: 200_000 },
  // groq-sdk: batch input files up to 100 MB; console.groq.com/docs/batch: 50 000 lines.
  groq: { maxUploadBytes: 100 * MB, maxBatchRequests: 50_000 },
  // Azure OpenAI batch: input files up to 200 MB and 100 000 requests.
  'azure-openai': { maxUploadBytes: 200 * MB, maxBatchRequests: 100_000 },
  // Mistral batch: up to 1 million requests per job; the files API takes files up to 512 MB.
  mistral: { maxUploadBytes: 512 * MB, maxBatchRequests: 1_000_000 },
  // Emulated batches are bounded by the gateway's own store, not by an upstream quota.
  emulated: { maxUploadBytes: 512 * MB, maxBatchRequests: 1_000_000 },
}

/** Kinds whose own Uploads API takes more than one POST /files (the adapter relays through it). */
const UPLOADS_API_BYTES: Partial<Record<ProviderKind, number>> = { openai: 8192 * MB }

export const DEFAULT_BASE_URL: Record<ProviderKind, (region: string) => string> = {
  openai: () => 'https://api.openai.com/v1',
  anthropic: () => 'https://api.anthropic.com',
  gemini: () => 'https://generativelanguage.googleapis.com',
  bedrock: (region) => `https://bedrock.${region}.amazonaws.com`,
  vertex: vertexBaseUrl,
  groq: () => 'https://api.groq.com/openai/v1',
  // Every Azure resource has its own endpoint: base_url is required (readInstance).
  'azure-openai': () => '',
  mistral: () => 'https://api.mistral.ai',
  // An emulated instance names its server: base_url is required (readInstance).
  emulated: () => '',
}

/** The Azure data-plane API version used unless an instance sets `api_version` (GA, with Batch). */
export const AZURE_API_VERSION = '2024-10-21'

export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/

export function isBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..')
}

export function isRoleArn(arn: string): boolean {
  return /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/.test(arn)
}

/** The kind's limits, lowered by the operator's caps (instance settings, then BATCHGATE_MAX_*). */
export function instanceLimits(kind: ProviderKind, ...caps: Array<Partial<InstanceLimits>>): InstanceLimits {
  const out = { ...KIND_LIMITS[kind], maxUploadsApiBytes: UPLOADS_API_BYTES[kind] ?? KIND_LIMITS[kind].maxUploadBytes }
  for (const cap of caps) {
    if (cap.maxUploadBytes !== undefined) {
      out.maxUploadBytes = Math.min(out.maxUploadBytes, cap.maxUploadBytes)
      // An operator's byte cap is a cap on every file, however it arrives.
      out.maxUploadsApiBytes = Math.min(out.maxUploadsApiBytes, cap.maxUploadBytes)
    }
    if (cap.maxBatchRequests !== undefined) out.maxBatchRequests = Math.min(out.maxBatchRequests, cap.maxBatchRequests)
  }
  return out
}

/**
 * `[providers.NAME]` → an instance, reading the keys its kind takes. The caller has read `kind`
 * and calls `finish()` after, so a key another kind takes is still reported as unknown here.
 */
export function readInstance(s: Section, name: string, kind: ProviderKind, caps: Partial<InstanceLimits>): InstanceConfig | null {
  const own: Partial<InstanceLimits> = {}
  const upload = s.int('max_upload_bytes', 1, KIND_LIMITS[kind].maxUploadBytes)
  if (upload !== null) own.maxUploadBytes = upload
  const requests = s.int('max_batch_requests', 1, KIND_LIMITS[kind].maxBatchRequests)
  if (requests !== null) own.maxBatchRequests = requests
  const common = { name, limits: instanceLimits(kind, own, caps), defaultModel: s.string('default_model') }
  const required = <T>(value: T | null, key: string): T | null => {
    if (value === null && !s.problems.some((p) => p.startsWith(`${s.path}.${key}`))) {
      s.problem(null, `needs ${key}_env or ${key}_file`)
    }
    return value
  }
  switch (kind) {
    case 'openai':
    case 'anthropic':
    case 'gemini':
    case 'groq':
    case 'mistral': {
      const apiKey = required(s.secret('api_key'), 'api_key')
      const baseUrl = s.url('base_url') ?? DEFAULT_BASE_URL[kind]('')
      if (apiKey === null) return null
      return { ...common, kind, settings: { apiKey, baseUrl } } as InstanceConfig
    }
    case 'azure-openai': {
      const endpoint = s.url('base_url')
      if (endpoint === null && !s.problems.some((p) => p.startsWith(`${s.path}.base_url`))) {
        s.problem('base_url', 'is required for azure-openai (the resource endpoint, e.g. https://NAME.openai.azure.com)')
      }
      const apiVersion = s.string('api_version', { pattern: /^\d{4}-\d{2}-\d{2}(-preview)?$/, like: '2024-10-21' }) ?? AZURE_API_VERSION
      const apiKey = s.secret('api_key')
      const tokenFile = s.string('token_file')
      if ((apiKey === null) === (tokenFile === null) && !s.problems.some((p) => p.startsWith(`${s.path}.api_key`))) {
        s.problem(null, 'needs one of api_key_env, api_key_file (resource key) or token_file (Microsoft Entra token)')
      }
      if (endpoint === null || (apiKey === null && tokenFile === null)) return null
      return { ...common, kind, settings: { endpoint: endpoint.replace(/\/openai$/, ''), apiVersion, apiKey, tokenFile } }
    }
    case 'emulated': {
      const baseUrl = s.url('base_url')
      if (baseUrl === null && !s.problems.some((p) => p.startsWith(`${s.path}.base_url`))) {
        s.problem('base_url', 'is required for emulated (an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1)')
      }
      const settings: EmulatedConfig = {
        baseUrl: (baseUrl ?? '').replace(/\/+$/, ''),
        apiKey: s.secret('api_key'),
        concurrency: s.int('concurrency', 1, 4096) ?? 8,
        requestsPerMinute: s.int('requests_per_minute', 1, 100_000_000),
        tokensPerMinute: s.int('tokens_per_minute', 1, 1_000_000_000_000),
        completionWindowSeconds: durationSeconds(s, 'completion_window'),
        models: s.strings('models'),
        requestTimeoutMs: (s.int('request_timeout_seconds', 1, 86_400) ?? 600) * 1000,
      }
      if (baseUrl === null) return null
      return { ...common, kind, settings }
    }
    case 'vertex':
      return { ...common, kind, settings: readVertex(s) } as InstanceConfig
    case 'bedrock': {
      const accessKeyId = required(s.secret('access_key_id'), 'access_key_id')
      const secretAccessKey = required(s.secret('secret_access_key'), 'secret_access_key')
      const sessionToken = s.secret('session_token')
      const region = s.string('region', { pattern: REGION_PATTERN, like: 'us-east-1' }) ?? 'us-east-1'
      const roleArn = s.string('role_arn')
      if (roleArn !== null && !isRoleArn(roleArn)) s.problem('role_arn', `must be an IAM role ARN (got '${roleArn.slice(0, 80)}')`)
      const bucketName = (b: string) => (isBucketName(b) ? null : `has an invalid bucket name '${b.slice(0, 80)}'`)
      const bucket = s.string('bucket')
      if (bucket !== null && bucketName(bucket)) s.problem('bucket', bucketName(bucket) as string)
      const buckets = s.strings('buckets', bucketName) ?? (bucket ? [bucket] : [])
      const settings: BedrockConfig = {
        accessKeyId: accessKeyId ?? '',
        secretAccessKey: secretAccessKey ?? '',
        sessionToken,
        region,
        baseUrl: s.url('base_url') ?? DEFAULT_BASE_URL.bedrock(region),
        s3Endpoint: s.url('s3_endpoint'),
        roleArn,
        defaultBucket: bucket,
        buckets,
      }
      if (accessKeyId === null || secretAccessKey === null) return null
      return { ...common, kind, settings }
    }
  }
}

/** `"90s"`, `"30m"`, `"24h"`, `"7d"` → seconds; null when the key is absent (a problem when malformed). */
function durationSeconds(s: Section, key: string): number | null {
  const raw = s.string(key, { pattern: /^\d{1,6}[smhd]$/, like: '24h' })
  if (raw === null) return null
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[raw.at(-1) as 's' | 'm' | 'h' | 'd']
  return Number(raw.slice(0, -1)) * unit
}

/** Every credential an instance holds, for the log redaction list. */
export function instanceSecrets(instance: InstanceConfig): Array<string | null> {
  switch (instance.kind) {
    case 'bedrock':
      return [instance.settings.accessKeyId, instance.settings.secretAccessKey, instance.settings.sessionToken]
    case 'azure-openai':
      return [instance.settings.apiKey]
    case 'vertex':
      return [instance.settings.serviceAccount?.privateKey ?? null]
    default:
      return [instance.settings.apiKey]
  }
}

/** Every upstream origin an instance talks to, which client-facing errors never name. */
export function instanceUpstreams(instance: InstanceConfig): Array<string | null> {
  switch (instance.kind) {
    case 'bedrock':
      return [instance.settings.baseUrl, instance.settings.s3Endpoint]
    case 'azure-openai':
      return [instance.settings.endpoint]
    case 'vertex':
      return [instance.settings.baseUrl, instance.settings.storageUrl, instance.settings.serviceAccount?.tokenUri ?? null]
    default:
      return [instance.settings.baseUrl]
  }
}
