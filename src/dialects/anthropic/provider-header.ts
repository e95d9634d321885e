// The Anthropic SDK has no body field to spare, so the provider travels in the `x-model-provider`
// header (client `defaultHeaders`). Absent or empty means "not said"; an unknown value is a 400
// naming the choices, whatever the call.

import { isProviderName, PROVIDER_NAMES, type ProviderName } from '../../core/provider-name'
import { invalid } from '../../errors'

export const PROVIDER_HEADER = 'x-model-provider'

export function providerFromHeader(headers: Headers): ProviderName | undefined {
  const raw = headers.get(PROVIDER_HEADER)?.trim().toLowerCase()
  if (!raw) return undefined
  if (!isProviderName(raw)) {
    throw invalid(
      `${PROVIDER_HEADER}: unknown provider '${raw.slice(0, 64)}'. Supported providers: ${PROVIDER_NAMES.join(', ')}.`,
      { param: PROVIDER_HEADER },
    )
  }
  return raw
}
