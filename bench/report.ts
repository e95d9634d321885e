// The bench's table: one row per measured phase, throughput as MiB/s and as a ratio to the
// baseline loop of the same run, and the gateway's peak RSS over the phase.

import { mib } from './rss'

export interface Row {
  name: string
  bytes?: number
  seconds?: number
  /** Peak RSS of the gateway process over the phase (absent for the in-bench baseline). */
  peakRss?: number
  skipped?: string
  failed?: string
}

const COLUMNS = ['phase', 'MiB', 's', 'MiB/s', '× baseline', 'peak RSS MiB'] as const

export function formatTable(rows: Row[], baselineMibps: number | null): string {
  const notes: string[] = []
  const cells = rows.map((row): string[] => {
    const note = row.skipped ? `skipped: ${row.skipped}` : row.failed ? `FAILED: ${row.failed}` : null
    if (note) {
      notes.push(`[${notes.length + 1}] ${row.name}: ${note}`)
      return [`${row.name} [${notes.length}]`, '', '', '', row.failed ? 'failed' : 'skipped', '']
    }
    const rate = row.bytes !== undefined && row.seconds ? mib(row.bytes) / row.seconds : null
    return [
      row.name,
      row.bytes === undefined ? '' : mib(row.bytes).toFixed(0),
      row.seconds === undefined ? '' : row.seconds.toFixed(2),
      rate === null ? '' : rate.toFixed(1),
      rate === null || baselineMibps === null ? '' : `${(rate / baselineMibps).toFixed(2)}×`,
      row.peakRss === undefined ? '' : mib(row.peakRss).toFixed(0),
    ]
  })
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: readonly string[]): string =>
    `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join(' | ')} |`
  const table = [line(COLUMNS), `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${i === 0 ? '-' : ':'}`).join('|')}|`, ...cells.map(line)]
  return [...table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}
