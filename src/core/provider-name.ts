// Provider kinds (the closed set of upstream APIs an adapter speaks) and provider names (the
// operator's instances of them). Only providers/registry.ts, config/ and the kind tables in core/
// switch on kinds; everything else passes names through.

/** Upstream APIs this build speaks. A kind appears here only once its adapter is complete. */
export const PROVIDER_KINDS = ['openai', 'azure-openai', 'anthropic', 'gemini', 'vertex', 'bedrock', 'groq', 'mistral', 'emulated'] as const
export type ProviderKind = (typeof PROVIDER_KINDS)[number]

/**
 * The instances the fixed environment variables configure; each is named after its kind. They
 * are also the names a client may ask for before any config file exists, so an unconfigured one
 * is "not configured" rather than "unknown".
 */
export const ENV_PROVIDERS = ['openai', 'anthropic', 'gemini', 'bedrock'] as const satisfies readonly ProviderKind[]
export type EnvProviderName = (typeof ENV_PROVIDERS)[number]

/** An instance name: `[providers.NAME]` in BATCHGATE_CONFIG, or one of ENV_PROVIDERS. */
export type ProviderName = string

/** Lower-case, starts with a letter: names travel in headers, query strings and log lines. */
export const PROVIDER_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/

export const DIALECTS = ['openai', 'anthropic'] as const
export type Dialect = (typeof DIALECTS)[number]

export function isProviderKind(value: unknown): value is ProviderKind {
  return typeof value === 'string' && (PROVIDER_KINDS as readonly string[]).includes(value)
}

/** The four env-configured providers, for code that loops over "every provider" (tests, docs). */
export const PROVIDER_NAMES = ENV_PROVIDERS
