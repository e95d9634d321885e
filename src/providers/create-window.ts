// When an interrupted create can have made its upstream batch: not before its intent was
// recorded, and not after the call's own timeout cut it off (the timeout runs until the answer's
// headers, see upstream-fetch.ts), widened on both sides for clock skew with the provider.
// Adapters that can only match by time (Anthropic) rely on it; others use it to stop paging.

import type { CreateProbe } from './provider'
import type { UpstreamPolicy } from './upstream-fetch'

const CLOCK_SKEW_SECONDS = 60

export interface CreateWindow {
  from: number
  to: number
}

export function createWindow(probe: Pick<CreateProbe, 'startedAt'>, policy: UpstreamPolicy): CreateWindow {
  return {
    from: probe.startedAt - CLOCK_SKEW_SECONDS,
    // startedAt is floored to the second, hence the extra second.
    to: probe.startedAt + Math.ceil(policy.timeoutMs / 1000) + 1 + CLOCK_SKEW_SECONDS,
  }
}

/** Lookups read at most this many listed batches or files, so start-up stays bounded. */
export const MAX_LISTED = 1000
