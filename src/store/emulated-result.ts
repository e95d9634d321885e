// What an emulated run records per answered request, shared by its two stores (emulated-rows.ts,
// emulated-log.ts).

export type Outcome = 'succeeded' | 'errored' | 'expired' | 'canceled'

export interface RecordedResult {
  /** 0-based index of the request in the run's input. */
  line: number
  outcome: Outcome
  /** The stored result: a finished OpenAI result line, or an answer kept as sent (convert/results/emulated-line.ts). */
  body: string
}

/** The OpenAI result file a line goes to. */
export const partOf = (outcome: Outcome): 'output' | 'error' => (outcome === 'succeeded' ? 'output' : 'error')
