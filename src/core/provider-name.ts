// The closed set of upstreams and client dialects. Only providers/registry.ts and
// convert/pairs.ts switch on these; everything else passes them through.

export const PROVIDER_NAMES = ['openai', 'anthropic', 'gemini', 'bedrock'] as const
export type ProviderName = (typeof PROVIDER_NAMES)[number]

export const DIALECTS = ['openai', 'anthropic'] as const
export type Dialect = (typeof DIALECTS)[number]

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === 'string' && (PROVIDER_NAMES as readonly string[]).includes(value)
}
