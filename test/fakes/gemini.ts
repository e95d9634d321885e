// Fake Gemini (AI Studio, v1beta) Files + Batch API server for end-to-end tests.
// Implementation lives in ./gemini/; see ./gemini/server.ts for the exported control API.

export { startGeminiFake } from './gemini/server'
export type { GeminiFake, GeminiFakeOptions } from './gemini/server'
export type { StoredFile } from './gemini/files'
export type { BatchRecord, BatchState, BatchStats } from './gemini/batches'
