// Gateway ids: a dialect prefix, 10 chars of millisecond time and 16 chars of randomness
// (Crockford base32: 80 random bits). Time first makes ids sort by creation, which the list
// cursors rely on; the random tail makes them unguessable. Within one millisecond the random
// part is incremented so ids minted by this process stay strictly increasing.

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'

export const ID_PREFIX = {
  openaiFile: 'file-',
  openaiBatch: 'batch_',
  anthropicFile: 'file_',
  anthropicBatch: 'msgbatch_',
  // Webhooks (issue 15): the event in the payload, and the delivery (Standard Webhooks webhook-id).
  event: 'evt_',
  webhook: 'wh_',
} as const
export type IdKind = keyof typeof ID_PREFIX

let lastTime = -1
let lastRandom: number[] = []

function encodeTime(ms: number): string {
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out
    ms = Math.floor(ms / 32)
  }
  return out
}

function nextRandom(now: number): number[] {
  if (now === lastTime) {
    // Increment the previous random digits (base 32) to stay monotonic within the millisecond.
    const next = [...lastRandom]
    for (let i = next.length - 1; i >= 0; i--) {
      if ((next[i] as number) < 31) {
        next[i] = (next[i] as number) + 1
        break
      }
      next[i] = 0
    }
    return next
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b % 32)
}

export function mintId(kind: IdKind, now = Date.now()): string {
  const random = nextRandom(now)
  lastTime = now
  lastRandom = random
  return ID_PREFIX[kind] + encodeTime(now) + random.map((d) => ALPHABET[d]).join('')
}

/** Ids we mint are prefix + 26 chars of the alphabet above; anything else is not ours. */
export function looksLikeGatewayId(id: string): boolean {
  return /^(file-|batch_|file_|msgbatch_)[0-9a-hjkmnp-tv-z]{26}$/.test(id)
}
