// Downloads the gateway computes from an upstream (derived result files, Anthropic results) are
// streamed, so the status line goes out before the last byte is known. It must not go out before
// the upstream has been reached: a failure before the first byte is then still an error envelope
// with the right status. A failure after it errors the stream, and the server aborts the response
// (no final chunk), so the client's read fails instead of ending as a short 200.

/** Waits for the stream's first chunk (or its end, or its error) and hands the whole stream on. */
export async function afterFirstChunk(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader()
  // Throws what the upstream or the conversion threw: the caller's error edge answers it.
  let first: Awaited<ReturnType<typeof reader.read>> | null = await reader.read()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = first ?? (await reader.read())
      first = null
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
}
