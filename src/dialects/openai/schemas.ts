// TypeBox models of the OpenAI Files & Batch wire shapes this dialect accepts and returns.
// Types are taken from the schemas (`typeof X.static`), never written twice.

import { t } from 'elysia'

export const ErrorEnvelope = t.Object({
  error: t.Object({
    message: t.String(),
    type: t.String(),
    param: t.Union([t.String(), t.Null()]),
    code: t.Union([t.String(), t.Null()]),
  }),
})

export const FileObject = t.Object({
  id: t.String(),
  object: t.Literal('file'),
  bytes: t.Integer(),
  created_at: t.Integer(),
  expires_at: t.Optional(t.Union([t.Integer(), t.Null()])),
  filename: t.String(),
  purpose: t.String(),
  status: t.Union([t.Literal('uploaded'), t.Literal('processed'), t.Literal('error')]),
  status_details: t.Optional(t.Union([t.String(), t.Null()])),
})
export type FileObject = typeof FileObject.static

export const FileDeleted = t.Object({ id: t.String(), object: t.Literal('file'), deleted: t.Boolean() })

const list = <T extends ReturnType<typeof t.Object>>(item: T) =>
  t.Object({
    object: t.Literal('list'),
    data: t.Array(item),
    first_id: t.Union([t.String(), t.Null()]),
    last_id: t.Union([t.String(), t.Null()]),
    has_more: t.Boolean(),
  })

export const FileList = list(FileObject)

const Timestamp = t.Union([t.Integer(), t.Null()])

export const BatchObject = t.Object({
  id: t.String(),
  object: t.Literal('batch'),
  endpoint: t.String(),
  model: t.Optional(t.String()),
  errors: t.Union([
    t.Object({
      object: t.Literal('list'),
      data: t.Array(
        t.Object({
          code: t.String(),
          message: t.String(),
          param: t.Union([t.String(), t.Null()]),
          line: t.Union([t.Integer(), t.Null()]),
        }),
      ),
    }),
    t.Null(),
  ]),
  input_file_id: t.String(),
  completion_window: t.String(),
  status: t.Union([
    t.Literal('validating'),
    t.Literal('failed'),
    t.Literal('in_progress'),
    t.Literal('finalizing'),
    t.Literal('completed'),
    t.Literal('expired'),
    t.Literal('cancelling'),
    t.Literal('cancelled'),
  ]),
  output_file_id: t.Union([t.String(), t.Null()]),
  error_file_id: t.Union([t.String(), t.Null()]),
  created_at: t.Integer(),
  in_progress_at: Timestamp,
  expires_at: Timestamp,
  finalizing_at: Timestamp,
  completed_at: Timestamp,
  failed_at: Timestamp,
  expired_at: Timestamp,
  cancelling_at: Timestamp,
  cancelled_at: Timestamp,
  request_counts: t.Object({ total: t.Integer(), completed: t.Integer(), failed: t.Integer() }),
  metadata: t.Union([t.Record(t.String(), t.String()), t.Null()]),
  /** Settled token usage (openai.md §4.5); present once the batch has ended and been settled. */
  usage: t.Optional(
    t.Object({
      input_tokens: t.Integer(),
      input_tokens_details: t.Object({ cached_tokens: t.Integer() }),
      output_tokens: t.Integer(),
      output_tokens_details: t.Object({ reasoning_tokens: t.Integer() }),
      total_tokens: t.Integer(),
    }),
  ),
})
export type BatchObject = typeof BatchObject.static

export const BatchList = list(BatchObject)

export const ProviderField = t.Optional(t.String({ maxLength: 64 }))

/** Whole numbers only: `limit=1.5` must be a 400 here, not a failed SQL bind later. */
const Limit = (max: number) =>
  t.Optional(t.Integer({ minimum: 1, maximum: max, error: `limit: must be an integer from 1 to ${max}` }))

export const FileListQuery = t.Object({
  purpose: t.Optional(t.String({ maxLength: 64 })),
  limit: Limit(10000),
  after: t.Optional(t.String({ maxLength: 256 })),
  order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')])),
  provider: ProviderField,
})

export const BatchListQuery = t.Object({
  limit: Limit(100),
  after: t.Optional(t.String({ maxLength: 256 })),
  provider: ProviderField,
  /** The seed sends it (extra_query) when listing Bedrock batches: only batches on that model. */
  model: t.Optional(t.String({ minLength: 1, maxLength: 2048 })),
})

/** Cancel takes no body; the seed's extra_body may carry the provider. */
export const CancelBody = t.Object({ provider: ProviderField }, { additionalProperties: false })

export const ProviderQuery = t.Object({ provider: ProviderField })

export const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 256 }) })

export const S3StorageConfig = t.Object({
  s3: t.Object({
    bucket: t.String({ minLength: 3, maxLength: 63 }),
    region: t.Optional(t.String({ maxLength: 32 })),
    prefix: t.Optional(t.String({ maxLength: 512 })),
  }),
})

/**
 * OpenAI's metadata rules: at most 16 pairs, keys up to 64 characters, string values up to 512.
 * The key length lives in the key pattern (a Record's key schema keeps no maxLength); the
 * validation messages read the bounds back from it.
 */
const Metadata = t.Record(t.String({ pattern: '^[\\s\\S]{1,64}$' }), t.String({ maxLength: 512 }), {
  maxProperties: 16,
  additionalProperties: false,
})

/** Unknown fields are refused (additionalProperties: false), never dropped. */
export const BatchCreateBody = t.Object(
  {
    input_file_id: t.String({ maxLength: 256 }),
    endpoint: t.String({ maxLength: 64 }),
    completion_window: t.String({ maxLength: 16 }),
    metadata: t.Optional(t.Union([Metadata, t.Null()])),
    output_expires_after: t.Optional(
      t.Object({ anchor: t.Literal('created_at'), seconds: t.Integer({ minimum: 3600, maximum: 2592000 }) }),
    ),
    provider: ProviderField,
    model: t.Optional(t.String({ minLength: 1, maxLength: 2048 })),
    output_s3_uri: t.Optional(t.String({ maxLength: 1024 })),
    role_arn: t.Optional(t.String({ maxLength: 2048 })),
    requests: t.Optional(t.Array(t.Unknown())),
  },
  { additionalProperties: false },
)
export type BatchCreateBody = typeof BatchCreateBody.static
