// Creates the data dir when it is missing and proves this process may write into it before SQLite
// touches it: SQLite's own failure ("unable to open database file") names neither the path nor
// the cause, and in a container the usual cause is a volume owned by another uid.

import { accessSync, constants, mkdirSync } from 'node:fs'

/** A start-up failure main.ts prints as one line before exiting 1. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DataDirError'
  }
}

export function prepareDataDir(dir: string): void {
  try {
    // Recursive mkdir succeeds on an existing directory and fails (EEXIST) on a file.
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (err) {
    throw new DataDirError(`data dir '${dir}' (BATCHGATE_DATA_DIR) ${reason(err)}`)
  }
}

function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `is not writable by uid ${process.getuid?.() ?? '?'}: give that user the directory or point BATCHGATE_DATA_DIR elsewhere`
    case 'EROFS':
      return 'is on a read-only file system: mount a writable volume there'
    case 'ENOTDIR':
    case 'EEXIST':
      return 'is not a directory (a file is in the way)'
    default:
      return `cannot be used: ${(err as Error).message}`
  }
}
