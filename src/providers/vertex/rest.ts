// Google REST with an OAuth access token: the aiplatform and Cloud Storage endpoints of one vertex
// instance share its token source. A 401 drops the cached token, so the next call gets a new one.

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

  protected override refused(headers: Record<string, string>): void {
    this.tokens.invalidate((headers.authorization ?? '').replace(/^Bearer /, ''))
  }
}
