// Anthropic Files + Message Batches fake. Implementation lives in ./anthropic/.
export { startAnthropicFake, type AnthropicFake, type AnthropicFakeOptions } from './anthropic/server'
export type { BatchObject, IndividualResult, ProcessingStatus, StoredBatch } from './anthropic/batches'
export type { FileObject, StoredFile } from './anthropic/files'
