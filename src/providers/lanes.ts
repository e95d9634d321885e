// Parts sent a few at a time (S3 multipart, OpenAI's Uploads API): one part at a time leaves the
// link idle during each round trip. Steps are handed out in index order to `lanes` loops; a lane
// finishes its step before taking the next. The first failure stops handing out steps, and every
// lane settles before it is thrown, so nothing is still sending when the caller cleans up (aborts
// or cancels the upload).

/**
 * Runs step(0), step(1), … `lanes` at a time until a step answers false (nothing left) or one
 * throws. `stopped()` tells a step that awaited something whether another lane has failed since.
 */
export async function inLanes(lanes: number, step: (index: number, stopped: () => boolean) => Promise<boolean>): Promise<void> {
  let next = 0
  let failure: { error: unknown } | null = null
  let ended = false
  const stopped = (): boolean => failure !== null
  const lane = async (): Promise<void> => {
    while (failure === null && !ended) {
      const index = next++
      try {
        if (!(await step(index, stopped))) ended = true
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  if (failure !== null) throw (failure as { error: unknown }).error
}
