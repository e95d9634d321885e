// An emulated run's answers on SQLite (one gateway process per data dir): appended to one file per
// run, `<data dir>/emulated/<run>.log`, instead of written as rows. A group of answers is one
// write() — no B-tree, no WAL frames, no checkpoint copying them again — which is what lets the
// runner keep up with a local endpoint (issue 17; docs/emulated.md, "Durable progress").
//
// One record per line: `<line>\t<outcome code>\t<length>\t<stored result>`. The length (in
// UTF-16 units of the stored result) makes a record torn by a crash in the middle of its write
// detectable: it is ignored, as if never written, and the request is sent again. A record counts
// once it is whole in the file, so nothing is counted before it is recorded. Durability is that of
// SQLite's WAL at synchronous=NORMAL, which the rest of the store uses: a killed process loses
// nothing written, a power cut may lose the last writes (no fsync per group).
//
// A line recorded twice (a request in flight when a lease was lost, answered by both holders)
// keeps its first record: counts, the done map and result files all take the first one in file
// order. Result files come in the order answers arrived, as OpenAI's own do (not input order).

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { wholeLines } from '../convert/whole-lines'
import { type Outcome, partOf, type RecordedResult } from './emulated-result'

const CODE: Record<Outcome, string> = { succeeded: 's', errored: 'e', expired: 'x', canceled: 'c' }
const OUTCOME: Record<string, Outcome> = { s: 'succeeded', e: 'errored', x: 'expired', c: 'canceled' }
const NEWLINE = 10

/** One whole record of a log line; null for a torn or foreign line. */
function parseRecord(text: string): RecordedResult | null {
  const a = text.indexOf('\t')
  const c = text.indexOf('\t', a + 3)
  if (a <= 0 || text.charCodeAt(a + 2) !== 9 || c < 0) return null
  const outcome = OUTCOME[text.charAt(a + 1)]
  const line = Number(text.slice(0, a))
  if (!outcome || !Number.isSafeInteger(line) || line < 0 || Number(text.slice(a + 3, c)) !== text.length - c - 1) return null
  return { line, outcome, body: text.slice(c + 1) }
}

/** What one handle knows of a run's log: how far it has read, and what it found. */
interface RunIndex {
  offset: number
  /** 1 for each line recorded (its first record is what counts). */
  done: Uint8Array
  counts: Record<Outcome, number>
  /** The scan in progress: two readers never count the same bytes twice. */
  reading: Promise<void> | null
}

const emptyIndex = (total: number): RunIndex => ({ offset: 0, done: new Uint8Array(total), counts: { succeeded: 0, errored: 0, expired: 0, canceled: 0 }, reading: null })

export class ResultLog {
  private readonly dir: string
  private readonly fds = new Map<string, number>()
  private readonly indexes = new Map<string, RunIndex>()

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'emulated')
    mkdirSync(this.dir, { recursive: true })
  }

  private path(run: string): string {
    return join(this.dir, `${run}.log`)
  }

  /**
   * Appends a group of results with one write. When this handle's index had read the file up to
   * where the write landed, the group goes into the index as well (no need to read back what was
   * just written); any other bytes in between leave the index to a read.
   */
  append(run: string, results: readonly RecordedResult[]): void {
    let text = ''
    for (const r of results) text += `${r.line}\t${CODE[r.outcome]}\t${r.body.length}\t${r.body}\n`
    const fd = this.fd(run)
    const expected = Buffer.byteLength(text)
    let wrote = -1
    try {
      wrote = writeSync(fd, text)
    } finally {
      // A failed or short write (a full disk) may leave a torn record: the file is opened afresh
      // for the next group, which closes the torn record off first (see fd).
      if (wrote !== expected) this.release(run)
    }
    if (wrote !== expected) throw new Error(`the result log of ${run} took ${wrote} of ${expected} bytes`)
    const index = this.indexes.get(run)
    if (!index || index.reading || index.offset !== fstatSync(fd).size - wrote) return
    for (const r of results) this.note(index, r)
    index.offset += wrote
  }

  /** Counts a record unless its line was recorded before (first record wins). */
  private note(index: RunIndex, r: RecordedResult): void {
    if (r.line >= index.done.length || index.done[r.line] !== 0) return
    index.done[r.line] = 1
    index.counts[r.outcome]++
  }

  /** The run's file, opened once; a record torn by a crash is closed off before anything follows it. */
  private fd(run: string): number {
    let fd = this.fds.get(run)
    if (fd !== undefined) return fd
    fd = openSync(this.path(run), 'a+')
    const size = fstatSync(fd).size
    if (size > 0) {
      const last = new Uint8Array(1)
      readSync(fd, last, 0, 1, size - 1)
      if (last[0] !== NEWLINE) writeSync(fd, '\n')
    }
    this.fds.set(run, fd)
    return fd
  }

  /**
   * The run's counts. Kept up to date in memory only for a run this handle holds (an index made
   * by `index`, or a file it appends to); any other run is read once and nothing is kept, so a
   * read racing the run's end (release) leaves nothing behind.
   */
  async counts(run: string, total: number): Promise<Record<Outcome, number>> {
    if (this.indexes.has(run) || this.fds.has(run)) return { ...(await this.index(run, total)).counts }
    const index = emptyIndex(total)
    await this.readInto(run, index)
    return index.counts
  }

  /** The run's counts and done map, brought up to the end of its file (and kept, see counts). */
  async index(run: string, total: number): Promise<RunIndex> {
    let index = this.indexes.get(run)
    if (!index || index.done.length < total) {
      index = emptyIndex(total)
      this.indexes.set(run, index)
    }
    while (index.reading) await index.reading
    const target = index
    target.reading = this.readInto(run, target).finally(() => {
      target.reading = null
    })
    await target.reading
    return target
  }

  private async readInto(run: string, index: RunIndex): Promise<void> {
    for await (const { records, end } of this.records(run, index.offset)) {
      for (const r of records) this.note(index, r)
      index.offset = end
    }
  }

  /** The stored results of one part, first record of each line only, in file order. */
  async *results(run: string, part: 'output' | 'error', total: number): AsyncGenerator<RecordedResult[]> {
    const seen = new Uint8Array(total)
    for await (const { records } of this.records(run, 0)) {
      const out: RecordedResult[] = []
      for (const r of records) {
        if (r.line >= total || seen[r.line] === 1) continue
        seen[r.line] = 1
        if (partOf(r.outcome) === part) out.push(r)
      }
      if (out.length > 0) yield out
    }
  }

  /**
   * The whole records from byte `from` to the file's end as it is now, a source chunk at a time,
   * with the offset after the last whole line. A line still being written stays for a later read.
   */
  private async *records(run: string, from: number): AsyncGenerator<{ records: RecordedResult[]; end: number }> {
    const file = Bun.file(this.path(run))
    if (!(await file.exists())) return
    const size = file.size
    if (size <= from) return
    for await (const { lines, end } of wholeLines(file.slice(from, size).stream(), { maxLineBytes: Number.POSITIVE_INFINITY, lastLine: false })) {
      const records: RecordedResult[] = []
      for (const text of lines) {
        const r = parseRecord(text)
        if (r) records.push(r)
      }
      yield { records, end: from + end }
    }
  }

  /** The run will take no more records here (it ended): its file handle and index go. */
  release(run: string): void {
    const fd = this.fds.get(run)
    if (fd !== undefined) closeSync(fd)
    this.fds.delete(run)
    this.indexes.delete(run)
  }

  /** The runs that have a log file here. */
  runs(): string[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.log'))
      .map((name) => name.slice(0, -'.log'.length))
  }

  remove(run: string): void {
    this.release(run)
    rmSync(this.path(run), { force: true })
  }

  close(): void {
    for (const run of [...this.fds.keys()]) this.release(run)
  }
}
