// SigV4-signed calls through upstreamFetch. aws4fetch's own retry loop is off (`retries: 0`):
// upstreamFetch owns timeouts and retries, and every attempt is signed afresh (a new
// X-Amz-Date, a rebuilt body) because init() is rebuilt per attempt. Services and region are
// always explicit: aws4fetch guesses them from the hostname and guesses an empty service for
// custom endpoints such as fakes or MinIO (spec bedrock.md §3.1).

import { AwsClient } from 'aws4fetch'
import type { BedrockConfig } from '../../config'
import { GatewayError } from '../../errors'
import { parseJsonBounded } from '../../convert/json-depth'
import { notJson, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'

export type AwsService = 'bedrock' | 's3'

export function awsClient(config: BedrockConfig, service: AwsService, region: string): AwsClient {
  return new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    sessionToken: config.sessionToken ?? undefined,
    service,
    region,
    retries: 0,
  })
}

/** A provider's error, split into its machine name (`NoSuchBucket`) and its text. */
export interface AwsErrorInfo {
  code: string | undefined
  message: string
}

export interface SignedCall {
  what: string
  idempotent: boolean
  method: string
  headers?: Record<string, string>
  /** Called per attempt, so a file-backed body is re-opened for each retry. */
  body?: () => string | Blob
  okStatuses?: readonly number[]
  readError: (res: Response) => Promise<AwsErrorInfo>
}

export async function signedFetch(client: AwsClient, url: string, call: SignedCall, policy: UpstreamPolicy): Promise<Response> {
  // upstreamFetch only keeps the message; the code is kept aside and put into details.code.
  let lastCode: string | undefined
  try {
    return await upstreamFetch(
      url,
      {
        provider: 'bedrock',
        what: call.what,
        idempotent: call.idempotent,
        okStatuses: call.okStatuses,
        readError: async (res) => {
          lastCode = undefined
          const info = await call.readError(res)
          lastCode = info.code
          return info.message
        },
        init: () => ({ method: call.method, headers: call.headers, body: call.body?.() }),
        // init carries upstreamFetch's abort signal; sign() copies it onto the signed Request.
        fetch: async (u, init) => fetch(await client.sign(u, init)),
      },
      policy,
    )
  } catch (err) {
    if (err instanceof GatewayError && err.kind === 'upstream' && lastCode !== undefined && err.details.code === undefined) {
      throw new GatewayError('upstream', err.message, { ...err.details, code: lastCode })
    }
    throw err
  }
}

/** Bedrock (restJson1): `x-amzn-ErrorType: Name[:namespace]` and `{"message"}` or `__type` (§1.6). */
export async function readBedrockError(res: Response): Promise<AwsErrorInfo> {
  const text = (await res.text()).slice(0, 4000)
  let code = res.headers.get('x-amzn-errortype') ?? undefined
  let message = ''
  try {
    const body = parseJsonBounded(text, notJson) as { message?: unknown; Message?: unknown; __type?: unknown }
    if (typeof body.message === 'string') message = body.message
    else if (typeof body.Message === 'string') message = body.Message
    if (code === undefined && typeof body.__type === 'string') code = body.__type.slice(body.__type.lastIndexOf('#') + 1)
  } catch {
    message = text.trim()
  }
  code = code?.split(':')[0] || undefined
  return { code, message: code && message ? `${code}: ${message}` : message || code || '' }
}
