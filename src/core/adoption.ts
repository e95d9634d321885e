// Finding the batch a create made when its answer never arrived (issue 11 class 2): a connection
// cut after the upstream committed, or a crash between the intent row and the answer. Asked at
// once, before the caller is answered (batch-create.ts), and again at every start (reconcile.ts).
//
// A batch that carries the gateway id (OpenAI metadata, Gemini display name, Bedrock job name) is
// this create's. A look-alike (Anthropic batches carry nothing of ours; an OpenAI batch whose
// caller filled all 16 metadata pairs) is adopted only when it is the one fit AND no other open
// create of the same provider and size could have made it; otherwise the match is a guess, and a
// wrong guess shows one tenant another's batch. Such a create is kept, marked `unresolved`, and
// logged with its candidates: never deleted, never duplicated, looked at again at each start.

import { GatewayError } from '../errors'
import type { UpstreamBatch } from './batch'
import type { Provider } from '../providers/provider'
import type { PendingCreate } from '../store/batch-mappings'
import type { Store } from '../store/store'

/** A failure after which the upstream may still have done the work: its answer never arrived. */
export function isLostAnswer(err: unknown): err is GatewayError {
  return err instanceof GatewayError && (err.kind === 'upstream_timeout' || err.kind === 'upstream_unreachable')
}

export type Adoption =
  | { outcome: 'adopted'; batch: UpstreamBatch }
  | { outcome: 'not-found' }
  /** Upstream ids of the candidates, for the operator's log only (never for a client). */
  | { outcome: 'ambiguous'; candidates: string[] }

/**
 * Other open creates this close in time could have made any look-alike: wider than any create's
 * own window (timeout + clock skew) so that a doubt always counts as one.
 */
const RIVAL_WINDOW_SECONDS = 15 * 60

export async function findCreatedBatch(store: Store, provider: Provider, create: PendingCreate): Promise<Adoption> {
  if (!provider.findBatch) return { outcome: 'not-found' }
  const requests = typeof create.intent.requests === 'number' ? create.intent.requests : -1
  const match = await provider.findBatch({
    gatewayId: create.id,
    startedAt: create.createdAt,
    requests,
    inputUpstreamId: typeof create.intent.inputUpstreamId === 'string' ? create.intent.inputUpstreamId : null,
    isMapped: (upstreamId) => store.batches.isMapped(provider.name, upstreamId),
  })
  if (!match) return { outcome: 'not-found' }
  if (match.kind === 'tagged') return { outcome: 'adopted', batch: match.batch }
  const [only] = match.batches
  const rivals = (await store.batches.pendingCreates()).filter(
    (other) =>
      other.id !== create.id &&
      other.provider === create.provider &&
      other.intent.requests === create.intent.requests &&
      Math.abs(other.createdAt - create.createdAt) <= RIVAL_WINDOW_SECONDS,
  )
  if (only && match.batches.length === 1 && rivals.length === 0) return { outcome: 'adopted', batch: only }
  return { outcome: 'ambiguous', candidates: match.batches.map((b) => b.upstreamId) }
}
