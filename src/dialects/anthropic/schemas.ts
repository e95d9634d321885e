// TypeBox models of the Anthropic Files & Message Batches wire shapes this dialect accepts and
// returns (spec anthropic.md §2–3). Types are taken from the schemas, never written twice.

import { t } from 'elysia'

export const ErrorEnvelope = t.Object({
  type: t.Literal('error'),
  error: t.Object({ type: t.String(), message: t.String() }),
  request_id: t.String(),
})

const Rfc3339 = t.String()
const NullableTime = t.Union([Rfc3339, t.Null()])

export const FileObject = t.Object({
  id: t.String(),
  type: t.Literal('file'),
  filename: t.String(),
  mime_type: t.String(),
  size_bytes: t.Integer(),
  created_at: Rfc3339,
  downloadable: t.Boolean(),
  expires_at: t.Optional(Rfc3339),
})
export type FileObject = typeof FileObject.static

export const FileDeleted = t.Object({ id: t.String(), type: t.Literal('file_deleted') })

/**
 * Both list generations at once: `Page` (first_id/last_id/has_more, SDK ≤ 0.121 and every
 * batches list) and `PageCursor` (next_page, SDK ≥ 0.122 files lists).
 */
export const FileList = t.Object({
  data: t.Array(FileObject),
  first_id: t.Union([t.String(), t.Null()]),
  last_id: t.Union([t.String(), t.Null()]),
  has_more: t.Boolean(),
  next_page: t.Union([t.String(), t.Null()]),
})
export type FileList = typeof FileList.static

export const ProcessingStatus = t.Union([t.Literal('in_progress'), t.Literal('canceling'), t.Literal('ended')])

export const BatchObject = t.Object({
  id: t.String(),
  type: t.Literal('message_batch'),
  processing_status: ProcessingStatus,
  request_counts: t.Object({
    processing: t.Integer(),
    succeeded: t.Integer(),
    errored: t.Integer(),
    canceled: t.Integer(),
    expired: t.Integer(),
  }),
  created_at: Rfc3339,
  expires_at: Rfc3339,
  ended_at: NullableTime,
  cancel_initiated_at: NullableTime,
  archived_at: NullableTime,
  results_url: t.Union([t.String(), t.Null()]),
})
export type BatchObject = typeof BatchObject.static

export const BatchList = t.Object({
  data: t.Array(BatchObject),
  first_id: t.Union([t.String(), t.Null()]),
  last_id: t.Union([t.String(), t.Null()]),
  has_more: t.Boolean(),
})

export const BatchDeleted = t.Object({ id: t.String(), type: t.Literal('message_batch_deleted') })

/** SDK 0.x appends `?beta=true` to beta routes; accepted and ignored. */
const Beta = t.Optional(t.String({ maxLength: 16 }))
const Cursor = t.Optional(t.String({ maxLength: 256 }))
/** Whole numbers only: `limit=1.5` must be a 400 here, not a failed SQL bind later. */
const Limit = t.Optional(t.Integer({ minimum: 1, maximum: 1000, error: 'limit: must be an integer from 1 to 1000' }))

export const BetaQuery = t.Object({ beta: Beta })

export const BatchListQuery = t.Object({
  before_id: Cursor,
  after_id: Cursor,
  limit: Limit,
  beta: Beta,
})

export const FileListQuery = t.Object({
  before_id: Cursor,
  after_id: Cursor,
  /** GA cursor: opaque to clients; ours is the last id of the previous page. */
  page: Cursor,
  limit: Limit,
  scope_id: t.Optional(t.String({ maxLength: 256 })),
  beta: Beta,
})

export const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 256 }) })

export const BatchCreateBody = t.Object(
  {
    // Items are validated one by one in core (custom_id, params) so errors name `requests.N.…`.
    requests: t.Array(t.Unknown()),
  },
  // Unknown fields are refused, as Anthropic does ("Extra inputs are not permitted").
  { additionalProperties: false },
)
