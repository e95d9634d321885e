// The S3 REST calls Bedrock batches need (spec bedrock.md §4), signed with SigV4 service `s3`.
// Path-style `{S3_ENDPOINT}/{bucket}/{key}` for custom endpoints (fakes, MinIO); otherwise
// virtual-hosted `https://{bucket}.s3.{region}.amazonaws.com/{key}`. Bodies are never held in
// memory: uploads are file-backed Blobs, downloads are the response stream.

import type { AwsClient } from 'aws4fetch'
import type { BedrockConfig } from '../../config'
import { GatewayError } from '../../errors'
import type { UploadSource, UpstreamLeftover } from '../provider'
import type { UpstreamPolicy } from '../upstream-fetch'
import { awsClient, type SignedCall, signedFetch } from './aws-fetch'
import type { GrowingSource } from '../growing-source'
import { multipartPut } from './s3-multipart'
import { type ListedObject, parseListPage, readS3Error } from './s3-xml'

/** One object; `region` null = the configured AWS region. */
export interface S3Object {
  bucket: string
  key: string
  region?: string | null
}

export interface ObjectHead {
  bytes: number
  etag: string | null
  contentType: string | null
}

/** Above this a file goes up in parts: one PUT of several GB is one long, unresumable retry. */
export const DEFAULT_PART_BYTES = 16 * 1024 * 1024

export interface S3Options {
  /** Part size of multipart uploads, and the single-PUT limit (tests lower it). */
  partBytes?: number
}

export class S3 {
  readonly partBytes: number
  private readonly clients = new Map<string, AwsClient>()

  constructor(
    private readonly config: BedrockConfig,
    private readonly policy: UpstreamPolicy,
    options: S3Options = {},
  ) {
    this.partBytes = options.partBytes ?? DEFAULT_PART_BYTES
  }

  async putObject(
    obj: S3Object,
    source: UploadSource,
    contentType: string,
    noteLeftover?: (leftover: UpstreamLeftover) => Promise<void>,
  ): Promise<void> {
    if (source.bytes > this.partBytes) {
      await multipartPut(this, obj, source, contentType, noteLeftover)
      return
    }
    await this.send(obj, '', {
      what: 'upload object',
      // Safe to repeat: the same bytes are re-read from the spool file and overwrite the key.
      idempotent: true,
      method: 'PUT',
      headers: { 'content-type': contentType },
      body: () => Bun.file(source.path),
    })
  }

  /**
   * Uploads a file that is still being written: a file that ends within one part waits for its
   * end and goes up in one PUT as before; a larger one goes up part by part while it grows.
   */
  async putGrowingObject(
    obj: S3Object,
    source: GrowingSource,
    contentType: string,
    noteLeftover?: (leftover: UpstreamLeftover) => Promise<void>,
  ): Promise<void> {
    await source.until(this.partBytes + 1)
    if (source.total !== null && source.total <= this.partBytes) {
      await this.putObject(obj, { path: source.path, bytes: source.total }, contentType, noteLeftover)
      return
    }
    await multipartPut(this, obj, source, contentType, noteLeftover)
  }

  async getObject(obj: S3Object): Promise<ReadableStream<Uint8Array>> {
    const res = await this.send(obj, '', { what: 'read object', idempotent: true, method: 'GET' })
    if (!res.body) throw new GatewayError('upstream', 'S3 returned an empty object body', { upstreamStatus: 502 })
    return res.body
  }

  /** Null when the object does not exist. */
  async headObject(obj: S3Object): Promise<ObjectHead | null> {
    const res = await this.send(obj, '', { what: 'head object', idempotent: true, method: 'HEAD', okStatuses: [404] })
    if (res.status === 404) return null
    return {
      bytes: Number(res.headers.get('content-length') ?? 0),
      etag: res.headers.get('etag'),
      contentType: res.headers.get('content-type'),
    }
  }

  /** S3 answers 204 for missing keys too, so deleting twice is fine. */
  async deleteObject(obj: S3Object): Promise<void> {
    const res = await this.send(obj, '', { what: 'delete object', idempotent: true, method: 'DELETE' })
    await res.body?.cancel()
  }

  /** Every object under `prefix`, following continuation tokens (S3 pages hold ≤ 1000 keys). */
  async listObjects(bucket: string, prefix: string, opts: { region?: string | null; pageSize?: number } = {}): Promise<ListedObject[]> {
    const all: ListedObject[] = []
    const region = opts.region
    let token: string | undefined
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix })
      if (opts.pageSize !== undefined) query.set('max-keys', String(opts.pageSize))
      if (token !== undefined) query.set('continuation-token', token)
      // URLSearchParams writes spaces as `+`, which S3 would read as a literal plus.
      const res = await this.send({ bucket, key: '', region }, query.toString().replace(/\+/g, '%20'), {
        what: 'list objects',
        idempotent: true,
        method: 'GET',
      })
      const page = parseListPage(await res.text())
      all.push(...page.objects)
      token = page.nextToken
    } while (token !== undefined)
    return all
  }

  /** One signed S3 request; `query` is an encoded query string without `?`. */
  async send(obj: S3Object, query: string, call: Omit<SignedCall, 'readError'>): Promise<Response> {
    const region = obj.region || this.config.region
    const url = this.objectUrl(obj.bucket, obj.key, region) + (query ? `?${query}` : '')
    return signedFetch(this.client(region), url, { ...call, what: `S3 ${call.what}`, readError: readS3Error }, this.policy)
  }

  objectUrl(bucket: string, key: string, region: string): string {
    const path = key ? `/${encodeKey(key)}` : '/'
    if (this.config.s3Endpoint) return `${this.config.s3Endpoint}/${bucket}${key ? path : ''}`
    // Dotted bucket names break the *.s3 wildcard certificate, so those go path-style.
    if (bucket.includes('.')) return `https://s3.${region}.amazonaws.com/${bucket}${key ? path : ''}`
    return `https://${bucket}.s3.${region}.amazonaws.com${path}`
  }

  private client(region: string): AwsClient {
    let client = this.clients.get(region)
    if (!client) {
      client = awsClient(this.config, 's3', region)
      this.clients.set(region, client)
    }
    return client
  }
}

/** Per-segment RFC 3986 encoding, `/` kept: the form S3 signs once (spec §3, §4). */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/')
}
