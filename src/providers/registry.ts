// Builds one adapter per provider instance from Config and hands them out by instance name.
// With convert/pairs.ts and the kind tables in core/ this is the only place that knows every kind.

import type { Config, InstanceConfig, InstanceLimits } from '../config'
import { KIND_LIMITS } from '../config/instances'
import { ENV_PROVIDERS, type ProviderName } from '../core/provider-name'
import { GatewayError } from '../errors'
import { noteProvider } from '../ops/context'
import { AnthropicAdapter } from './anthropic/adapter'
import { BedrockAdapter } from './bedrock/adapter'
import { AZURE_SHAPE, azureConnection } from './azure/connection'
import { EmulatedAdapter } from './emulated/adapter'
import { GeminiAdapter } from './gemini/adapter'
import { GROQ_SHAPE } from './groq/shape'
import { MistralAdapter } from './mistral/adapter'
import { OpenAIAdapter } from './openai/adapter'
import { VertexAdapter } from './vertex/adapter'
import type { Provider } from './provider'
import type { UpstreamPolicy } from './upstream-fetch'

interface Entry {
  config: InstanceConfig
  adapter: Provider
}

export class Registry {
  private readonly entries = new Map<ProviderName, Entry>()

  constructor(entries: Iterable<Entry>) {
    for (const e of entries) this.entries.set(e.adapter.name, e)
  }

  get(name: ProviderName): Provider {
    noteProvider(name)
    return this.entry(name).adapter
  }

  /** The instance's settings (default bucket, role, default model …). */
  instance(name: ProviderName): InstanceConfig {
    return this.entry(name).config
  }

  limits(name: ProviderName): InstanceLimits {
    return this.entry(name).config.limits
  }

  /** The largest upload any instance takes: the cap before a request has named its provider. */
  maxUploadBytes(): number {
    const own = [...this.entries.values()].map((e) => e.config.limits.maxUploadBytes)
    // With nothing configured the upload fails on its provider anyway; the widest cap lets it get there.
    return Math.max(...(own.length > 0 ? own : Object.values(KIND_LIMITS).map((l) => l.maxUploadBytes)))
  }

  /** Adapters that run batches in the gateway and need its store (kind = "emulated"). */
  emulated(): EmulatedAdapter[] {
    return [...this.entries.values()].map((e) => e.adapter).filter((a): a is EmulatedAdapter => a instanceof EmulatedAdapter)
  }

  /** Configured instance names, in configuration order. */
  names(): ProviderName[] {
    return [...this.entries.keys()]
  }

  /** Names a client may send: configured instances, and the env names even when unconfigured. */
  known(): ProviderName[] {
    return [...new Set<ProviderName>([...ENV_PROVIDERS, ...this.entries.keys()])]
  }

  private entry(name: ProviderName): Entry {
    const entry = this.entries.get(name)
    if (!entry) {
      throw new GatewayError(
        'unsupported',
        `Provider '${name}' is not configured on this gateway. Configured: ${this.names().join(', ') || 'none'}.`,
        { param: 'provider' },
      )
    }
    return entry
  }
}

export function buildAdapter(instance: InstanceConfig, policy: UpstreamPolicy): Provider {
  const options = { name: instance.name }
  switch (instance.kind) {
    case 'openai':
      return new OpenAIAdapter(instance.settings, policy, options)
    case 'anthropic':
      return new AnthropicAdapter(instance.settings, policy, options)
    case 'gemini':
      return new GeminiAdapter(instance.settings, policy, options)
    case 'vertex':
      return new VertexAdapter(instance.settings, policy, options)
    case 'bedrock':
      return new BedrockAdapter(instance.settings, policy, options)
    case 'groq':
      return new OpenAIAdapter(instance.settings, policy, options, GROQ_SHAPE)
    case 'azure-openai':
      return new OpenAIAdapter(azureConnection(instance.settings), policy, options, AZURE_SHAPE)
    case 'mistral':
      return new MistralAdapter(instance.settings, policy, options)
    case 'emulated':
      return new EmulatedAdapter(instance.settings, options)
  }
}

export function buildRegistry(config: Config): Registry {
  const policy: UpstreamPolicy = { timeoutMs: config.upstreamTimeoutMs, retries: config.upstreamRetries }
  return new Registry([...config.providers.values()].map((instance) => ({ config: instance, adapter: buildAdapter(instance, policy) })))
}
