// Gemini (AI Studio) REST calls: the key goes in the `x-goog-api-key` header; everything else is
// the shared Google REST behaviour (providers/google-rest.ts).

import type { GeminiConfig } from '../../config'
import { GatewayError } from '../../errors'
import { GoogleRest, type GoogleCall } from '../google-rest'
import type { UpstreamPolicy } from '../upstream-fetch'

export type GeminiCall = GoogleCall

export class GeminiRest extends GoogleRest {
  constructor(
    readonly config: GeminiConfig,
    policy: UpstreamPolicy,
  ) {
    super('gemini', config.baseUrl, policy)
  }

  protected async authHeaders(): Promise<Record<string, string>> {
    return { 'x-goog-api-key': this.config.apiKey }
  }
}

/** `files/abc` → `/v1beta/files/abc`; the id is escaped so a stored name cannot alter the path. */
export function resourcePath(collection: 'files' | 'batches', name: string): string {
  const prefix = `${collection}/`
  const id = name.startsWith(prefix) ? name.slice(prefix.length) : name
  if (id === '') throw new GatewayError('internal', `empty gemini ${collection} name`)
  return `/v1beta/${collection}/${encodeURIComponent(id)}`
}
