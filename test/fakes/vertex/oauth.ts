// Google's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT bearer grant), strict:
// the assertion must be an RS256 JWT signed by a registered account's private key (checked
// against its public key), with `kid` naming that key, `iss` the account's email, `aud` this
// endpoint, a scope, and iat/exp at most an hour apart around now. Errors are the real
// `{error, error_description}` bodies with status 400. Issued tokens expire; `lifetimeSeconds`
// can be lowered so tests see a refresh.

import { randomId } from '../gemini/common'

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform'

interface Account {
  publicKey: CryptoKey
  keyId: string
}

export class TokenIssuer {
  readonly accounts = new Map<string, Account>()
  /** access token → expiry (ms since epoch). */
  readonly tokens = new Map<string, number>()
  /** Tokens accepted without an exchange (what a workload-identity token file would hold). */
  readonly staticTokens = new Set<string>()
  lifetimeSeconds = 3599
  /** Successful exchanges so far (tests count refreshes with it). */
  exchanges = 0

  constructor(private readonly tokenUrl: () => string) {}

  register(email: string, publicKey: CryptoKey, keyId: string): void {
    this.accounts.set(email, { publicKey, keyId })
  }

  valid(token: string): boolean {
    if (this.staticTokens.has(token)) return true
    const expires = this.tokens.get(token)
    return expires !== undefined && expires > Date.now()
  }

  async handle(req: Request): Promise<Response> {
    if (req.method !== 'POST') return oauthError(405, 'invalid_request', 'Token endpoint only accepts POST.')
    const type = req.headers.get('content-type') ?? ''
    if (!type.startsWith('application/x-www-form-urlencoded')) return oauthError(400, 'invalid_request', 'Invalid request content type.')
    const form = new URLSearchParams(await req.text())
    const grant = form.get('grant_type')
    if (grant !== JWT_BEARER) return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`)
    const assertion = form.get('assertion')
    if (!assertion) return oauthError(400, 'invalid_request', 'Missing required parameter: assertion')
    const problem = await this.check(assertion)
    if (problem) return oauthError(400, problem.error, problem.description)
    const token = `ya29.fake-${randomId(32)}`
    this.tokens.set(token, Date.now() + this.lifetimeSeconds * 1000)
    this.exchanges++
    return Response.json({ access_token: token, expires_in: this.lifetimeSeconds, token_type: 'Bearer' })
  }

  private async check(assertion: string): Promise<{ error: string; description: string } | null> {
    const parts = assertion.split('.')
    const grantError = (description: string) => ({ error: 'invalid_grant', description })
    if (parts.length !== 3) return grantError('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.')
    const [h, c, sig] = parts as [string, string, string]
    const header = decode(h)
    const claims = decode(c)
    if (!header || !claims) return grantError('Invalid JWT: could not decode the header or claim set.')
    if (header.alg !== 'RS256') return grantError('Invalid JWT Signature.')
    const account = typeof claims.iss === 'string' ? this.accounts.get(claims.iss) : undefined
    if (!account) return grantError('Invalid grant: account not found')
    if (header.kid !== undefined && header.kid !== account.keyId) return grantError('Invalid JWT Signature.')
    const signed = await crypto.subtle.verify(
      'RSASSA-PKCS1-v1_5',
      account.publicKey,
      Buffer.from(sig, 'base64url'),
      new TextEncoder().encode(`${h}.${c}`),
    )
    if (!signed) return grantError('Invalid JWT Signature.')
    if (claims.aud !== this.tokenUrl()) return grantError(`Invalid JWT: Failed audience check. The right audience is ${this.tokenUrl()}`)
    const now = Date.now() / 1000
    const { iat, exp } = claims
    if (typeof iat !== 'number' || typeof exp !== 'number' || iat > now + 60 || exp < now || exp - iat > 3600) {
      return grantError('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.')
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : []
    if (!scopes.includes(CLOUD_PLATFORM)) return { error: 'invalid_scope', description: 'Invalid OAuth scope or ID token audience provided.' }
    return null
  }
}

function decode(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function oauthError(status: number, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status })
}

/** A fresh RSA service-account key: the JSON file Google issues, and the public half for the issuer. */
export async function makeServiceAccount(opts: { email: string; projectId: string; tokenUri: string }): Promise<{
  json: Record<string, string>
  publicKey: CryptoKey
  keyId: string
}> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
  const pem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`
  const keyId = randomId(40)
  return {
    json: {
      type: 'service_account',
      project_id: opts.projectId,
      private_key_id: keyId,
      private_key: pem,
      client_email: opts.email,
      client_id: String(100000000000000000000n + BigInt(Math.floor(Math.random() * 1e9))),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: opts.tokenUri,
    },
    publicKey: pair.publicKey,
    keyId,
  }
}
