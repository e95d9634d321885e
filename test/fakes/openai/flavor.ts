// What differs between OpenAI's own Files + Batches API and the OpenAI-shaped batch APIs of other
// providers the same fake serves. Each value is taken from that provider's public reference.

import { MAX_FILE_BYTES, UPLOAD_PURPOSES } from './files'

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
}

const HOUR = 3600

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
}
