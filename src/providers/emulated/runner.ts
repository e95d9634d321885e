// Runs emulated batches: streams a run's input lines from the blob store and sends each one not
// yet answered to the instance's OpenAI-compatible endpoint, with bounded concurrency and rpm/tpm
// pacing. Each answer is recorded in the store (store/emulated-runs.ts) before it counts, so a
// restarted runner skips recorded lines; only requests in flight at a crash are sent again.
// A run is held through a lease named after it, so one instance runs it at a time; a run whose
// holder is gone (no fresh heartbeat) is taken over by the next scan.

import type { EmulatedConfig } from '../../config'
import { rawFields } from '../../convert/requests/raw-fields'
import { wholeLines } from '../../convert/whole-lines'
import { resultLine, resultLineId, storedAnswer } from '../../convert/results/emulated-line'
import { log } from '../../log'
import { outsideRequest } from '../../ops/context'
import type { Outcome, RecordedResult, RunStatus } from '../../store/emulated-runs'
import type { Store } from '../../store/store'
import { backoff, parseRetryAfter } from '../upstream-fetch'
import { Deadlines } from './deadlines'
import { estimateTokens, RateLimiter } from './limiter'
import { Recorder } from './recorder'

const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504, 529])
const MAX_ATTEMPTS = 6
const STATE_REFRESH_MS = 250
const MAX_LINE_BYTES = 64 * 1024 * 1024
const FILL_ROWS = 200

/** One input line as raw JSON text (rawFields): the body is sent as the line has it. */
interface InputLine {
  /** The custom_id, a JSON string literal. */
  customId: string
  /** The url, a JSON string literal. */
  url: string
  body: string
  /** The request's 0-based index in the run (blank lines are not requests). */
  at: number
}

const FIELDS = ['custom_id', 'url', 'body'] as const

function inputLine(text: string, at: number): InputLine {
  const raw = rawFields(text, FIELDS)
  if (raw?.custom_id?.startsWith('"') && raw.url?.startsWith('"') && raw.body?.startsWith('{')) return { customId: raw.custom_id, url: raw.url, body: raw.body, at }
  const line = JSON.parse(text) as { custom_id: string; url: string; body: unknown }
  return { customId: JSON.stringify(line.custom_id), url: JSON.stringify(line.url), body: JSON.stringify(line.body), at }
}

const customIdOf = (line: InputLine): string => JSON.parse(line.customId) as string
const bodyOf = (line: InputLine) => JSON.parse(line.body) as { model?: unknown; max_tokens?: unknown; max_completion_tokens?: unknown }

const EXPIRED_ERROR = { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' }
const CANCELLED_ERROR = { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' }

/**
 * From this limit up, a request's time limit is fetch's own socket idle timer (no AbortSignal per
 * request: registering one cost ~1 µs of the event loop per request, a tenth of what the runner
 * spends on it). Bun fires that timer late by up to ~8 s, which only a limit of a minute or more
 * can take; shorter limits keep the exact sweep (deadlines.ts).
 */
const IDLE_TIMER_MIN_MS = 60_000

export class EmulatedRunner {
  private readonly active = new Set<string>()
  private timer: ReturnType<typeof setInterval> | null = null
  private stopped = false
  /** The same headers on every request (fetch does not change them). */
  private readonly headers: Headers
  private readonly urls = new Map<string, string>()
  private lastUrl: [string, string] = ['', '']

  constructor(
    private readonly provider: string,
    private readonly settings: EmulatedConfig,
    private readonly store: Store,
    private readonly scanMs = Math.max(200, Math.floor(store.instances.ttlMs / 2)),
  ) {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`
    // One Headers object for every request: fetch converts a plain object on each call.
    this.headers = new Headers(headers)
  }

  start(): void {
    this.timer = setInterval(() => void this.scan(), this.scanMs)
    this.timer.unref?.()
    void this.scan()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
  }

  /** Starts the run here unless it is already running here or leased by a live instance. */
  kick(id: string): void {
    if (this.stopped || this.active.has(id)) return
    this.active.add(id)
    // A create kicks the run from inside its request; the run outlives it (outsideRequest).
    outsideRequest(() =>
      this.run(id)
        .catch((err) => {
          if (!this.stopped) log('warn', 'emulated run stopped', { batch: id, err: String(err) })
        })
        .finally(() => this.active.delete(id)),
    )
  }

  private async scan(): Promise<void> {
    if (this.stopped) return
    try {
      for (const id of await this.store.emulated.open(this.provider)) this.kick(id)
    } catch (err) {
      if (!this.stopped) log('warn', 'emulated scan failed', { err: String(err) })
    }
  }

  private async run(id: string): Promise<void> {
    const lease = `emulated:${id}`
    const ttl = this.store.instances.ttlMs
    const holder = await this.store.leases.holderOf(lease)
    if (holder && holder !== this.store.instanceId && !(await this.store.liveOwners()).has(holder)) {
      await this.store.leases.breakDead(lease, holder)
    }
    if (!(await this.store.leases.acquire(lease, ttl))) return
    let lost = false
    const renew = setInterval(() => {
      void this.store.leases
        .acquire(lease, ttl)
        .then((held) => {
          if (!held) lost = true
        })
        .catch(() => undefined)
    }, Math.max(50, ttl / 3))
    try {
      await this.work(id, () => lost || this.stopped)
    } finally {
      clearInterval(renew)
      if (!this.stopped) await this.store.leases.release(lease).catch(() => undefined)
    }
  }

  private async work(id: string, gone: () => boolean): Promise<void> {
    const run = await this.store.emulated.get(id)
    if (!run || !['in_progress', 'cancelling', 'finalizing'].includes(run.status)) return
    const done = await this.store.emulated.recorded(id, run.total)
    let status: RunStatus = run.status
    let checkedAt = 0
    const stops = () => gone() || status === 'cancelling' || Date.now() / 1000 >= run.expiresAt
    // Called before every send: no promise unless the run's status is due for a re-read.
    const halted = (): boolean | Promise<boolean> => {
      if (Date.now() - checkedAt <= STATE_REFRESH_MS) return stops()
      checkedAt = Date.now()
      return this.store.emulated.status(id).then((now) => {
        status = now ?? status
        return stops()
      })
    }

    const limiter = new RateLimiter(this.settings.requestsPerMinute, this.settings.tokensPerMinute)
    const paced = this.settings.requestsPerMinute !== null || this.settings.tokensPerMinute !== null
    const recorder = new Recorder(this.store, id)
    const deadlines = this.settings.requestTimeoutMs >= IDLE_TIMER_MIN_MS ? null : new Deadlines(this.settings.requestTimeoutMs)
    // Slots: a finished request wakes the loop waiting for one (a Promise.race over every
    // in-flight request per send cost O(concurrency) handlers each time).
    let running = 0
    let failure: unknown = null
    let wake: (() => void) | null = null
    const release = (err?: unknown) => {
      if (err !== undefined) failure ??= err
      running--
      const w = wake
      wake = null
      w?.()
    }
    const slotFree = () => new Promise<void>((resolve) => (wake = resolve))
    // One request from send to recorded answer; its slot frees only once the row is written.
    const send = async (line: InputLine): Promise<void> => {
      try {
        const result = await this.answer(id, line, halted, deadlines)
        if (result) return recorder.record(result, release)
      } catch (err) {
        return release(err)
      }
      release()
    }
    try {
      if (status === 'in_progress') {
        // The lines come a source chunk at a time (one promise turn per chunk, not per line).
        sending: for await (const lines of this.lineBatches(id)) {
          for (const line of lines) {
            if (done[line.at]) continue
            while (running >= this.settings.concurrency) await slotFree()
            const stop = halted()
            if (failure !== null || stop === true || (stop !== false && (await stop))) break sending
            if (paced) {
              const body = bodyOf(line)
              await limiter.admit(estimateTokens(line.body, body.max_tokens ?? body.max_completion_tokens))
            }
            running++
            void send(line)
          }
        }
      }
    } finally {
      while (running > 0) await slotFree()
      deadlines?.close()
    }
    // A write that failed stops the run (kick's catch logs it); the next scan resumes it.
    if (failure !== null) throw failure
    if (gone()) return
    status = (await this.store.emulated.status(id)) ?? status
    const now = Math.floor(Date.now() / 1000)
    if (status === 'cancelling') {
      await this.fillUnanswered(id, run.total, 'canceled', CANCELLED_ERROR)
      await this.store.emulated.setStatus(id, 'cancelled', now)
    } else if (now >= run.expiresAt && (await this.unanswered(id, run.total)) > 0) {
      await this.fillUnanswered(id, run.total, 'expired', EXPIRED_ERROR)
      await this.store.emulated.setStatus(id, 'expired', now)
    } else if ((await this.unanswered(id, run.total)) === 0) {
      await this.store.emulated.setStatus(id, 'finalizing', now)
      await this.store.emulated.setStatus(id, 'completed', now)
    }
  }

  private async unanswered(id: string, total: number): Promise<number> {
    const c = await this.store.emulated.counts(id)
    return total - c.succeeded - c.errored - c.expired - c.canceled
  }

  /** Every line without an answer gets the batch's ending (OpenAI's own error codes for it). */
  private async fillUnanswered(id: string, total: number, outcome: Outcome, error: unknown): Promise<void> {
    const done = await this.store.emulated.recorded(id, total)
    let rows: RecordedResult[] = []
    for await (const lines of this.lineBatches(id)) {
      for (const line of lines) {
        if (done[line.at]) continue
        rows.push({ line: line.at, outcome, body: resultLine(resultLineId(id, line.at), customIdOf(line), null, error) })
        if (rows.length < FILL_ROWS) continue
        await this.store.emulated.recordMany(id, rows)
        rows = []
      }
    }
    await this.store.emulated.recordMany(id, rows)
  }

  /**
   * The run's requests, a source chunk at a time, numbered as the upload counted them: blank lines
   * are not requests, a CR before the newline and a BOM before the first line are not part of one.
   */
  private async *lineBatches(id: string): AsyncGenerator<InputLine[]> {
    const blob = await this.store.blobs.open(id, 'content')
    if (!blob) throw new Error(`the input of ${id} is missing from the blob store`)
    let first = true
    let at = 0
    for await (const { lines } of wholeLines(blob, { maxLineBytes: MAX_LINE_BYTES, lastLine: true })) {
      const requests: InputLine[] = []
      for (let text of lines) {
        if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
        first = false
        if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1)
        if (text.charCodeAt(0) !== 0x7b && text.trim() === '') continue
        requests.push(inputLine(text, at++))
      }
      yield requests
    }
  }

  /** The endpoint URL a line's url (a JSON string literal) maps to (`/v1/…` under base_url); one string per distinct url. */
  private urlOf(lineUrl: string): string {
    // A batch has one url: comparing with the last one saves hashing a fresh string per request.
    if (lineUrl === this.lastUrl[0]) return this.lastUrl[1]
    let url = this.urls.get(lineUrl)
    if (url === undefined) {
      url = `${this.settings.baseUrl}${(JSON.parse(lineUrl) as string).replace(/^\/v1(?=\/)/, '')}`
      this.urls.set(lineUrl, url)
    }
    this.lastUrl = [lineUrl, url]
    return url
  }

  /**
   * Sends one request until it is answered; null when the batch halted before an answer came
   * (the line then ends cancelled or expired, never half-recorded).
   */
  private async answer(run: string, line: InputLine, halted: () => boolean | Promise<boolean>, deadlines: Deadlines | null): Promise<RecordedResult | null> {
    const models = this.settings.models
    // An allowlist is checked on every line's own model (the create's model, checked at create,
    // may differ from what the lines name): only then is the body parsed.
    const model = models ? bodyOf(line).model : undefined
    if (models && (typeof model !== 'string' || !models.includes(model))) {
      const body = { error: { message: `model '${model}' is not served by this provider`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }
      const id = resultLineId(run, line.at)
      return { line: line.at, outcome: 'errored', body: resultLine(id, customIdOf(line), { status: 404, requestId: id, body }, null) }
    }
    const url = this.urlOf(line.url)
    const payload = line.body
    const timeoutMs = this.settings.requestTimeoutMs
    let failure = 'no attempt made'
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const limit = deadlines?.start()
      let retryAfter: number | undefined
      try {
        const init = limit ? { method: 'POST', headers: this.headers, body: payload, signal: limit.controller.signal } : { method: 'POST', headers: this.headers, body: payload, timeout: timeoutMs }
        const res = await fetch(url, init)
        const text = await res.text()
        const requestId = res.headers.get('x-request-id')
        if (!RETRYABLE.has(res.status)) {
          const ok = res.status >= 200 && res.status < 300
          return { line: line.at, outcome: ok ? 'succeeded' : 'errored', body: storedAnswer(run, line.at, line.customId, res.status, requestId, text) }
        }
        failure = `the endpoint answered ${res.status}`
        retryAfter = parseRetryAfter(res.headers.get('retry-after'))
        if (attempt === MAX_ATTEMPTS - 1) return { line: line.at, outcome: 'errored', body: storedAnswer(run, line.at, line.customId, res.status, requestId, text) }
      } catch (err) {
        const timedOut = limit ? limit.controller.signal.aborted : (err as Error | null)?.name === 'TimeoutError'
        failure = timedOut ? `no answer within ${timeoutMs} ms` : 'the endpoint could not be reached'
      } finally {
        if (limit) deadlines?.end(limit)
      }
      if (await halted()) return null
      await Bun.sleep(backoff(attempt + 1, retryAfter))
      if (await halted()) return null
    }
    const id = resultLineId(run, line.at)
    return { line: line.at, outcome: 'errored', body: resultLine(id, customIdOf(line), null, { code: 'server_error', message: failure }) }
  }
}
