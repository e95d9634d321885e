// OpenAI Files & Batch routes under /openai and /openai/v1. Routes only: each reads what it
// needs from the request and calls core/; errors are mapped once in app.ts.

import { Elysia } from 'elysia'
import { resolveTenant } from '../../auth'
import { streamingCaps } from '../../core/batch-file'
import type { FilePurpose } from '../../core/file'
import type { EarlyUpload, PartConverter, StreamedConversion } from '../../core/file-upload'
import type { ProviderKind } from '../../core/provider-name'
import { checkOutputUri, parseStorageConfig, type RequestedStorage, resolveStorage, storeOf } from '../../core/s3-targets'
import type { Services } from '../../core/services'
import { CHAT_COMPLETIONS, EMULATED_BATCH_ENDPOINTS, OPENAI_BATCH_ENDPOINTS } from '../../convert/requests/openai-line'
import { type GatewayError, invalid } from '../../errors'
import { nestedField } from '../form-fields'
import { jsonBody, optionalJsonBody } from '../json-body'
import { knownQuery, onlyKnownFields } from '../known-params'
import { parseMultipartUpload } from '../multipart-upload'
import { providerChooser } from './provider-choice'
import { openaiUploads } from './uploads'
import {
  BatchCreateBody,
  BatchList,
  BatchListQuery,
  BatchObject,
  CancelBody,
  FileDeleted,
  FileList,
  FileListQuery,
  FileObject,
  IdParams,
  ProviderQuery,
} from './schemas'
import { batchToWire, fileToWire, listToWire } from './to-wire'

const PURPOSES: readonly FilePurpose[] = ['batch', 'assistants', 'fine-tune', 'vision', 'user_data', 'evals']

export function openaiDialect(services: Services, prefix: '/openai' | '/openai/v1') {
  const { config, files, batches, creator, store, registry } = services
  const chooseProvider = providerChooser(registry.known())
  /** The kind behind an explicitly named provider; the default provider is openai's. */
  const kindOf = (name: string | undefined) => (name ? registry.get(name).kind : 'openai')
  /** A named, configured instance's limits; an unconfigured name fails later, with its own error. */
  const configured = (name: string | undefined) =>
    name && registry.names().includes(name) ? { name, limits: registry.limits(name) } : undefined
  /**
   * What a one-pass upload knows when its part starts, for an upload that overlaps the
   * conversion; undefined when the storage fields before the part do not resolve (the same check
   * after the part then reports it).
   */
  const earlyUpload = (
    tenant: string,
    provider: string,
    before: ReadonlyMap<string, string>,
    part: { filename: string; mimeType: string },
  ): EarlyUpload | undefined => {
    try {
      const storage = resolveStorage(registry.instance(provider), storageFor(kindOf(provider), nestedField(before, 'storage_config')))
      return { tenant, dialect: 'openai', storage, ...part }
    } catch {
      return undefined
    }
  }
  return new Elysia({ name: `openai-dialect${prefix}`, prefix })
    .use(openaiUploads(services, services.uploads, prefix))
    .resolve(({ request }) => ({ tenant: resolveTenant(config.keys, request.headers, 'openai') }))
    .post(
      '/files',
      async ({ request, tenant, query }) => {
        // The provider and purpose may come in form fields after the file (the OpenAI SDK sends
        // `file` first); what the query and the fields before the file say is held while streaming.
        let converter: PartConverter | null = null
        const upload = await parseMultipartUpload(request, store.blobs, {
          maxFieldBytes: 64 * 1024,
          maxFields: 64,
          fileCaps: (before) =>
            streamingCaps(configured(chooseProvider(before.get('provider'), query.provider)), before.get('purpose'), registry.maxUploadBytes()),
          // One pass when the fields before the file already say "batch for this provider".
          consume: (before, part) => {
            const early = configured(chooseProvider(before.get('provider'), query.provider))
            if (!early || before.get('purpose') !== 'batch') return null
            return files.streamingConversion(early.name, earlyUpload(tenant, early.name, before, part)).then((c) => {
              converter = c
              return c
            })
          },
        })
        try {
          const provider = chooseProvider(upload.fields.get('provider'), query.provider) ?? 'openai'
          const purpose = upload.fields.get('purpose')
          if (!purpose) throw invalid("Missing required parameter: 'purpose'.", { param: 'purpose' })
          if (!PURPOSES.includes(purpose as FilePurpose)) {
            throw invalid(`'${purpose.slice(0, 64)}' is not a valid purpose. Expected one of: ${PURPOSES.join(', ')}.`, {
              param: 'purpose',
            })
          }
          if (!upload.file) throw invalid("Missing required parameter: 'file'.", { param: 'file' })
          onlyKnownFields(upload.fields, UPLOAD_FIELDS, [STORAGE_FIELD])
          const storage = resolveStorage(registry.instance(provider), storageFor(kindOf(provider), nestedField(upload.fields, 'storage_config')))
          const file = await files.upload({
            tenant,
            dialect: 'openai',
            provider,
            raw: upload.file,
            purpose: purpose as FilePurpose,
            storage,
            expiresAfterSeconds: expiresAfter(upload.fields),
            ...(upload.consumed ? { converted: upload.consumed as StreamedConversion | { failed: GatewayError } } : {}),
          })
          return fileToWire(file)
        } finally {
          if (upload.file) store.blobs.remove(upload.file.path)
          await (converter as PartConverter | null)?.release()
          for (const path of (converter as PartConverter | null)?.paths ?? []) store.blobs.remove(path)
        }
      },
      { parse: 'none', ...knownQuery(ProviderQuery), response: FileObject },
    )
    .get(
      '/files',
      async ({ request, tenant, query }) => {
        const provider = chooseProvider(query.provider)
        // The seed lists Bedrock files with extra_query storage_config[s3][…]: a bucket/prefix filter.
        const requested = storageFor(kindOf(provider), nestedField(new Map(new URL(request.url).searchParams), 'storage_config'))
        const target = requested && provider ? resolveStorage(registry.instance(provider), requested) : null
        // Unlike an upload, a filter without a prefix means the whole bucket.
        const storage = target ? { ...target, prefix: requested?.prefix === undefined ? '' : target.prefix } : undefined
        const page = await files.list(tenant, { purpose: query.purpose, provider, storage }, {
          limit: query.limit ?? 10000,
          after: query.after,
          order: query.order ?? 'desc',
        })
        return listToWire(page.items.map(fileToWire), page.hasMore)
      },
      { ...knownQuery(FileListQuery, [STORAGE_FIELD]), response: FileList },
    )
    .get('/files/:id', async ({ tenant, params, query }) => fileToWire(await files.get(tenant, params.id, chooseProvider(query.provider))), {
      params: IdParams,
      ...knownQuery(ProviderQuery),
      response: FileObject,
    })
    .delete(
      '/files/:id',
      async ({ tenant, params, query }) => {
        const file = await files.delete(tenant, params.id, chooseProvider(query.provider))
        return { id: file.id, object: 'file' as const, deleted: true }
      },
      { params: IdParams, ...knownQuery(ProviderQuery), response: FileDeleted },
    )
    .get(
      '/files/:id/content',
      async ({ tenant, params, query }) =>
        new Response(await files.content(tenant, params.id, chooseProvider(query.provider)), {
          headers: { 'content-type': 'application/octet-stream' },
        }),
      { params: IdParams, ...knownQuery(ProviderQuery) },
    )
    .post(
      '/batches',
      async ({ tenant, body, query }) => {
        const explicit = chooseProvider(body.provider, query.provider)
        const provider = explicit ?? 'openai'
        const kind = kindOf(explicit)
        const inline = body.requests !== undefined && body.input_file_id === ''
        if (body.requests !== undefined && !inline) {
          throw invalid("Send either input_file_id or inline 'requests' (with input_file_id ''), not both.", { param: 'requests' })
        }
        if (!inline && !body.input_file_id) {
          throw invalid("Missing required parameter: 'input_file_id' (or send inline 'requests' with input_file_id '').", {
            param: 'input_file_id',
          })
        }
        // Inline requests are chat requests (converted through the hub); emulated files run as sent.
        const endpoints: readonly string[] =
          kind === 'openai' ? OPENAI_BATCH_ENDPOINTS : kind === 'emulated' && !inline ? EMULATED_BATCH_ENDPOINTS : [CHAT_COMPLETIONS]
        if (!endpoints.includes(body.endpoint)) {
          throw invalid(`endpoint must be one of ${endpoints.join(', ')} for provider ${provider}.`, { param: 'endpoint' })
        }
        const batch = await creator.create({
          tenant,
          dialect: 'openai',
          provider,
          input: inline
            ? { kind: 'inline', requests: body.requests ?? [] }
            : { kind: 'file', fileId: body.input_file_id, providerHint: explicit },
          endpoint: body.endpoint,
          completionWindow: body.completion_window,
          metadata: body.metadata ?? null,
          model: body.model ?? null,
          outputS3Uri: body.output_s3_uri
            ? checkOutputUri(explicit ? [registry.instance(explicit)] : registry.names().map((n) => registry.instance(n)), body.output_s3_uri)
            : null,
          roleArn: body.role_arn ?? null,
          outputExpiresAfterSeconds: body.output_expires_after?.seconds ?? null,
        })
        return batchToWire(batch)
      },
      { parse: jsonBody(config.limits.maxJsonBodyBytes, BatchCreateBody), body: BatchCreateBody, ...knownQuery(ProviderQuery), response: BatchObject },
    )
    .get(
      '/batches',
      async ({ tenant, query }) => {
        const page = await batches.list(
          tenant,
          { limit: query.limit ?? 20, after: query.after, order: 'desc' },
          { provider: chooseProvider(query.provider), model: query.model },
        )
        return listToWire(page.items.map(batchToWire), page.hasMore)
      },
      { ...knownQuery(BatchListQuery), response: BatchList },
    )
    .get(
      '/batches/:id',
      async ({ tenant, params, query }) => batchToWire(await batches.get(tenant, params.id, chooseProvider(query.provider))),
      { params: IdParams, ...knownQuery(ProviderQuery), response: BatchObject },
    )
    .post(
      '/batches/:id/cancel',
      async ({ tenant, params, query, body }) =>
        batchToWire(await batches.cancel(tenant, params.id, chooseProvider(body.provider, query.provider))),
      // The SDK sends no body on cancel; the seed's extra_body={"provider": …} arrives as JSON.
      {
        params: IdParams,
        ...knownQuery(ProviderQuery),
        response: BatchObject,
        parse: optionalJsonBody(config.limits.maxJsonBodyBytes, CancelBody),
        body: CancelBody,
      },
    )
}

const UPLOAD_FIELDS = ['purpose', 'provider', 'expires_after[anchor]', 'expires_after[seconds]', 'storage_config']
const STORAGE_FIELD = /^storage_config\[/

/** `storage_config` read and checked: `[s3]` for Bedrock, `[gcs]` for Vertex; elsewhere a 400. */
function storageFor(kind: ProviderKind, raw: unknown): RequestedStorage | null {
  const store = storeOf(kind)
  if (raw !== undefined && store === null) {
    throw invalid(`storage_config is only used by bedrock and vertex; this provider keeps files itself.`, { param: 'storage_config' })
  }
  return parseStorageConfig(raw, store ?? 's3')
}

function expiresAfter(fields: ReadonlyMap<string, string>): number | null {
  const anchor = fields.get('expires_after[anchor]')
  const seconds = fields.get('expires_after[seconds]')
  if (anchor === undefined && seconds === undefined) return null
  if (anchor !== 'created_at') throw invalid("expires_after[anchor] must be 'created_at'.", { param: 'expires_after[anchor]' })
  const n = Number(seconds)
  if (!Number.isInteger(n) || n < 3600 || n > 2592000) {
    throw invalid('expires_after[seconds] must be an integer from 3600 to 2592000.', { param: 'expires_after[seconds]' })
  }
  return n
}
