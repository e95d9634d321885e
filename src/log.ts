// JSON-lines logger, and the one redaction list for secrets: provider keys, virtual keys, SigV4
// signatures and presigned-URL parameters never reach a log line (issue 7 §10), and error
// messages sent to clients additionally lose the upstream base URLs (`redactForClient`).

import type { Config } from './config'
import { instanceSecrets, instanceUpstreams } from './config/instances'
import { currentRequest } from './ops/context'

type Level = 'debug' | 'info' | 'warn' | 'error'

const secrets = new Set<string>()
/**
 * Secrets short enough to be a word ("test", a short virtual key) are cut only where they stand
 * as a whole token, so "latest" or "requests" survive a secret "test"; long ones everywhere.
 */
const SHORT_SECRET = 16
let shortSecrets: RegExp | null = null
const upstreams = new Set<string>()

/** Registers values (keys, secrets) that must never appear in a log line or an error body. */
export function registerSecrets(values: Iterable<string | null | undefined>): void {
  for (const v of values) {
    if (!v || v.length < 4) continue
    secrets.add(v)
    // Log lines are JSON: a secret holding `"` or a backslash appears there in its escaped form.
    secrets.add(JSON.stringify(v).slice(1, -1))
  }
  const short = [...secrets].filter((s) => s.length < SHORT_SECRET).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  shortSecrets = short.length > 0 ? new RegExp(`(?<![\\w-])(?:${short.join('|')})(?![\\w-])`, 'g') : null
}

/** Registers upstream base URLs: clients are told which provider failed, never where it lives. */
export function registerUpstreams(urls: Iterable<string | null | undefined>): void {
  for (const url of urls) {
    if (!url) continue
    try {
      upstreams.add(new URL(url).origin)
    } catch {
      // config.ts has already rejected unparsable URLs; nothing else reaches here.
    }
  }
}

/** Every credential the config holds, and where the upstreams live. */
export function registerConfigSecrets(config: Config): void {
  const instances = [...config.providers.values()]
  registerSecrets([
    ...instances.flatMap(instanceSecrets),
    ...(config.keys?.keys() ?? []),
    config.reporting.webhook?.secret,
    config.reporting.adminKey,
    ...[...config.tenants.values()].map((t) => t.webhook?.secret),
    databasePassword(config.store.databaseUrl),
    config.store.blobAws?.secretAccessKey,
    config.store.blobAws?.sessionToken ?? undefined,
    config.metricsToken,
  ])
  registerUpstreams(instances.flatMap(instanceUpstreams))
}

const PATTERNS: Array<[RegExp, string]> = [
  // SigV4 Authorization header (`Credential=AKID/…, Signature=hex`) and presigned query strings.
  [/(Signature=)[0-9a-f]{16,}/gi, '$1[redacted]'],
  [/(Credential=)[^,&\s"]+/gi, '$1[redacted]'],
  [/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"]+/gi, '$1[redacted]'],
  // Placeholders (`Bearer <key>`) and the scheme word after `Authorization:` are guidance, not
  // secrets: the gateway's own messages say how to authenticate and must read intact.
  [/(Bearer\s+)(?!<)[^\s"']+/gi, '$1[redacted]'],
  [/(Basic\s+)(?!<)[A-Za-z0-9+/=]{8,}/g, '$1[redacted]'],
  [/((?:x-api-key|x-goog-api-key|authorization|x-amz-security-token)["']?\s*[:=]\s*["']?)(?!<|Bearer\b|Basic\b|AWS4-HMAC-SHA256\b)[^\s"',}]+/gi, '$1[redacted]'],
  // Google API keys in a query (`?key=`) and resumable-upload session ids (a bearer capability).
  [/([?&](?:key|upload_id)=)[^&\s"]+/gi, '$1[redacted]'],
]

export function redact(text: string): string {
  let out = text
  for (const s of secrets) if (s.length >= SHORT_SECRET && out.includes(s)) out = out.split(s).join('[redacted]')
  if (shortSecrets) out = out.replace(shortSecrets, '[redacted]')
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl)
  return out
}

/** What may be echoed to a client: redacted, and with every upstream origin replaced. */
export function redactForClient(text: string): string {
  let out = redact(text)
  for (const origin of upstreams) if (out.includes(origin)) out = out.split(origin).join('[upstream]')
  return out
}

let minLevel: Level = 'info'
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export function setLogLevel(level: Level): void {
  minLevel = level
}

type Sink = (level: Level, line: string) => void

const stdio: Sink = (level, line) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`)
  else process.stdout.write(`${line}\n`)
}
let sink: Sink = stdio

/** Sends log lines (already redacted) somewhere else; `null` restores stdout/stderr. For tests. */
export function setLogSink(next: Sink | null): void {
  sink = next ?? stdio
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[minLevel]) return
  // Every line written while serving a request names it (see ops/context.ts).
  const requestId = currentRequest()?.requestId
  const line = requestId === undefined ? { t: new Date().toISOString(), level, msg, ...fields } : { t: new Date().toISOString(), level, msg, request_id: requestId, ...fields }
  sink(level, redact(JSON.stringify(line)))
}

/** The password inside BATCHGATE_DATABASE_URL, if any (a driver error could echo it). */
function databasePassword(url: string | null): string | undefined {
  if (!url) return undefined
  try {
    return decodeURIComponent(new URL(url).password) || undefined
  } catch {
    return undefined
  }
}
