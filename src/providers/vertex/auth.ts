// Google access tokens for a vertex instance. Two sources:
// - a service-account key: an RS256-signed JWT assertion (RFC 7523) exchanged at the key's
//   token_uri for an access token, cached and renewed five minutes before it expires; signed with
//   WebCrypto (RSASSA-PKCS1-v1_5, SHA-256), so no Google auth library is needed;
// - a token file, re-read on every call: workload identity or a sidecar keeps it fresh.
// The key and tokens never reach a log line or an error message.

import { readFile } from 'node:fs/promises'
import type { ServiceAccountKey, VertexConfig } from '../../config'
import type { ProviderName } from '../../core/provider-name'
import { GatewayError, UPSTREAM_FAILURE } from '../../errors'
import { readJsonErrorMessage, type UpstreamPolicy, upstreamFetch } from '../upstream-fetch'
import type { TokenAnswer } from './wire'

/** The scope both Vertex AI and Cloud Storage accept. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** Assertions live for an hour, Google's maximum. */
const ASSERTION_SECONDS = 3600
/** Renewed this long before expiry, so no call starts with a token about to lapse. */
const RENEW_BEFORE_SECONDS = 300

export interface AccessTokens {
  token(): Promise<string>
  /** Forgets a cached token the upstream refused (revoked, or expired early), so the next call fetches a new one. */
  invalidate(token: string): void
}

export function accessTokens(config: VertexConfig, policy: UpstreamPolicy, provider: ProviderName): AccessTokens {
  if (config.serviceAccount) return new ServiceAccountTokens(config.serviceAccount, policy, provider)
  const file = config.tokenFile ?? ''
  return {
    token: async () => {
      const token = (await readFile(file, 'utf8').catch(() => '')).trim()
      if (!token) throw refused(provider, 'the access token file of this instance is missing or empty')
      return token
    },
    invalidate: () => undefined,
  }
}

class ServiceAccountTokens implements AccessTokens {
  private cached: { token: string; renewAt: number } | null = null
  private pending: Promise<string> | null = null
  private key: Promise<CryptoKey> | null = null

  constructor(
    private readonly account: ServiceAccountKey,
    private readonly policy: UpstreamPolicy,
    private readonly provider: ProviderName,
  ) {}

  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.renewAt) return this.cached.token
    // One exchange at a time: calls arriving meanwhile wait for the same answer.
    this.pending ??= this.exchange().finally(() => {
      this.pending = null
    })
    return this.pending
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = null
  }

  private async exchange(): Promise<string> {
    const assertion = await this.assertion()
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString()
    const res = await upstreamFetch(
      this.account.tokenUri,
      {
        provider: this.provider,
        what: 'get access token',
        // A repeated exchange only mints another token.
        idempotent: true,
        readError: readOAuthError,
        init: () => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
      },
      this.policy,
    ).catch((err: unknown) => {
      // The token endpoint answers a refused key with 400 invalid_grant: the gateway's credentials.
      if (err instanceof GatewayError && err.kind === 'upstream' && err.details.upstreamStatus === 400) {
        throw refused(this.provider, err.message)
      }
      throw err
    })
    const answer = (await res.json()) as TokenAnswer
    const token = typeof answer.access_token === 'string' ? answer.access_token : ''
    const lifetime = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 0
    if (!token || lifetime === 0) throw new GatewayError('upstream', `${this.provider} sent an unreadable token answer`, { upstreamStatus: 502 })
    // Short-lived tokens are still used once; long ones renew five minutes early.
    this.cached = { token, renewAt: Date.now() + Math.max(lifetime - RENEW_BEFORE_SECONDS, lifetime / 2) * 1000 }
    return token
  }

  /** The signed JWT: `kid` names the key, `aud` the token endpoint, one hour of validity. */
  private async assertion(): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const header = { alg: 'RS256', typ: 'JWT', ...(this.account.privateKeyId ? { kid: this.account.privateKeyId } : {}) }
    const claims = {
      iss: this.account.clientEmail,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: this.account.tokenUri,
      iat: now,
      exp: now + ASSERTION_SECONDS,
    }
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
    this.key ??= importPkcs8(this.account.privateKey)
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', await this.key, new TextEncoder().encode(signingInput))
    return `${signingInput}.${base64url(new Uint8Array(signature))}`
  }
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) → a WebCrypto signing key. */
export async function importPkcs8(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, ''), 'base64')
  try {
    return await crypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])
  } catch {
    throw new GatewayError('internal', 'the service-account private key of a vertex instance cannot be read as an RSA key')
  }
}

export function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url')
}

/** `{error, error_description}` (RFC 6749 §5.2) → one line; other bodies as the usual readers do. */
async function readOAuthError(res: Response): Promise<string> {
  const text = (await res.text()).slice(0, 2000)
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown }
    if (typeof body.error === 'string') return typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error
  } catch {
    // Not JSON: read like any other upstream error body.
  }
  return readJsonErrorMessage(new Response(text))
}

function refused(provider: ProviderName, message: string): GatewayError {
  return new GatewayError('upstream', `${provider} refused the gateway's provider credentials: ${message}`, {
    code: UPSTREAM_FAILURE.credentialsRefused,
    upstreamStatus: 401,
  })
}
