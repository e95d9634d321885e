// JSON-lines logger. Every line passes through one redaction step, so provider keys, virtual
// keys, SigV4 signatures and presigned URL parameters never reach the log (issue 7 §10).

type Level = 'debug' | 'info' | 'warn' | 'error'

const secrets = new Set<string>()

/** Registers values (keys, secrets) that must never appear in a log line. */
export function registerSecrets(values: Iterable<string | null | undefined>): void {
  for (const v of values) if (v && v.length >= 4) secrets.add(v)
}

const PATTERNS: Array<[RegExp, string]> = [
  [/(Signature=)[0-9a-f]{16,}/gi, '$1[redacted]'],
  [/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"]+/gi, '$1[redacted]'],
  [/(Bearer\s+)[^\s"]+/gi, '$1[redacted]'],
  [/((?:x-api-key|x-goog-api-key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]'],
  [/([?&]key=)[^&\s"]+/gi, '$1[redacted]'],
]

export function redact(text: string): string {
  let out = text
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]')
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl)
  return out
}

let minLevel: Level = 'info'
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export function setLogLevel(level: Level): void {
  minLevel = level
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[minLevel]) return
  const line = redact(JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields }))
  if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`)
  else process.stdout.write(`${line}\n`)
}
