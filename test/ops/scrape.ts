// Reads the Prometheus text format into `name{label="v",…}` → value (labels sorted), and the
// difference of two scrapes, so tests can assert exact deltas with exact labels.

export type Samples = Map<string, number>

export async function scrape(base: string, token?: string): Promise<Samples> {
  const res = await fetch(`${base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return parseMetrics(await res.text())
}

export function parseMetrics(text: string): Samples {
  const out: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort()
    out.set(key(m[1]!, labels), Number(m[3]))
  }
  return out
}

const key = (name: string, labels: string[]): string => (labels.length ? `${name}{${labels.join(',')}}` : name)

/** `series('x_total', {a:'1'})` → the key parseMetrics uses for that series. */
export function series(name: string, labels: Record<string, string> = {}): string {
  return key(
    name,
    Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .sort(),
  )
}

/** Every series that moved between two scrapes, with how much (histogram buckets left out). */
export function delta(before: Samples, after: Samples, prefix = 'batchgate_'): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, v] of after) {
    if (!k.startsWith(prefix) || k.includes('_bucket{')) continue
    const d = v - (before.get(k) ?? 0)
    if (d !== 0) out.set(k, Math.round(d * 1e6) / 1e6)
  }
  return out
}
