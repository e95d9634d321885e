// Bedrock batch-inference control-plane fake (CreateModelInvocationJob / Get / List / Stop),
// reading input from and writing output to the S3 fake. Implementation lives in ./bedrock/.
export { startBedrockFake, type BedrockFake, type BedrockFakeOptions } from './bedrock/server'
export type { BedrockJob, InputFile, InputRecord } from './bedrock/jobs'
export { JOB_STATUSES, type JobStatus, type CreateJobRequest } from './bedrock/validate'
export { invokeRecord, modelFamily, type ModelFamily, type RecordResult } from './bedrock/models'
export { DEFAULT_AWS_CREDENTIALS, type AwsFakeCredentials } from './sigv4'
