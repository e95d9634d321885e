// What happens to every top-level field of Anthropic Messages `params` on its way into the neutral
// ChatRequest (only when the batch goes to a provider other than Anthropic). Keys not listed are
// errors; docs/conversions.md lists the same keys and a test keeps the two in step.

import type { JsonObject, Site } from '../guards'
import { checkFields, type FieldRule, MAPPED as mapped, rejected } from './field-rules'

const TARGETS = 'OpenAI, Gemini or Bedrock'

export const ANTHROPIC_PARAMS_FIELDS = {
  model: mapped,
  max_tokens: mapped,
  messages: mapped,
  system: mapped,
  temperature: mapped,
  top_p: mapped,
  top_k: mapped,
  stop_sequences: mapped,
  tools: mapped,
  tool_choice: mapped,
  metadata: mapped,
  stream: {
    kind: 'default-only',
    harmless: (v) => v === false,
    why: 'batch requests cannot stream',
  },
  cache_control: { kind: 'ignored', why: 'a prompt-caching hint; it never changes the reply' },
  service_tier: { kind: 'ignored', why: 'a capacity-tier hint; batch jobs have no per-request tier elsewhere' },
  thinking: {
    kind: 'default-only',
    harmless: (v) => typeof v === 'object' && v !== null && (v as JsonObject).type === 'disabled',
    why: 'extended thinking has no portable equivalent in batchgate',
  },
  container: rejected('code-execution containers exist only on Anthropic'),
  context_management: rejected('context management exists only on Anthropic'),
  diagnostics: rejected('diagnostics exist only on Anthropic'),
  inference_geo: rejected('a data-residency request cannot be honoured by another provider'),
  mcp_servers: rejected('MCP servers exist only on Anthropic'),
  output_config: rejected('output configuration has no portable equivalent in batchgate'),
  user_profile_id: rejected('user profiles exist only on Anthropic'),
  workspace_id: rejected('workspaces exist only on Anthropic'),
} as const satisfies Record<string, FieldRule>

export type AnthropicParamsField = keyof typeof ANTHROPIC_PARAMS_FIELDS

export function checkAnthropicParamsFields(params: JsonObject, site: Site): void {
  checkFields(ANTHROPIC_PARAMS_FIELDS, params, site, TARGETS)
}
