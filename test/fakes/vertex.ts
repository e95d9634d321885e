// Fake Google Cloud project for end-to-end tests of the vertex kind: OAuth token endpoint,
// Cloud Storage and Vertex AI batch prediction. Implementation lives in ./vertex/.

export { startVertexFake } from './vertex/server'
export type { VertexFake, VertexFakeOptions } from './vertex/server'
export type { Job, JobState } from './vertex/jobs'
