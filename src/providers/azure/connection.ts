// Azure OpenAI: OpenAI's Files + Batch API on a resource endpoint (`https://NAME.openai.azure.com`),
// every call under `/openai` with `?api-version=`, authenticated by the resource key (`api-key`
// header) or a Microsoft Entra token (`Authorization: Bearer`). Models are deployment names, which
// clients put in `model` as they are; batch endpoints are named without `/v1`. Requests and
// results are OpenAI's, so the OpenAI adapter runs it with this connection and shape.

import { readFile } from 'node:fs/promises'
import type { AzureConfig } from '../../config'
import { GatewayError } from '../../errors'
import type { Connection, OpenAIShape } from '../openai/adapter'

export const AZURE_SHAPE: OpenAIShape = {
  kind: 'azure-openai',
  // Azure keeps files for assistants, batch and fine-tune; generic files (the Anthropic dialect's,
  // OpenAI's user_data) are kept as assistants files, its general-purpose kind.
  purpose: (p) => (p === 'batch' || p === 'fine-tune' ? p : p === 'vision' || p === 'evals' ? null : 'assistants'),
  completionWindow: () => '24h',
  pagedList: true,
  endpoint: (e) => e.replace(/^\/v1\//, '/'),
  // Azure batch input files are capped at 200 MB: nothing here is large enough for an Uploads relay.
  relay: null,
}

export function azureConnection(azure: AzureConfig): Connection {
  const auth = async (): Promise<Record<string, string>> =>
    azure.apiKey ? { 'api-key': azure.apiKey } : { authorization: `Bearer ${await bearerToken(azure)}` }
  return {
    // The SDK loads on first use, as for OpenAI (openai/adapter.ts).
    client: async (common) =>
      new (await import('openai')).AzureOpenAI({
        ...common,
        endpoint: azure.endpoint,
        apiVersion: azure.apiVersion,
        ...(azure.apiKey ? { apiKey: azure.apiKey } : { azureADTokenProvider: () => bearerToken(azure) }),
      }),
    uploadTarget: async (path = 'files') => ({
      url: `${azure.endpoint}/openai/${path}?api-version=${encodeURIComponent(azure.apiVersion)}`,
      headers: await auth(),
    }),
  }
}

/**
 * The Entra token, read from its file on every call: whoever refreshes it (workload identity,
 * a sidecar, `az account get-access-token` on a timer) only rewrites the file.
 */
async function bearerToken(azure: AzureConfig): Promise<string> {
  const token = azure.tokenFile ? (await readFile(azure.tokenFile, 'utf8').catch(() => '')).trim() : ''
  if (!token) throw new GatewayError('upstream', 'the Entra token file of this Azure instance is missing or empty', { upstreamStatus: 401 })
  return token
}
