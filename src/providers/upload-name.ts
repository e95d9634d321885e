// The name an upload carries upstream where the provider keeps a filename (OpenAI, Anthropic):
// the gateway id, so an upload whose answer was lost can be found again by listing (adopted
// while serving, deleted at start-up), plus the extension providers check: `.jsonl` for batch
// input (OpenAI requires it; the gateway wrote JSONL whatever the client called it), else the
// client's own. Clients never see it: they read the name they sent.

import type { FilePurpose } from '../core/file'

const EXTENSION = /\.[A-Za-z0-9]{1,16}$/

export function upstreamFilename(gatewayId: string, clientFilename: string, purpose: FilePurpose): string {
  if (purpose === 'batch') return `${gatewayId}.jsonl`
  return `${gatewayId}${EXTENSION.exec(clientFilename)?.[0] ?? ''}`
}
