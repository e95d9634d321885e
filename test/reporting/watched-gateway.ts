// The set-up both dialects' reporting suites share: a gateway whose watcher polls every 20 ms and
// delivers webhooks to the test's receiver, and a switch for whether the fakes move batches on.

import { type Gateway, startGateway } from '../e2e/gateway'
import type { AllFakes } from '../fakes/start'
import type { Receiver } from './receiver'

export function startWatchedGateway(fakes: AllFakes, receiver: Receiver): Promise<Gateway> {
  return startGateway({
    ...fakes.env,
    BATCHGATE_WATCH_INTERVAL_MS: '20',
    BATCHGATE_WEBHOOK_URL: receiver.url,
    BATCHGATE_WEBHOOK_SECRET: receiver.secret,
    BATCHGATE_WEBHOOK_RETRY_BASE_MS: '20',
  })
}

/** Off while batches are set up (each ends the way its test arranges), on to let them finish. */
export function setAutoAdvance(fakes: AllFakes, on: boolean): void {
  for (const fake of [fakes.openai, fakes.anthropic, fakes.gemini, fakes.bedrock]) fake.autoAdvance = on
}
