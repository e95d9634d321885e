// Reads `provider` the ways the OpenAI SDK can send it: JSON body (extra_body), multipart form
// field, or query string (extra_query). Absent means openai; a name the gateway does not know is
// a 400 naming the choices.

import type { ProviderName } from '../../core/provider-name'
import { invalid } from '../../errors'

/** A chooser over the names this gateway knows (Registry.known()). */
export function providerChooser(known: readonly ProviderName[]) {
  return (...candidates: Array<unknown>): ProviderName | undefined => {
    for (const value of candidates) {
      if (value === undefined || value === null || value === '') continue
      if (typeof value !== 'string' || !known.includes(value)) {
        throw invalid(`Unknown provider '${String(value).slice(0, 64)}'. Supported providers: ${known.join(', ')}.`, {
          param: 'provider',
        })
      }
      return value
    }
    return undefined
  }
}
