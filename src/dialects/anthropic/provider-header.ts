// The Anthropic SDK has no body field to spare, so the provider travels in the `x-model-provider`
// header (client `defaultHeaders`). Absent or empty means "not said"; a name the gateway does not
// know is a 400 naming the choices, whatever the call.

import type { ProviderName } from '../../core/provider-name'
import { invalid } from '../../errors'

export const PROVIDER_HEADER = 'x-model-provider'

/** `known`: the names this gateway knows (Registry.known()). */
export function providerFromHeader(headers: Headers, known: readonly ProviderName[]): ProviderName | undefined {
  const raw = headers.get(PROVIDER_HEADER)?.trim().toLowerCase()
  if (!raw) return undefined
  if (!known.includes(raw)) {
    throw invalid(`${PROVIDER_HEADER}: unknown provider '${raw.slice(0, 64)}'. Supported providers: ${known.join(', ')}.`, {
      param: PROVIDER_HEADER,
    })
  }
  return raw
}
