// Peak resident memory of another process, from Linux's /proc/<pid>/status. Two sources, and the
// report takes the larger: VmHWM, the kernel's own high-water mark (exact, but process-wide, so
// it is reset before each phase by writing 5 to /proc/<pid>/clear_refs — see proc(5)), and
// VmRSS sampled every few milliseconds, in case the reset is not permitted.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

const MIB = 1024 * 1024

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`)
  return Number(match[1]) * 1024
}

export const rssBytes = (pid: number): number => statusField(pid, 'VmRSS')

/** Resets VmHWM to the current RSS; false if the kernel refused (then only samples count). */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export interface PeakWindow {
  /** Stops sampling and returns the phase's peak RSS in bytes. */
  stop(): number
}

/** Starts measuring one phase's peak RSS of `pid`. */
export function watchPeak(pid: number, everyMs = 10): PeakWindow {
  const hwmReset = resetPeak(pid)
  let sampled = rssBytes(pid)
  const timer = setInterval(() => {
    try {
      sampled = Math.max(sampled, rssBytes(pid))
    } catch {
      // The process ended; its exit is reported by whoever awaits it.
    }
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      const final = rssBytes(pid)
      return Math.max(sampled, final, hwmReset ? statusField(pid, 'VmHWM') : 0)
    },
  }
}

export const mib = (bytes: number): number => bytes / MIB

/**
 * CPU seconds (user + system, all threads) `pid` has used so far, from /proc/<pid>/stat fields
 * 14 and 15 (clock ticks, 100 a second on Linux). It moves far less than wall time when other
 * processes load the machine, so it helps tell a slower engine from a busier neighbour.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * CPU seconds so far of each thread of `pid`, grouped by thread name (the comm and stat files
 * under /proc/<pid>/task/<tid>): which thread a change moved work onto or off (the event loop,
 * Bun's HTTP client thread, JIT and GC helpers).
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

/**
 * Waits until `pid` is idle — under `busyMs` of CPU in each of two `windowMs` windows in a row —
 * or `timeoutMs` passed; returns the CPU seconds it used meanwhile. A gateway settles a batch's
 * usage after the batch ended (core/settlement.ts, at the watcher's next tick): a timed run that
 * follows must not share the machine with that.
 */
export async function waitIdle(pid: number, windowMs = 100, busyMs = 5, timeoutMs = 15_000): Promise<number> {
  const start = cpuSeconds(pid)
  const end = Date.now() + timeoutMs
  let quiet = 0
  let last = start
  while (quiet < 2 && Date.now() < end) {
    await Bun.sleep(windowMs)
    const now = cpuSeconds(pid)
    quiet = (now - last) * 1000 < busyMs ? quiet + 1 : 0
    last = now
  }
  return last - start
}
