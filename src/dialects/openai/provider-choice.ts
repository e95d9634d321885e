// Reads `provider` the ways the OpenAI SDK can send it: JSON body (extra_body), multipart form
// field, or query string (extra_query). Absent means openai; unknown is a 400 naming the choices.

import { isProviderName, PROVIDER_NAMES, type ProviderName } from '../../core/provider-name'
import { invalid } from '../../errors'

export function chooseProvider(...candidates: Array<unknown>): ProviderName | undefined {
  for (const value of candidates) {
    if (value === undefined || value === null || value === '') continue
    if (!isProviderName(value)) {
      throw invalid(
        `Unknown provider '${String(value).slice(0, 64)}'. Supported providers: ${PROVIDER_NAMES.join(', ')}.`,
        { param: 'provider' },
      )
    }
    return value
  }
  return undefined
}
