// OpenAI Files + Batches fake: entry point. The implementation lives in ./openai/.
export { startOpenAIFake, type OpenAIFake, type OpenAIFakeOptions } from './openai/server'
export type { StoredFile } from './openai/store'
export type { OpenAIBatch, OpenAIFileObject, BatchStatus } from './openai/wire'
