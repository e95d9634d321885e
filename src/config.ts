// The only reader of process.env. Everything is validated once at start; a bad setting is a
// ConfigError listing every bad variable, which main.ts prints as one line before exiting 1.

import { readFileSync } from 'node:fs'
import { readConfigFile, TENANT_PATTERN, type TenantConfig } from './config/file'
import {
  type BedrockConfig,
  type EmulatedConfig,
  DEFAULT_BASE_URL,
  type InstanceConfig,
  type InstanceLimits,
  instanceLimits,
  isBucketName,
  isRoleArn,
  KIND_LIMITS,
  REGION_PATTERN,
} from './config/instances'
import { readReporting, REPORTING_SETTINGS, type ReportingConfig } from './config/reporting'
import { STORE_SETTINGS, type StoreConfig, storeConfig } from './config/store'
import type { ProviderName } from './core/provider-name'

export type { AnthropicConfig, AzureConfig, BedrockConfig, EmulatedConfig, GeminiConfig, InstanceConfig, InstanceLimits, MistralConfig, OpenAIConfig, ServiceAccountKey, VertexConfig } from './config/instances'
export type { TenantConfig } from './config/file'
export { isBucketName } from './config/instances'

/** Limits that hold for every provider; per-provider ones live on each instance. */
export interface Limits {
  /** Max bytes of one JSONL line. */
  maxLineBytes: number
  /** Max inline `requests` in one create call (Anthropic dialect, OpenAI extra_body.requests). */
  maxInlineRequests: number
  /** Max JSON body bytes for non-upload calls. */
  maxJsonBodyBytes: number
}

export interface Config {
  host: string
  port: number
  dataDir: string
  publicUrl: string | null
  /** secret → tenant; null when the gateway is open. */
  keys: ReadonlyMap<string, string> | null
  /** Tenants BATCHGATE_CONFIG declares (settings beyond the key hang here). */
  tenants: ReadonlyMap<string, TenantConfig>
  upstreamTimeoutMs: number
  upstreamRetries: number
  limits: Limits
  /** Provider instances by the name clients use: the env-configured ones, then BATCHGATE_CONFIG's. */
  providers: ReadonlyMap<ProviderName, InstanceConfig>
  /** Path of BATCHGATE_CONFIG, or null. */
  configFile: string | null
  /** Watcher, prices and webhooks (issue 15). */
  reporting: ReportingConfig
  /** SQLite (default) or PostgreSQL + bucket (config/store.ts). */
  store: StoreConfig
  /** Bearer token /metrics demands; null = open. */
  metricsToken: string | null
  /** false (BATCHGATE_INSTRUMENTATION=off): no metrics, access log or traces — to measure their cost. */
  instrumentation: boolean
  /** Worker threads converting one spooled upload (BATCHGATE_CONVERT_WORKERS); 1 = the request's own thread. */
  convertWorkers: number
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

const MB = 1024 * 1024

/** Every setting with its default, for `--help`. */
export const SETTINGS: ReadonlyArray<[name: string, fallback: string, meaning: string]> = [
  ['BATCHGATE_HOST', '0.0.0.0', 'address to listen on'],
  ['BATCHGATE_PORT', '8080', 'port to listen on'],
  ['BATCHGATE_DATA_DIR', './data', 'SQLite database, blob store and upload spool'],
  ...STORE_SETTINGS,
  ['BATCHGATE_PUBLIC_URL', '(request origin)', 'base URL clients reach the gateway at (Anthropic results_url)'],
  ['BATCHGATE_CONFIG', '(none)', 'TOML file with [tenants.NAME] and [providers.NAME] tables (docs/deploy.md)'],
  ['BATCHGATE_KEYS', '(open gateway)', 'virtual keys: tenant=secret,tenant2=secret2'],
  ['BATCHGATE_KEYS_FILE', '(none)', 'file with one tenant=secret per line (adds to BATCHGATE_KEYS)'],
  ['BATCHGATE_S3_BUCKETS', '(BEDROCK_S3_BUCKET)', 'comma-separated buckets clients may name'],
  ['BATCHGATE_UPSTREAM_TIMEOUT_MS', '120000', 'timeout of one upstream call'],
  ['BATCHGATE_UPSTREAM_RETRIES', '2', 'retries of idempotent upstream calls (429/5xx/network)'],
  ['BATCHGATE_MAX_UPLOAD_BYTES', "(each provider's own)", 'caps upload bytes (own: openai 512 MiB, anthropic 500 MiB, gemini 2 GiB, bedrock 5 GiB)'],
  ['BATCHGATE_MAX_LINE_BYTES', String(10 * MB), 'max bytes of one JSONL line'],
  ['BATCHGATE_MAX_BATCH_REQUESTS', "(each provider's own)", 'caps requests per batch (own: openai 50000, anthropic 100000, gemini and bedrock 1000000)'],
  ['BATCHGATE_MAX_INLINE_REQUESTS', '100000', 'max inline requests in one create call'],
  ['BATCHGATE_MAX_JSON_BODY_BYTES', String(256 * MB), 'max bytes of a JSON request body'],
  ['BATCHGATE_METRICS_TOKEN', '(open)', 'bearer token GET /metrics requires'],
  ['BATCHGATE_INSTRUMENTATION', 'on', 'off turns off metrics, the access log and traces (to measure their cost)'],
  ['BATCHGATE_CONVERT_WORKERS', '1', 'worker threads converting one spooled upload of ≥ 64 MiB (2–16: only where cores sit idle; docs/benchmark.md)'],
  ['OPENAI_API_KEY', '(provider off)', 'OpenAI key'],
  ['OPENAI_BASE_URL', 'https://api.openai.com/v1', 'OpenAI base URL, including /v1'],
  ['ANTHROPIC_API_KEY', '(provider off)', 'Anthropic key'],
  ['ANTHROPIC_BASE_URL', 'https://api.anthropic.com', 'Anthropic base URL'],
  ['GEMINI_API_KEY', '(provider off)', 'Gemini (AI Studio) key'],
  ['GEMINI_BASE_URL', 'https://generativelanguage.googleapis.com', 'Gemini base URL'],
  ['AWS_ACCESS_KEY_ID', '(provider off)', 'AWS access key for Bedrock and S3'],
  ['AWS_SECRET_ACCESS_KEY', '(provider off)', 'AWS secret key'],
  ['AWS_SESSION_TOKEN', '(none)', 'AWS session token for temporary credentials'],
  ['AWS_REGION', 'us-east-1', 'AWS region'],
  ['BEDROCK_BASE_URL', 'https://bedrock.{region}.amazonaws.com', 'Bedrock control-plane URL'],
  ['S3_ENDPOINT', '(AWS S3, virtual-hosted)', 'custom S3 endpoint; path-style when set'],
  ['BEDROCK_ROLE_ARN', '(none)', 'IAM role Bedrock assumes for batch jobs'],
  ['BEDROCK_S3_BUCKET', '(none)', 'default bucket for Bedrock batch input and output'],
  ['BATCHGATE_EMULATED_URL', '(provider off)', 'OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM …, incl. /v1): provider `emulated`, batches run by the gateway'],
  ['BATCHGATE_EMULATED_API_KEY', '(none)', 'Bearer key for BATCHGATE_EMULATED_URL, when the server wants one'],
  ...REPORTING_SETTINGS,
]

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = []
  const str = (name: string): string | null => {
    const v = env[name]?.trim()
    return v ? v : null
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name)
    if (raw === null) return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got '${raw}')`)
      return fallback
    }
    return n
  }
  /** An operator cap on a per-provider limit: null (no cap) when unset. */
  const optionalInt = (name: string, min: number, max: number): number | null =>
    str(name) === null ? null : int(name, max, min, max)
  const url = (name: string, fallback: string): string => {
    const raw = str(name) ?? fallback
    try {
      const u = new URL(raw)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
    } catch {
      problems.push(`${name} must be an http(s) URL (got '${raw}')`)
    }
    return raw.replace(/\/+$/, '')
  }

  const region = str('AWS_REGION') ?? str('AWS_DEFAULT_REGION') ?? 'us-east-1'
  if (!REGION_PATTERN.test(region)) problems.push(`AWS_REGION must look like us-east-1 (got '${region}')`)
  const caps: Partial<InstanceLimits> = {}
  const uploadCap = optionalInt('BATCHGATE_MAX_UPLOAD_BYTES', 1, KIND_LIMITS.bedrock.maxUploadBytes)
  if (uploadCap !== null) caps.maxUploadBytes = uploadCap
  const requestCap = optionalInt('BATCHGATE_MAX_BATCH_REQUESTS', 1, KIND_LIMITS.bedrock.maxBatchRequests)
  if (requestCap !== null) caps.maxBatchRequests = requestCap

  const providers = new Map<ProviderName, InstanceConfig>()
  for (const instance of envInstances(str, url, region, caps, problems)) providers.set(instance.name, instance)
  const configFile = str('BATCHGATE_CONFIG')
  const file = configFile === null ? null : readConfigFile(configFile, env, caps, problems)
  // A file instance named like an env one replaces it: the file is the more explicit setting.
  for (const instance of file?.providers ?? []) providers.set(instance.name, instance)

  const keys = parseKeys(str('BATCHGATE_KEYS'), str('BATCHGATE_KEYS_FILE'), problems)
  const tenants = new Map<string, TenantConfig>()
  const allKeys = tenantKeys(keys, file?.tenants ?? [], tenants, configFile ?? '', problems)
  const instrumentation = str('BATCHGATE_INSTRUMENTATION') ?? 'on'
  if (instrumentation !== 'on' && instrumentation !== 'off') problems.push(`BATCHGATE_INSTRUMENTATION must be on or off (got '${instrumentation}')`)
  const publicUrl = str('BATCHGATE_PUBLIC_URL') === null ? null : url('BATCHGATE_PUBLIC_URL', '')

  const config: Config = {
    host: str('BATCHGATE_HOST') ?? '0.0.0.0',
    port: int('BATCHGATE_PORT', 8080, 0, 65535),
    dataDir: str('BATCHGATE_DATA_DIR') ?? './data',
    publicUrl,
    keys: allKeys,
    tenants,
    upstreamTimeoutMs: int('BATCHGATE_UPSTREAM_TIMEOUT_MS', 120_000, 100, 3_600_000),
    upstreamRetries: int('BATCHGATE_UPSTREAM_RETRIES', 2, 0, 10),
    limits: {
      maxLineBytes: int('BATCHGATE_MAX_LINE_BYTES', 10 * MB, 1024, 256 * MB),
      maxInlineRequests: int('BATCHGATE_MAX_INLINE_REQUESTS', 100_000, 1, 1_000_000),
      maxJsonBodyBytes: int('BATCHGATE_MAX_JSON_BODY_BYTES', 256 * MB, 1024, 1024 * MB),
    },
    providers,
    configFile,
    reporting: readReporting({ str, int, url }, problems),
    store: storeConfig(str, int, region, problems),
    metricsToken: str('BATCHGATE_METRICS_TOKEN'),
    instrumentation: instrumentation !== 'off',
    convertWorkers: int('BATCHGATE_CONVERT_WORKERS', 1, 1, 16),
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** The four providers the fixed environment variables configure, each named after its kind. */
function envInstances(
  str: (name: string) => string | null,
  url: (name: string, fallback: string) => string,
  region: string,
  caps: Partial<InstanceLimits>,
  problems: string[],
): InstanceConfig[] {
  const out: InstanceConfig[] = []
  const common = { defaultModel: null }
  for (const kind of ['openai', 'anthropic', 'gemini'] as const) {
    const apiKey = str(`${kind.toUpperCase()}_API_KEY`)
    if (apiKey === null) continue
    const baseUrl = url(`${kind.toUpperCase()}_BASE_URL`, DEFAULT_BASE_URL[kind](region))
    out.push({ ...common, name: kind, kind, limits: instanceLimits(kind, caps), settings: { apiKey, baseUrl } })
  }

  const awsKey = str('AWS_ACCESS_KEY_ID')
  const awsSecret = str('AWS_SECRET_ACCESS_KEY')
  if ((awsKey === null) !== (awsSecret === null)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together')
  }
  const roleArn = str('BEDROCK_ROLE_ARN')
  if (roleArn !== null && !isRoleArn(roleArn)) problems.push(`BEDROCK_ROLE_ARN must be an IAM role ARN (got '${roleArn}')`)
  const bucket = str('BEDROCK_S3_BUCKET')
  if (bucket !== null && !isBucketName(bucket)) problems.push(`BEDROCK_S3_BUCKET is not a valid bucket name ('${bucket}')`)
  const buckets = (str('BATCHGATE_S3_BUCKETS')?.split(',') ?? (bucket ? [bucket] : [])).map((b) => b.trim()).filter(Boolean)
  for (const b of buckets) if (!isBucketName(b)) problems.push(`BATCHGATE_S3_BUCKETS has an invalid bucket name '${b}'`)
  if (awsKey && awsSecret) {
    const settings: BedrockConfig = {
      accessKeyId: awsKey,
      secretAccessKey: awsSecret,
      sessionToken: str('AWS_SESSION_TOKEN'),
      region,
      baseUrl: url('BEDROCK_BASE_URL', DEFAULT_BASE_URL.bedrock(region)),
      s3Endpoint: str('S3_ENDPOINT') === null ? null : url('S3_ENDPOINT', ''),
      roleArn,
      defaultBucket: bucket,
      buckets,
    }
    out.push({ ...common, name: 'bedrock', kind: 'bedrock', limits: instanceLimits('bedrock', caps), settings })
  }
  // Issue 17: one line to try the gateway with a local model server and no cloud account.
  if (str('BATCHGATE_EMULATED_URL') !== null) {
    const settings: EmulatedConfig = {
      baseUrl: url('BATCHGATE_EMULATED_URL', '').replace(/\/+$/, ''),
      apiKey: str('BATCHGATE_EMULATED_API_KEY'),
      concurrency: 8,
      requestsPerMinute: null,
      tokensPerMinute: null,
      completionWindowSeconds: null,
      models: null,
      requestTimeoutMs: 600_000,
    }
    out.push({ ...common, name: 'emulated', kind: 'emulated', limits: instanceLimits('emulated', caps), settings })
  }
  return out
}

/** BATCHGATE_KEYS plus the file's tenants: one secret → tenant map, or null for an open gateway. */
function tenantKeys(
  envKeys: Map<string, string> | null,
  fileTenants: readonly TenantConfig[],
  tenants: Map<string, TenantConfig>,
  file: string,
  problems: string[],
): Map<string, string> | null {
  if (envKeys === null && fileTenants.length === 0) return null
  const keys = new Map(envKeys ?? [])
  const named = new Set(keys.values())
  for (const t of fileTenants) {
    tenants.set(t.name, t)
    if (t.key === null) {
      if (!named.has(t.name) && TENANT_PATTERN.test(t.name)) {
        problems.push(`${file}: tenants.${t.name} has no key (key_env, key_file, or an entry in BATCHGATE_KEYS)`)
      }
      continue
    }
    const owner = keys.get(t.key)
    if (owner !== undefined && owner !== t.name) problems.push(`${file}: tenants.${t.name} repeats another tenant's key`)
    keys.set(t.key, t.name)
  }
  return keys
}

function parseKeys(inline: string | null, file: string | null, problems: string[]): Map<string, string> | null {
  if (inline === null && file === null) return null
  const entries: string[] = inline ? inline.split(',') : []
  if (file !== null) {
    try {
      entries.push(...readFileSync(file, 'utf8').split('\n'))
    } catch {
      problems.push(`BATCHGATE_KEYS_FILE cannot be read ('${file}')`)
    }
  }
  const keys = new Map<string, string>()
  for (const [i, raw] of entries.entries()) {
    const entry = raw.trim()
    if (!entry || entry.startsWith('#')) continue
    const eq = entry.indexOf('=')
    const tenant = entry.slice(0, eq).trim()
    const secret = entry.slice(eq + 1).trim()
    // Never echo the secret itself: the entry is named by position only.
    if (eq <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(tenant) || secret.length < 8) {
      problems.push(`virtual key #${i + 1} must be tenant=secret (tenant [A-Za-z0-9_.-], secret ≥ 8 chars)`)
      continue
    }
    if (keys.has(secret)) problems.push(`virtual key #${i + 1} repeats another tenant's secret`)
    keys.set(secret, tenant)
  }
  if (keys.size === 0) problems.push('BATCHGATE_KEYS is set but holds no key')
  return keys
}

export function configuredProviders(config: Config): ProviderName[] {
  return [...config.providers.keys()]
}
