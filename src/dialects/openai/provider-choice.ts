// Reads `provider` the ways the OpenAI SDK can send it: JSON body (extra_body), multipart form
// field, or query string (extra_query). Absent means openai; a name the gateway does not know is
// a 400 naming the choices.

import type { ProviderName } from '../../core/provider-name'
import { invalid } from '../../errors'

/** A chooser over the names this gateway knows (Registry.known()). */
export function providerChooser(known: readonly ProviderName[]) {
  return (...candidates: Array<unknown>): ProviderName | undefined => {
    let chosen: ProviderName | undefined
    for (const value of candidates) {
      if (value === undefined || value === null || value === '') continue
      if (typeof value !== 'string' || !known.includes(value)) {
        throw invalid(`Unknown provider '${String(value).slice(0, 64)}'. Supported providers: ${known.join(', ')}.`, {
          param: 'provider',
        })
      }
      // Sent in two places (body or form field, and query) with two answers: neither is dropped.
      if (chosen !== undefined && chosen !== value) {
        throw invalid(`provider was sent twice with different values ('${chosen}' and '${value}'); send it once.`, { param: 'provider' })
      }
      chosen = value
    }
    return chosen
  }
}
