// What differs between OpenAI's own Files + Batches API and the OpenAI-shaped batch APIs of other
// providers the same fake serves. Each value is taken from that provider's public reference.

import { MAX_FILE_BYTES, UPLOAD_PURPOSES } from './files'
import { errorResponse, json } from './wire'

export interface Flavor {
  name: string
  /** Path segments before `files` / `batches`: OpenAI `/v1`, Groq `/openai/v1`. */
  prefix: readonly string[]
  purposes: readonly string[]
  endpoints: readonly string[]
  maxFileBytes: number
  maxBatchInputBytes: number
  /** Lists page with limit/after and has_more (OpenAI), or are one `{object, data}` list (Groq). */
  pagedLists: boolean
  /** Whether the Uploads API (multi-part uploads) exists. */
  uploads: boolean
  /** Seconds a `completion_window` value stands for, or an error message naming the accepted ones. */
  completionWindow(value: string): number | string
  /** The request's credentials (and, for Azure, its api-version): an error Response, or undefined. */
  auth(req: Request, url: URL, apiKey: string): Response | undefined
  /** The endpoint as the batch object reports it and input lines are matched against. */
  canonicalEndpoint(endpoint: string): string
}

const HOUR = 3600

function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`
}

/** 401 in the real shape; the message says whether the key was missing or wrong. */
function bearerAuth(req: Request, _url: URL, apiKey: string): Response | undefined {
  const header = req.headers.get('authorization')
  if (header === `Bearer ${apiKey}`) return undefined
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined
  const message = given
    ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
    : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
  return errorResponse(401, message, null, 'invalid_api_key')
}


/** Endpoints a batch may target (openai.md §4 POST /batches). */
export const BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
] as const

export const OPENAI_FLAVOR: Flavor = {
  name: 'openai',
  prefix: ['v1'],
  purposes: UPLOAD_PURPOSES,
  endpoints: BATCH_ENDPOINTS,
  maxFileBytes: MAX_FILE_BYTES,
  // Batch input files are capped at 200 MB (openai.md §2 "Limits").
  maxBatchInputBytes: 200 * 1024 * 1024,
  pagedLists: true,
  uploads: true,
  completionWindow: (v) => (v === '24h' ? 24 * HOUR : "Supported values are: '24h'."),
  auth: bearerAuth,
  canonicalEndpoint: (e) => e,
}

/**
 * Groq (groq-sdk 1.x resources/files + batches, console.groq.com/docs/batch): paths under
 * `/openai/v1`, files only for purpose `batch` and up to 100 MB, only chat completions, and
 * completion windows from 24h to 7d written as hours or days.
 */
export const GROQ_FLAVOR: Flavor = {
  name: 'groq',
  prefix: ['openai', 'v1'],
  purposes: ['batch'],
  endpoints: ['/v1/chat/completions'],
  maxFileBytes: 100 * 1024 * 1024,
  maxBatchInputBytes: 100 * 1024 * 1024,
  pagedLists: false,
  uploads: false,
  completionWindow: (v) => {
    const m = /^(\d{1,3})([hd])$/.exec(v)
    const hours = m ? Number(m[1]) * (m[2] === 'd' ? 24 : 1) : Number.NaN
    return hours >= 24 && hours <= 168 ? hours * HOUR : 'Durations from 24h to 7d are supported.'
  },
  auth: bearerAuth,
  canonicalEndpoint: (e) => e,
}

/** API versions the Azure fake serves (the GA data-plane versions with Files + Batch). */
export const AZURE_API_VERSIONS = ['2024-10-21', '2025-03-01-preview', '2025-04-01-preview'] as const

const AZURE_DENIED =
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.'

/**
 * Azure OpenAI (REST reference 2024-10-21, Batch - Create / Files - Upload): everything under
 * `/openai`, an `api-version` query on every call (missing or unknown: 404 "Resource not found"),
 * the key in `api-key` or an Entra token as `Authorization: Bearer`, purposes assistants / batch /
 * fine-tune, files up to 200 MB, only "24h", and endpoints reported without `/v1`
 * (`/chat/completions`); input lines may say either.
 */
export function azureFlavor(opts: { bearerToken?: string } = {}): Flavor {
  return {
    name: 'azure-openai',
    prefix: ['openai'],
    purposes: ['assistants', 'batch', 'fine-tune'],
    endpoints: ['/chat/completions', '/embeddings', '/v1/chat/completions', '/v1/embeddings'],
    maxFileBytes: 200 * 1024 * 1024,
    maxBatchInputBytes: 200 * 1024 * 1024,
    pagedLists: true,
    uploads: false,
    completionWindow: OPENAI_FLAVOR.completionWindow,
    auth: (req, url, apiKey) => {
      const version = url.searchParams.get('api-version')
      if (!version || !(AZURE_API_VERSIONS as readonly string[]).includes(version)) {
        return json({ error: { code: '404', message: 'Resource not found' } }, 404)
      }
      const key = req.headers.get('api-key')
      const bearer = req.headers.get('authorization')
      if (key !== null ? key === apiKey : opts.bearerToken !== undefined && bearer === `Bearer ${opts.bearerToken}`) return undefined
      return json({ error: { code: '401', message: AZURE_DENIED } }, 401)
    },
    canonicalEndpoint: (e) => e.replace(/^\/v1\//, '/'),
  }
}
