// Blobs in an S3-compatible bucket (BATCHGATE_BLOB_URL=s3://bucket/prefix), signed with the same
// AWS settings as the Bedrock side (AWS_* keys, AWS_REGION, S3_ENDPOINT path-style). Every
// instance reads what any instance wrote, so a batch input uploaded through one instance can be
// sent by another. The spool stays on local disk: it never outlives its request.

import { statSync } from 'node:fs'
import type { BedrockConfig } from '../config'
import { S3 } from '../providers/bedrock/s3'
import type { UpstreamPolicy } from '../providers/upstream-fetch'
import { type BlobBucket, type BlobKind, type BlobRef, type BlobStore, blobName, parseBlobName } from './blobs'
import { LocalSpool } from './local-blobs'

export class S3BlobStore extends LocalSpool implements BlobStore {
  private readonly s3: S3

  constructor(
    dataDir: string,
    private readonly where: BlobBucket,
    aws: BedrockConfig,
    policy: UpstreamPolicy,
  ) {
    super(dataDir)
    this.s3 = new S3(aws, policy)
  }

  private key(fileId: string, kind: BlobKind): string {
    const name = blobName(fileId, kind)
    return this.where.prefix ? `${this.where.prefix}/${name}` : name
  }

  private object(fileId: string, kind: BlobKind) {
    return { bucket: this.where.bucket, key: this.key(fileId, kind) }
  }

  async put(spoolPath: string, fileId: string, kind: BlobKind): Promise<string> {
    await this.s3.putObject(this.object(fileId, kind), { path: spoolPath, bytes: statSync(spoolPath).size }, 'application/jsonl')
    this.remove(spoolPath)
    return `s3://${this.where.bucket}/${this.key(fileId, kind)}`
  }

  async open(fileId: string, kind: BlobKind): Promise<ReadableStream<Uint8Array> | null> {
    const res = await this.s3.send(this.object(fileId, kind), '', { what: 'read blob', idempotent: true, method: 'GET', okStatuses: [404] })
    if (res.status === 404) {
      await res.body?.cancel()
      return null
    }
    return res.body
  }

  async has(fileId: string, kind: BlobKind): Promise<boolean> {
    return (await this.s3.headObject(this.object(fileId, kind))) !== null
  }

  async delete(fileId: string, kind: BlobKind): Promise<void> {
    await this.s3.deleteObject(this.object(fileId, kind))
  }

  async list(): Promise<BlobRef[]> {
    const prefix = this.where.prefix ? `${this.where.prefix}/` : ''
    const objects = await this.s3.listObjects(this.where.bucket, prefix)
    return objects.flatMap((o) => (o.key.includes('/', prefix.length) ? [] : (parseBlobName(o.key.slice(prefix.length)) ?? [])))
  }
}
