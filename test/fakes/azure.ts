// The Azure OpenAI fake: the OpenAI Files + Batches fake in Azure's flavor (see azureFlavor).
// Clients use `new AzureOpenAI({ endpoint: fake.url, apiKey | azureADTokenProvider, apiVersion })`.

import { type OpenAIFake, type OpenAIFakeOptions, startOpenAIFake } from './openai'
import { azureFlavor } from './openai/flavor'

export interface AzureFake extends OpenAIFake {
  /** The Entra token accepted as `Authorization: Bearer`. */
  bearerToken: string
}

export function startAzureFake(opts: Omit<OpenAIFakeOptions, 'flavor'> & { bearerToken?: string } = {}): AzureFake {
  const bearerToken = opts.bearerToken ?? 'entra-test-token'
  const fake = startOpenAIFake({ apiKey: 'azure-test-key-0123456789abcdef', ...opts, flavor: azureFlavor({ bearerToken }) })
  return Object.assign(fake, { bearerToken })
}
