// Google REST with an OAuth access token: the aiplatform and Cloud Storage endpoints of one vertex
// instance share its token source. A 401 drops the cached token and, when a different token can
// be had, sends the request once more with it.

import type { ProviderName } from '../../core/provider-name'
import { GoogleRest } from '../google-rest'
import type { UpstreamPolicy } from '../upstream-fetch'
import type { AccessTokens } from './auth'

export class BearerRest extends GoogleRest {
  constructor(
    provider: ProviderName,
    baseUrl: string,
    policy: UpstreamPolicy,
    private readonly tokens: AccessTokens,
  ) {
    super(provider, baseUrl, policy)
  }

  protected async authHeaders(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.tokens.token()}` }
  }

  protected override async refused(headers: Record<string, string>): Promise<boolean> {
    const refusedToken = (headers.authorization ?? '').replace(/^Bearer /, '')
    this.tokens.invalidate(refusedToken)
    // Worth one more try only with a different token (renewed, or a token file rewritten since).
    return (await this.tokens.token().catch(() => refusedToken)) !== refusedToken
  }
}
