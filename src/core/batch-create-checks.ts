// The rules a batch create's parameters must meet before anything is spooled or sent: the input
// file's purpose and endpoint, parameters only one provider kind uses, completion windows per
// kind, and where Bedrock results go by default.

import type { InstanceConfig } from '../config'
import { invalid } from '../errors'
import type { CreateBatchRequest } from './batch-create'
import type { StoredFile } from './file'
import type { ProviderKind, ProviderName } from './provider-name'

/** Bedrock results go under the instance's default bucket unless the create names a place. */
export function defaultOutputUri(instance: InstanceConfig): string | null {
  if (instance.kind !== 'bedrock' || !instance.settings.defaultBucket) return null
  return `s3://${instance.settings.defaultBucket}/batchgate-output/`
}

export function checkInputFile(file: StoredFile, endpoint: string): void {
  if (file.purpose !== 'batch') {
    throw invalid(`input_file_id '${file.id}' has purpose '${file.purpose}'; batches need a file uploaded with purpose 'batch'.`, {
      param: 'input_file_id',
    })
  }
  if (file.facts.endpoint && file.facts.endpoint !== endpoint) {
    throw invalid(`The input file's requests target '${file.facts.endpoint}', but the batch endpoint is '${endpoint}'.`, {
      param: 'endpoint',
    })
  }
}

/** Parameters one provider kind uses are refused for the others: never accepted and dropped. */
export function onlyForKind(req: CreateBatchRequest, name: ProviderName, kind: ProviderKind): void {
  const owners: Array<[param: string, sent: boolean, owner: ProviderKind]> = [
    ['output_s3_uri', req.outputS3Uri !== null, 'bedrock'],
    ['role_arn', req.roleArn !== null, 'bedrock'],
    ['output_expires_after', Boolean(req.outputExpiresAfterSeconds), 'openai'],
  ]
  for (const [param, sent, owner] of owners) {
    if (sent && kind !== owner) throw invalid(`${param} is only used by ${owner} batches; provider ${name} has no use for it.`, { param })
  }
}

/** Kinds whose batches may run longer than 24 hours: Bedrock and Mistral jobs 24–168 h, Groq 24h–7d. */
const LONG_WINDOWS: Partial<Record<ProviderKind, string>> = {
  bedrock: 'between "24h" and "168h"',
  groq: 'between "24h" and "7d" (hours or days)',
  // Sent as the job's timeout_hours.
  mistral: 'between "24h" and "168h"',
}

/** OpenAI takes only "24h"; longer windows ("48h", Groq's "7d") are honoured where the kind has them. */
export function completionHours(window: string, provider: ProviderKind): number {
  const long = LONG_WINDOWS[provider]
  const m = (provider === 'groq' ? /^(\d{1,3})([hd])$/ : /^(\d{1,3})(h)$/).exec(window)
  const hours = m ? Number(m[1]) * (m[2] === 'd' ? 24 : 1) : Number.NaN
  const max = long ? 168 : 24
  if (!(hours >= 24 && hours <= max)) {
    throw invalid(
      long
        ? `completion_window must be ${long} for ${provider} (got '${window.slice(0, 40)}').`
        : `completion_window must be "24h" (got '${window.slice(0, 40)}').`,
      { param: 'completion_window' },
    )
  }
  return hours
}
