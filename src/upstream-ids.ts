// Upstream messages are passed on to clients, upstream identifiers never are (issue 11 class 4).
// Every upstream error message goes through scrubUpstreamIds at the edge: ids the gateway knows
// (the batch or file the call was about) become the gateway's own ids, everything else shaped
// like a provider's id, an ARN, an AWS account id or an S3 location is replaced by words.

/** Provider id shapes. Ids need a digit and some length, so words like `file_id` stay. */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // ARNs carry the account id and the job id: whole, up to a delimiter.
  [/\barn:aws[a-z-]*:[^\s"'`,;)\]}>]+/g, 'the upstream resource'],
  [/\bs3:\/\/[^\s"'`,;)\]}>]+/g, 'the S3 object'],
  // Gemini resource names.
  [/\b(?:files|batches|operations|cachedContents)\/[a-z0-9][a-z0-9-]{3,}\b/g, 'the upstream resource'],
  // Anthropic ids (before OpenAI's batch_, which would match inside msgbatch_).
  [/\bmsgbatch_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}\b/g, 'the upstream batch'],
  [/\bbatch_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}\b/g, 'the upstream batch'],
  [/\bfile[-_](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}\b/g, 'the upstream file'],
  // AWS account ids (12 digits), e.g. left in a role or bucket-owner message.
  [/(?<![\d.])\d{12}(?![\d.])/g, 'the AWS account'],
]

const MARK = '\u0000'

/**
 * `message` with known upstream ids replaced by their gateway ids and every other upstream id
 * shape removed. `known` maps upstream id → gateway id; longer ids are replaced first, so an ARN
 * is replaced whole before the job id inside it.
 */
export function scrubUpstreamIds(message: string, known: Readonly<Record<string, string>> = {}): string {
  const gatewayIds: string[] = []
  let out = message
  for (const [upstream, gateway] of Object.entries(known).sort((a, b) => b[0].length - a[0].length)) {
    if (upstream.length < 4 || !out.includes(upstream)) continue
    // A placeholder first: the gateway id must not be taken for an upstream one below.
    out = out.split(upstream).join(`${MARK}${gatewayIds.push(gateway) - 1}${MARK}`)
  }
  for (const [pattern, words] of PATTERNS) out = out.replace(pattern, words)
  return out.replace(/\u0000(\d+)\u0000/g, (_, i: string) => gatewayIds[Number(i)] ?? '')
}

/**
 * Upstream id → gateway id for one stored object. Providers quote an id whole or by its last
 * path segment (a Gemini `batches/x` as `x`, a Bedrock job ARN by its job id), so both map.
 */
export function idsOf(upstreamId: string, gatewayId: string): Record<string, string> {
  const tail = upstreamId.slice(upstreamId.lastIndexOf('/') + 1)
  return tail !== upstreamId && tail.length >= 6 ? { [upstreamId]: gatewayId, [tail]: gatewayId } : { [upstreamId]: gatewayId }
}
