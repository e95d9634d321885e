// How an SDK call failed, for asserting on the gateway's error replies. The SDKs' APIPromise is
// awaited here rather than handed to `expect(...).rejects`, which does not settle it reliably.

export interface ApiFailure {
  status: number
  /** The parsed error body the SDK kept: the dialect's envelope (or its `error` member). */
  error: unknown
  message: string
}

export async function failure(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call
  } catch (err) {
    const e = err as { status?: unknown; error?: unknown; message?: string }
    if (typeof e.status === 'number') return { status: e.status, error: e.error, message: e.message ?? '' }
    throw err
  }
  throw new Error('expected the call to fail')
}
