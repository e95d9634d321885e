// Command line of bench/run.ts. Sizes are binary: 256m = 256 MiB, 2g = 2 GiB.

export const PHASES = ['passthrough', 'convert', 'results', 'refuse', 'store', 'instrumentation', 'emulated'] as const
export type Phase = (typeof PHASES)[number]

export interface BenchOptions {
  /** Converting-upload input sizes; each gets its own rows. */
  sizes: number[]
  /** Only Bedrock at these extra sizes (the documented 4 GB run). */
  bedrockSizes: number[]
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
  /** Write a CPU profile of the gateway (`bun --cpu-prof`) into this directory. */
  cpuProfDir: string | null
}

export const USAGE = `Usage: bun bench/run.ts [--sizes 256m,1g] [--bedrock-sizes 4g] [--only PHASES] [--line-bytes 7168] [--repeat 1] [--gateway-env K=V]... [--json FILE] [--keep] [--cpu-prof DIR]

  --sizes       converting-upload input sizes, comma list (k, m, g = KiB, MiB, GiB); default 256m
                (--size is the same with one size)
  --bedrock-sizes  extra sizes for the Bedrock converting upload only (e.g. 4g); default none
  --only        comma list of ${PHASES.join(', ')}, or upload (= passthrough,convert); default all
                (every measured row has its own baseline loop in the same run; every upload row is
                also sent, alternately, through a bare relay — bench/ceiling-relay.ts — its ceiling)
  --line-bytes  average JSONL line length; default 7168
  --repeat      run each measured phase N times and report the fastest (peak RSS: the highest); default 1
  --gateway-env set K=V in the gateway's environment (repeatable), e.g. BUN_JSC_forceRAMSize=536870912
  --json        also write the figures as JSON to FILE
  --keep        keep .bench/run-*/ (inputs, gateway data, gateway log) after the run
  --cpu-prof    run the gateway under \`bun --cpu-prof\` and write its profile into DIR (open it in
                Chrome DevTools or any .cpuprofile viewer); the profiler slows the gateway a little`

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
    sizes: [parseSize('256m')],
    bedrockSizes: [],
    lineBytes: 7168,
    repeat: 1,
    phases: new Set(PHASES),
    keep: false,
    jsonPath: null,
    gatewayEnv: {},
    cpuProfDir: null,
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    if (flag === '--size' || flag === '--sizes') opts.sizes = value().split(',').map(parseSize)
    else if (flag === '--bedrock-sizes') opts.bedrockSizes = value().split(',').map(parseSize)
    else if (flag === '--only') opts.phases = parsePhases(value())
    else if (flag === '--line-bytes') opts.lineBytes = parseSize(value())
    else if (flag === '--repeat') opts.repeat = Number(value())
    else if (flag === '--json') opts.jsonPath = value()
    else if (flag === '--gateway-env') {
      const [name, ...rest] = value().split('=')
      if (!name || rest.length === 0) throw new Error('--gateway-env takes NAME=VALUE')
      opts.gatewayEnv[name] = rest.join('=')
    } else if (flag === '--keep') opts.keep = true
    else if (flag === '--cpu-prof') opts.cpuProfDir = value()
    else throw new Error(`unknown option '${flag}'`)
  }
  if (opts.lineBytes < 512) throw new Error('--line-bytes must be at least 512')
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat takes a whole number ≥ 1')
  return opts
}
