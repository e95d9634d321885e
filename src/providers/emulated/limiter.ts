// Requests-per-minute and tokens-per-minute pacing for one emulated batch: token buckets that
// refill continuously, so a full minute's budget is never spent in the first second after a
// pause. Tokens are estimated before the send (prompt characters / 4 + max_tokens) because the
// real count is only known from the answer.

export class Bucket {
  private level: number
  private last = Date.now()

  constructor(private readonly perMinute: number) {
    this.level = perMinute
  }

  /** Milliseconds until `amount` can be taken (0: taken now). Amounts above the cap wait for a full bucket. */
  take(amount: number): number {
    const now = Date.now()
    this.level = Math.min(this.perMinute, this.level + ((now - this.last) * this.perMinute) / 60_000)
    this.last = now
    const need = Math.min(amount, this.perMinute)
    if (this.level >= need) {
      this.level -= need
      return 0
    }
    return Math.ceil(((need - this.level) * 60_000) / this.perMinute)
  }
}

export class RateLimiter {
  private readonly requests: Bucket | null
  private readonly tokens: Bucket | null

  constructor(rpm: number | null, tpm: number | null) {
    this.requests = rpm ? new Bucket(rpm) : null
    this.tokens = tpm ? new Bucket(tpm) : null
  }

  /** Resolves when one request of about `estimatedTokens` may go. */
  async admit(estimatedTokens: number): Promise<void> {
    for (const bucket of [this.requests, this.tokens]) {
      if (!bucket) continue
      const amount = bucket === this.tokens ? estimatedTokens : 1
      for (let wait = bucket.take(amount); wait > 0; wait = bucket.take(amount)) await Bun.sleep(wait)
    }
  }
}

/** A rough token estimate of a request body: characters / 4 plus the answer it may produce. */
export function estimateTokens(bodyText: string, maxTokens: unknown): number {
  const answer = typeof maxTokens === 'number' && maxTokens > 0 ? maxTokens : 256
  return Math.ceil(bodyText.length / 4) + answer
}
