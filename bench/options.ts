// Command line of bench/run.ts. Sizes are binary: 256m = 256 MiB, 2g = 2 GiB.

export const PHASES = ['baseline', 'passthrough', 'convert', 'results', 'store'] as const
export type Phase = (typeof PHASES)[number]

export interface BenchOptions {
  bytes: number
  lineBytes: number
  /** Runs of each measured phase; the fastest is reported (the machine may be busy). */
  repeat: number
  phases: ReadonlySet<Phase>
  /** Keep the run directory (generated inputs, gateway data and log) instead of deleting it. */
  keep: boolean
  /** Also write the results as JSON here. */
  jsonPath: string | null
  /** Extra environment for the gateway process (runtime knobs such as BUN_JSC_forceRAMSize). */
  gatewayEnv: Record<string, string>
}

export const USAGE = `Usage: bun bench/run.ts [--size 256m] [--only PHASES] [--line-bytes 7168] [--repeat 1] [--gateway-env K=V]... [--json FILE] [--keep]

  --size        input size (k, m, g suffixes are KiB, MiB, GiB); default 256m
  --only        comma list of ${PHASES.join(', ')}, or upload (= passthrough,convert); default all
  --line-bytes  average JSONL line length; default 7168
  --repeat      run each measured phase N times and report the fastest (peak RSS: the highest); default 1
  --gateway-env set K=V in the gateway's environment (repeatable), e.g. BUN_JSC_forceRAMSize=536870912
  --json        also write the figures as JSON to FILE
  --keep        keep .bench/run-*/ (inputs, gateway data, gateway log) after the run`

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)i?b?$/i.exec(text.trim())
  if (!match) throw new Error(`not a size: '${text}' (try 256m or 2g)`)
  return Math.floor(Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number))
}

function parsePhases(text: string): Set<Phase> {
  const phases = new Set<Phase>()
  for (const name of text.split(',').map((s) => s.trim())) {
    if (name === 'upload') {
      phases.add('passthrough').add('convert')
    } else if ((PHASES as readonly string[]).includes(name)) {
      phases.add(name as Phase)
    } else {
      throw new Error(`unknown phase '${name}' (phases: ${PHASES.join(', ')}, upload)`)
    }
  }
  return phases
}

export function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = {
    bytes: parseSize('256m'),
    lineBytes: 7168,
    repeat: 1,
    phases: new Set(PHASES),
    keep: false,
    jsonPath: null,
    gatewayEnv: {},
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    if (flag === '--size') opts.bytes = parseSize(value())
    else if (flag === '--only') opts.phases = parsePhases(value())
    else if (flag === '--line-bytes') opts.lineBytes = parseSize(value())
    else if (flag === '--repeat') opts.repeat = Number(value())
    else if (flag === '--json') opts.jsonPath = value()
    else if (flag === '--gateway-env') {
      const [name, ...rest] = value().split('=')
      if (!name || rest.length === 0) throw new Error('--gateway-env takes NAME=VALUE')
      opts.gatewayEnv[name] = rest.join('=')
    } else if (flag === '--keep') opts.keep = true
    else throw new Error(`unknown option '${flag}'`)
  }
  if (opts.lineBytes < 512) throw new Error('--line-bytes must be at least 512')
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat takes a whole number ≥ 1')
  return opts
}
