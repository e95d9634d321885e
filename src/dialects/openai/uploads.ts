// OpenAI Uploads API routes (POST /uploads, /uploads/{id}/parts, /complete, /cancel) for every
// provider: `provider` in the create body (extra_body) or the query picks where the finished file
// goes. Routes only; the rules live in core/upload-service.ts.

import { Elysia, t } from 'elysia'
import { resolveTenant } from '../../auth'
import type { StoredFile } from '../../core/file'
import type { Services } from '../../core/services'
import { MAX_PART_BYTES, type UploadService } from '../../core/upload-service'
import { invalid } from '../../errors'
import type { UploadRecord } from '../../store/upload-parts'
import { jsonBody } from '../json-body'
import { knownQuery } from '../known-params'
import { parseMultipartUpload } from '../multipart-upload'
import { providerChooser } from './provider-choice'
import { FileObject, ProviderQuery } from './schemas'
import { fileToWire } from './to-wire'

const UploadObject = t.Object({
  id: t.String(),
  object: t.Literal('upload'),
  bytes: t.Integer(),
  created_at: t.Integer(),
  expires_at: t.Integer(),
  filename: t.String(),
  purpose: t.String(),
  status: t.Union([t.Literal('pending'), t.Literal('completed'), t.Literal('cancelled'), t.Literal('expired')]),
  file: t.Union([FileObject, t.Null()]),
})
type UploadObject = typeof UploadObject.static

const UploadPartObject = t.Object({
  id: t.String(),
  object: t.Literal('upload.part'),
  created_at: t.Integer(),
  upload_id: t.String(),
})

const UploadCreateBody = t.Object({
  filename: t.String({ minLength: 1, maxLength: 1024 }),
  purpose: t.String({ maxLength: 64 }),
  bytes: t.Integer(),
  mime_type: t.String({ minLength: 1, maxLength: 255 }),
  expires_after: t.Optional(t.Object({ anchor: t.Literal('created_at'), seconds: t.Integer({ minimum: 3600, maximum: 2592000 }) })),
  provider: t.Optional(t.String()),
}, { additionalProperties: false })

const UploadCompleteBody = t.Object({
  part_ids: t.Array(t.String(), { maxItems: 10_000 }),
  md5: t.Optional(t.String({ maxLength: 128 })),
  provider: t.Optional(t.String()),
}, { additionalProperties: false })

const UploadParams = t.Object({ id: t.String({ maxLength: 200 }) })

function uploadToWire(upload: UploadRecord, file: StoredFile | null = null): UploadObject {
  return {
    id: upload.id,
    object: 'upload',
    bytes: upload.bytes,
    created_at: upload.createdAt,
    expires_at: upload.expiresAt,
    filename: upload.filename,
    purpose: upload.purpose,
    status: upload.status,
    file: file ? fileToWire(file) : null,
  }
}

export function openaiUploads(services: Services, uploads: UploadService, prefix: '/openai' | '/openai/v1') {
  const { config, store, registry } = services
  const chooseProvider = providerChooser(registry.known())
  const limit = config.limits.maxJsonBodyBytes
  // Mounted inside the dialect plugin, which adds the prefix; the name only keeps the two mounts apart.
  return new Elysia({ name: `openai-uploads${prefix}` })
    .resolve(({ request }) => ({ tenant: resolveTenant(config.keys, request.headers, 'openai') }))
    .post(
      '/uploads',
      async ({ tenant, body, query }) =>
        uploadToWire(
          await uploads.create({
            tenant,
            provider: chooseProvider(body.provider, query.provider) ?? 'openai',
            filename: body.filename,
            purpose: body.purpose,
            bytes: body.bytes,
            mimeType: body.mime_type,
            fileExpiresAfter: body.expires_after?.seconds ?? null,
          }),
        ),
      { parse: jsonBody(limit, UploadCreateBody), body: UploadCreateBody, ...knownQuery(ProviderQuery), response: UploadObject },
    )
    .post(
      '/uploads/:id/parts',
      async ({ tenant, params, request }) => {
        const upload = await parseMultipartUpload(request, store.blobs, {
          maxFieldBytes: 64 * 1024,
          maxFields: 16,
          fileField: 'data',
          fileCaps: () => ({ maxBytes: MAX_PART_BYTES }),
        })
        try {
          if (!upload.file) throw invalid("Missing required parameter: 'data'.", { param: 'data' })
          const part = await uploads.addPart(tenant, params.id, upload.file)
          return { id: part.id, object: 'upload.part' as const, created_at: part.createdAt, upload_id: part.uploadId }
        } finally {
          // Moved into the blob store when kept; otherwise removed here.
          if (upload.file) store.blobs.remove(upload.file.path)
        }
      },
      { parse: 'none', params: UploadParams, ...knownQuery(ProviderQuery), response: UploadPartObject },
    )
    .post(
      '/uploads/:id/complete',
      async ({ tenant, params, body }) => {
        const done = await uploads.complete(tenant, params.id, body.part_ids, body.md5)
        return uploadToWire(done.upload, done.file)
      },
      { parse: jsonBody(limit, UploadCompleteBody), params: UploadParams, body: UploadCompleteBody, ...knownQuery(ProviderQuery), response: UploadObject },
    )
    .post('/uploads/:id/cancel', async ({ tenant, params }) => uploadToWire(await uploads.cancel(tenant, params.id)), {
      // The SDK sends no body on cancel.
      parse: 'none',
      params: UploadParams,
      ...knownQuery(ProviderQuery),
      response: UploadObject,
    })
}
