// Anthropic Files & Message Batches routes under /anthropic/v1, for both SDK generations
// (x-api-key or Bearer auth, `?beta=true`, any anthropic-version / anthropic-beta). Routes only:
// each reads what it needs from the request and calls core/; errors are mapped once in app.ts.
// The provider comes from the `x-model-provider` header: it picks the upstream at create/upload
// and filters lists when sent; calls addressed by a gateway id check it (another provider's id is a 404).

import { Elysia } from 'elysia'
import { resolveTenant } from '../../auth'
import type { StoredBatch } from '../../core/batch'
import type { FilePurpose, StoredFile } from '../../core/file'
import type { ProviderKind, ProviderName } from '../../core/provider-name'
import { resolveStorage } from '../../core/s3-targets'
import type { Services } from '../../core/services'
import { GatewayError, invalid } from '../../errors'
import { jsonBody } from '../json-body'
import { knownQuery, onlyKnownFields } from '../known-params'
import { parseMultipartUpload, type SpooledPart } from '../multipart-upload'
import { providerFromHeader } from './provider-header'
import {
  BatchCreateBody,
  BatchDeleted,
  BatchList,
  BatchListQuery,
  BatchObject,
  BetaQuery,
  FileDeleted,
  FileList,
  FileListQuery,
  FileObject,
  IdParams,
} from './schemas'
import { batchToWire, fileToWire, listToWire } from './to-wire'

const PREFIX = '/anthropic/v1'
const DEFAULT_PROVIDER: ProviderName = 'anthropic'

export function anthropicDialect(services: Services) {
  return new Elysia({ name: 'anthropic-dialect' }).use(anthropicFiles(services)).use(anthropicBatches(services))
}

/** Auth and the provider header, read once per request for every route of a sub-plugin. */
function context(services: Services, request: Request) {
  return {
    tenant: resolveTenant(services.config.keys, request.headers, 'anthropic'),
    // Validated on every call, so a misspelt header fails loudly even where it is not used.
    explicitProvider: providerFromHeader(request.headers, services.registry.known()),
  }
}

function anthropicFiles(services: Services) {
  const { config, files, store, registry } = services
  return new Elysia({ name: 'anthropic-dialect-files', prefix: PREFIX })
    .resolve(({ request }) => context(services, request))
    .post(
      '/files',
      async ({ request, tenant, explicitProvider }) => {
        const provider = explicitProvider ?? DEFAULT_PROVIDER
        const maxBytes = registry.limits(provider).maxUploadBytes
        const upload = await parseMultipartUpload(request, store.blobs, {
          maxFieldBytes: 64 * 1024,
          maxFields: 64,
          // Anthropic-dialect uploads name no purpose: only the byte cap can be held while streaming.
          fileCaps: () => ({ maxBytes }),
        })
        try {
          if (!upload.file) throw invalid("file: Field required (send the file in a multipart part named 'file').", { param: 'file' })
          onlyKnownFields(upload.fields, ['expires_in_seconds'])
          const file = await files.upload({
            tenant,
            dialect: 'anthropic',
            provider,
            raw: upload.file,
            purpose: purposeFor(registry.get(provider).kind, upload.file),
            storage: resolveStorage(registry.instance(provider), null),
            expiresAfterSeconds: expiresIn(upload.fields),
          })
          return fileToWire(file)
        } finally {
          if (upload.file) store.blobs.remove(upload.file.path)
        }
      },
      { parse: 'none', ...knownQuery(BetaQuery), response: FileObject },
    )
    .get(
      '/files',
      async ({ request, tenant, explicitProvider, query }) => {
        const ids = [...new URL(request.url).searchParams.entries()].filter(([k]) => IDS_PARAM.test(k)).map(([, v]) => v)
        oneCursor(query)
        if (ids.length > 0) return filesById(services, tenant, explicitProvider, ids, query)
        const page = await files.list(tenant, { provider: explicitProvider }, {
          limit: query.limit ?? 20,
          // `page` (GA cursor) is the last id of the previous page, i.e. an `after_id`.
          after: query.page ?? query.after_id,
          before: query.page ? undefined : query.before_id,
          order: 'desc',
        })
        const list = listToWire(page.items.map(fileToWire), page.hasMore)
        // A `before_id` walk has no forward cursor: the GA generation never sends before_id.
        const forward = !query.before_id || Boolean(query.page)
        return { ...list, next_page: page.hasMore && forward ? list.last_id : null }
      },
      { ...knownQuery(FileListQuery, [IDS_PARAM]), response: FileList },
    )
    .get('/files/:id', async ({ tenant, params, explicitProvider }) => fileToWire(await files.get(tenant, params.id, explicitProvider)), {
      params: IdParams,
      ...knownQuery(BetaQuery),
      response: FileObject,
    })
    .get(
      '/files/:id/content',
      async ({ tenant, params, explicitProvider }) =>
        new Response(await files.content(tenant, params.id, explicitProvider), { headers: { 'content-type': 'application/octet-stream' } }),
      { params: IdParams, query: BetaQuery },
    )
    .delete(
      '/files/:id',
      async ({ tenant, params, explicitProvider }) => {
        const file = await files.delete(tenant, params.id, explicitProvider)
        return { id: file.id, type: 'file_deleted' as const }
      },
      { params: IdParams, ...knownQuery(BetaQuery), response: FileDeleted, parse: 'none' },
    )
}

function anthropicBatches(services: Services) {
  const { config, batches, creator, store } = services
  // The SDK follows results_url verbatim, so it must name a host the caller can reach.
  const base = (request: Request) => config.publicUrl ?? new URL(request.url).origin
  // Providers fed through an input file the gateway wrote know their request count only later;
  // that file's line count is the number Anthropic's `processing` needs from the start.
  const wire = async (batch: StoredBatch, origin: string) => {
    // getAny: a gateway-made input, or one the client deleted while the batch ran, still counts.
    const input = batch.inputFileId ? await store.files.getAny(batch.inputFileId) : null
    return batchToWire(batch, origin, input?.facts.lines ?? 0)
  }
  return new Elysia({ name: 'anthropic-dialect-batches', prefix: PREFIX })
    .resolve(({ request }) => context(services, request))
    .post(
      '/messages/batches',
      async ({ request, tenant, explicitProvider, body }) => {
        const batch = await creator.create({
          tenant,
          dialect: 'anthropic',
          provider: explicitProvider ?? DEFAULT_PROVIDER,
          input: { kind: 'inline', requests: body.requests },
          endpoint: '/v1/chat/completions',
          completionWindow: '24h',
          metadata: null,
          model: null,
          outputS3Uri: null,
          roleArn: null,
        })
        return wire(batch, base(request))
      },
      { parse: jsonBody(config.limits.maxJsonBodyBytes, BatchCreateBody), body: BatchCreateBody, ...knownQuery(BetaQuery), response: BatchObject },
    )
    .get(
      '/messages/batches',
      async ({ request, tenant, explicitProvider, query }) => {
        oneCursor(query)
        const page = await batches.list(
          tenant,
          { limit: query.limit ?? 20, after: query.after_id, before: query.before_id, order: 'desc' },
          { dialect: 'anthropic', provider: explicitProvider },
        )
        const origin = base(request)
        return listToWire(await Promise.all(page.items.map((b) => wire(b, origin))), page.hasMore)
      },
      { ...knownQuery(BatchListQuery), response: BatchList },
    )
    .get(
      '/messages/batches/:id',
      async ({ request, tenant, params, explicitProvider }) => wire(await batches.get(tenant, params.id, explicitProvider), base(request)),
      { params: IdParams, ...knownQuery(BetaQuery), response: BatchObject },
    )
    .post(
      '/messages/batches/:id/cancel',
      async ({ request, tenant, params, explicitProvider }) => wire(await batches.cancel(tenant, params.id, explicitProvider), base(request)),
      // The SDK sends no body on cancel.
      { params: IdParams, ...knownQuery(BetaQuery), response: BatchObject, parse: 'none' },
    )
    .delete(
      '/messages/batches/:id',
      async ({ tenant, params, explicitProvider }) => {
        const batch = await batches.delete(tenant, params.id, explicitProvider)
        return { id: batch.id, type: 'message_batch_deleted' as const }
      },
      { params: IdParams, ...knownQuery(BetaQuery), response: BatchDeleted, parse: 'none' },
    )
    .get(
      '/messages/batches/:id/results',
      async ({ tenant, params, explicitProvider }) => {
        await batches.find(tenant, params.id, explicitProvider)
        return new Response(await batches.results(tenant, params.id, 'anthropic'), {
          headers: { 'content-type': 'application/binary' },
        })
      },
      { params: IdParams, query: BetaQuery },
    )
}

/** GA `ids[]` (or `ids`) on files list: read from the raw query, so known to knownQuery by pattern. */
const IDS_PARAM = /^ids(?:\[\])?$/

/** One cursor per list call: two would mean one of them is dropped. */
function oneCursor(query: { before_id?: string; after_id?: string; page?: string }): void {
  const sent = (['before_id', 'after_id', 'page'] as const).filter((k) => query[k] !== undefined)
  if (sent.length > 1) throw invalid(`${sent.join(' and ')}: send only one cursor per list call.`, { param: sent[1] })
}

const JSONL_TYPES = ['application/jsonl', 'application/x-ndjson', 'application/x-jsonlines', 'application/jsonlines']

/**
 * What a file is at the provider. OpenAI-shaped kinds and Mistral: a JSONL upload is batch input
 * (validated line by line, as in the OpenAI dialect), anything else generic user data (which Groq
 * and Mistral refuse).
 * Elsewhere: an opaque user file.
 */
function purposeFor(kind: ProviderKind, part: SpooledPart): FilePurpose {
  if (kind !== 'openai' && kind !== 'groq' && kind !== 'azure-openai' && kind !== 'emulated' && kind !== 'mistral') return 'user'
  const mime = part.mimeType.split(';')[0]?.trim().toLowerCase() ?? ''
  return part.filename.toLowerCase().endsWith('.jsonl') || JSONL_TYPES.includes(mime) ? 'batch' : 'user_data'
}

/** GA `expires_in_seconds`: 1 hour to 90 days. */
function expiresIn(fields: ReadonlyMap<string, string>): number | null {
  const raw = fields.get('expires_in_seconds')
  if (raw === undefined || raw === '') return null
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 3600 || n > 7776000) {
    throw invalid('expires_in_seconds: Input should be an integer from 3600 to 7776000.', { param: 'expires_in_seconds' })
  }
  return n
}

/** GA `ids[]`: exactly these files (unknown ids left out), exclusive with page/limit, ≤ 100. */
async function filesById(
  services: Services,
  tenant: string,
  provider: ProviderName | undefined,
  ids: string[],
  query: { page?: string; limit?: number },
) {
  if (query.page !== undefined || query.limit !== undefined) throw invalid('ids: cannot be combined with page or limit.', { param: 'ids' })
  if (ids.length > 100) throw invalid('ids: List should have at most 100 items.', { param: 'ids' })
  const found: StoredFile[] = []
  for (const id of new Set(ids)) {
    try {
      found.push(await services.files.get(tenant, id, provider))
    } catch (err) {
      if (!(err instanceof GatewayError && err.kind === 'not_found')) throw err
    }
  }
  found.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  return { ...listToWire(found.map(fileToWire), false), next_page: null }
}
