// Every Prometheus metric the gateway exports, on one prom-client registry. Labels are closed
// sets (dialect, route template, method, status, provider, operation, direction, format): no id,
// tenant secret or prompt text can become a label, so cardinality is bounded by the code.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom'
import type { ReconcileReport } from '../core/reconcile'

export const registry = new Registry()

let enabled = true

/** BATCHGATE_INSTRUMENTATION=off: nothing is recorded (the benchmark measures the difference). */
export function setInstrumentation(on: boolean): void {
  enabled = on
}
export const instrumentationOn = (): boolean => enabled

// Requests to this gateway take from a millisecond (metadata) to minutes (multi-GB uploads).
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export const httpRequests = new Counter({
  name: 'batchgate_http_requests_total',
  help: 'Requests served, by dialect, route template, method and status.',
  labelNames: ['dialect', 'route', 'method', 'status'] as const,
  registers: [registry],
})

export const httpDuration = new Histogram({
  name: 'batchgate_http_request_duration_seconds',
  help: 'Time from request to the last response byte, by dialect, route template and method.',
  labelNames: ['dialect', 'route', 'method'] as const,
  buckets: HTTP_BUCKETS,
  registers: [registry],
})

export const upstreamRequests = new Counter({
  name: 'batchgate_upstream_requests_total',
  help: 'Calls to providers (every attempt), by provider, operation and HTTP status (or timeout/network).',
  labelNames: ['provider', 'operation', 'status'] as const,
  registers: [registry],
})

export const upstreamDuration = new Histogram({
  name: 'batchgate_upstream_request_duration_seconds',
  help: 'Time from sending a provider call to its response headers, by provider and operation.',
  labelNames: ['provider', 'operation'] as const,
  buckets: HTTP_BUCKETS,
  registers: [registry],
})

export const upstreamRetries = new Counter({
  name: 'batchgate_upstream_retries_total',
  help: 'Provider calls that were repeats of a failed attempt, by provider and operation.',
  labelNames: ['provider', 'operation'] as const,
  registers: [registry],
})

export const transferBytes = new Counter({
  name: 'batchgate_transfer_bytes_total',
  help: 'Bytes moved: client_in/client_out between clients and the gateway, upstream_out/upstream_in between the gateway and providers.',
  labelNames: ['provider', 'direction'] as const,
  registers: [registry],
})

export const inflightUploads = new Gauge({
  name: 'batchgate_inflight_uploads',
  help: 'File uploads being received right now.',
  registers: [registry],
})

// Lines are counted with a plain increment on the hot path and handed to the counter at scrape
// time: a labelled prom-client increment per line would cost more than converting some lines.
interface LineCell {
  from: string
  to: string
  n: number
}
const lineCells = new Map<string, LineCell>()

function lineCell(from: string, to: string): LineCell {
  const key = `${from}>${to}`
  let cell = lineCells.get(key)
  if (!cell) {
    cell = { from, to, n: 0 }
    lineCells.set(key, cell)
  }
  return cell
}

export function countConverted(from: string, to: string): () => void {
  const cell = lineCell(from, to)
  return () => {
    if (enabled) cell.n++
  }
}

/** Lines converted where these counters are not (worker threads have their own module copies). */
export function addConverted(from: string, to: string, lines: number): void {
  if (enabled && lines > 0) lineCell(from, to).n += lines
}

export const convertedLines = new Counter({
  name: 'batchgate_converted_lines_total',
  help: 'JSONL lines converted, by source and target format (results pass the neutral `chat` form).',
  labelNames: ['from', 'to'] as const,
  registers: [registry],
  collect() {
    for (const cell of lineCells.values()) {
      if (cell.n === 0) continue
      this.inc({ from: cell.from, to: cell.to }, cell.n)
      cell.n = 0
    }
  },
})

export const reconcileTotal = new Counter({
  name: 'batchgate_reconcile_total',
  help: 'Start-up reconciliation actions, by kind of debris and outcome.',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
})

/** One start-up run's report, counted as kind × outcome. */
export function countReconciled(report: ReconcileReport): void {
  const add = (kind: string, outcome: string, n: number) => {
    if (n > 0) reconcileTotal.inc({ kind, outcome }, n)
  }
  add('spool_file', 'removed', report.spoolFilesRemoved)
  add('orphan_blob', 'removed', report.orphanBlobsRemoved)
  add('upload', 'multipart_aborted', report.leftoversAborted.length)
  add('upload', 'cleaned', report.uploadsCleaned.length)
  add('upload', 'dropped', report.uploadsDropped.length)
  add('create', 'adopted', report.createsAdopted.length)
  add('create', 'abandoned', report.createsAbandoned.length)
  // Creates kept for an operator: the batch they may have made cannot be told apart (adoption.ts).
  add('create', 'unresolved', report.createsUnresolved.length)
  add('pending', 'deferred', report.deferred.length)
}

// process_* and nodejs_* under their usual names, so stock dashboards work unchanged.
collectDefaultMetrics({ register: registry })

/** `create batch` → `create_batch`: operation labels are the upstream calls' fixed descriptions. */
export const operationLabel = (what: string): string => what.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_')
