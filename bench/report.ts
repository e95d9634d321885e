// The bench's table: one row per measured phase, throughput as MiB/s, the MiB/s of the baseline
// loop that row is compared with (measured in the same run, on the same bytes), the ratio, the
// issue's goal for it and whether it was met, and the gateway's peak RSS over the phase.

import { mib } from './rss'

/** Peak RSS every path must stay under (issue 12). */
export const RSS_GOAL_MIB = 150

export interface Row {
  name: string
  bytes?: number
  seconds?: number
  /** MiB/s of this row's baseline loop. */
  baseline?: number
  /** The ratio to the baseline the issue asks for. */
  goal?: number
  /** Peak RSS of the gateway process over the phase. */
  peakRss?: number
  /** A row that is not a throughput (the over-cap refusal): shown as is, with its verdict. */
  note?: string
  met?: boolean
  skipped?: string
  failed?: string
  /** MiB/s of the bare relay (bench/ceiling-relay.ts) on the same request, measured beside this row. */
  ceiling?: number
  /** A ceiling row: the bare relay itself (its verdict says whether even it reaches the goal). */
  isCeiling?: boolean
  /** A ceiling row's upload row. */
  ceilingOf?: string
}

const COLUMNS = ['phase', 'MiB', 's', 'MiB/s', 'baseline MiB/s', '× baseline', 'goal', 'met', '× ceiling', 'peak RSS MiB'] as const

export const ratioOf = (row: Row): number | null =>
  row.bytes !== undefined && row.seconds && row.baseline ? mib(row.bytes) / row.seconds / row.baseline : null

export function formatTable(rows: Row[]): string {
  const notes: string[] = []
  const cells = rows.map((row): string[] => {
    const skip = row.skipped ? `skipped: ${row.skipped}` : row.failed ? `FAILED: ${row.failed}` : null
    if (skip) {
      notes.push(`[${notes.length + 1}] ${row.name}: ${skip}`)
      return [`${row.name} [${notes.length}]`, '', '', '', '', row.failed ? 'failed' : 'skipped', '', '', '', '']
    }
    const rate = row.bytes !== undefined && row.seconds ? mib(row.bytes) / row.seconds : null
    const ratio = ratioOf(row)
    const rss = row.peakRss === undefined ? '' : `${mib(row.peakRss).toFixed(0)}${mib(row.peakRss) < RSS_GOAL_MIB ? '' : ' (over)'}`
    const met = row.met ?? (ratio !== null && row.goal !== undefined ? ratio >= row.goal : undefined)
    const verdict = met === undefined ? '' : row.isCeiling ? (met ? 'not ruled out' : 'OUT OF REACH') : met ? 'yes' : 'NO'
    return [
      row.name,
      row.bytes === undefined ? '' : mib(row.bytes).toFixed(0),
      row.seconds === undefined ? '' : row.seconds.toFixed(2),
      rate === null ? '' : rate.toFixed(1),
      row.baseline === undefined ? '' : row.baseline.toFixed(1),
      row.note ?? (ratio === null ? '' : `${ratio.toFixed(2)}×`),
      row.goal === undefined ? '' : `≥ ${row.goal}×`,
      verdict,
      rate !== null && row.ceiling ? `${(rate / row.ceiling).toFixed(2)}×` : '',
      rss,
    ]
  })
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: readonly string[]): string =>
    `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join(' | ')} |`
  const table = [line(COLUMNS), `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${i === 0 ? '-' : ':'}`).join('|')}|`, ...cells.map(line)]
  return [...table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}
