// S3 fake (path-style, SigV4-verified) used as the Bedrock batch input/output store.
// Implementation lives in ./s3/; see ./s3/server.ts for the supported operations.
export { startS3Fake, MIN_PART_SIZE, type S3Fake, type S3FakeOptions, type OpenMultipartUpload } from './s3/server'
export { S3Error } from './s3/errors'
export type { StoredObject, MultipartUpload } from './s3/store'
export { DEFAULT_AWS_CREDENTIALS, type AwsFakeCredentials } from './sigv4'
