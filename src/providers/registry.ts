// Builds the adapters from Config once and hands them out by name. With convert/pairs.ts this
// is the only place that knows every provider.

import type { Config } from '../config'
import { PROVIDER_NAMES, type ProviderName } from '../core/provider-name'
import { GatewayError } from '../errors'
import { AnthropicAdapter } from './anthropic/adapter'
import { BedrockAdapter } from './bedrock/adapter'
import { GeminiAdapter } from './gemini/adapter'
import { OpenAIAdapter } from './openai/adapter'
import type { Provider } from './provider'
import type { UpstreamPolicy } from './upstream-fetch'

export class Registry {
  private readonly adapters = new Map<ProviderName, Provider>()

  constructor(adapters: Provider[]) {
    for (const a of adapters) this.adapters.set(a.name, a)
  }

  get(name: ProviderName): Provider {
    const adapter = this.adapters.get(name)
    if (!adapter) {
      throw new GatewayError(
        'unsupported',
        `Provider '${name}' is not configured on this gateway. Configured: ${this.names().join(', ') || 'none'}.`,
        { param: 'provider' },
      )
    }
    return adapter
  }

  names(): ProviderName[] {
    return PROVIDER_NAMES.filter((n) => this.adapters.has(n))
  }
}

export function buildRegistry(config: Config): Registry {
  const policy: UpstreamPolicy = { timeoutMs: config.upstreamTimeoutMs, retries: config.upstreamRetries }
  const adapters: Provider[] = []
  if (config.openai) adapters.push(new OpenAIAdapter(config.openai, policy))
  if (config.anthropic) adapters.push(new AnthropicAdapter(config.anthropic, policy))
  if (config.gemini) adapters.push(new GeminiAdapter(config.gemini, policy))
  if (config.bedrock) adapters.push(new BedrockAdapter(config.bedrock, policy))
  return new Registry(adapters)
}
