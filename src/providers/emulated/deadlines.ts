// Per-request time limits for one emulated run: one sweep timer over the attempts in flight
// instead of a timer set and cleared per attempt. An attempt is cut between `limitMs` and
// `limitMs` + one sweep step (a tenth of the limit, at most a second): the limit is a guard
// against a hung server, not a precise clock.

const MAX_STEP_MS = 1000
const MIN_STEP_MS = 10

interface Attempt {
  controller: AbortController
  deadline: number
}

export class Deadlines {
  private readonly attempts = new Set<Attempt>()
  private readonly stepMs: number
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(private readonly limitMs: number) {
    this.stepMs = Math.min(MAX_STEP_MS, Math.max(MIN_STEP_MS, Math.floor(limitMs / 10)))
  }

  /** A signal that aborts once the attempt outlives the limit; pass the handle to `end`. */
  start(): Attempt {
    const attempt = { controller: new AbortController(), deadline: Date.now() + this.limitMs }
    this.attempts.add(attempt)
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), this.stepMs)
      this.timer.unref?.()
    }
    return attempt
  }

  end(attempt: Attempt): void {
    this.attempts.delete(attempt)
  }

  /** Stops the sweeps (the run is over; nothing is in flight). */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.attempts.clear()
  }

  private sweep(): void {
    const now = Date.now()
    for (const attempt of this.attempts) {
      if (attempt.deadline > now) continue
      this.attempts.delete(attempt)
      attempt.controller.abort()
    }
  }
}
