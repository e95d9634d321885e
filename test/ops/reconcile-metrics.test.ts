// Reconciliation outcomes an operator must act on are counted: an aborted multipart upload and a
// create kept `unresolved` (its batch could not be told apart) each have their own outcome label.

import { expect, test } from 'bun:test'
import { countReconciled, reconcileTotal } from '../../src/ops/metrics'

/** The counter's value for one label set (other test files in this process may have counted too). */
async function value(kind: string, outcome: string): Promise<number> {
  const { values } = await reconcileTotal.get()
  return values.find((v) => v.labels.kind === kind && v.labels.outcome === outcome)?.value ?? 0
}

test('unresolved creates and aborted multipart uploads are counted under their own outcomes', async () => {
  const before = { unresolved: await value('create', 'unresolved'), aborted: await value('upload', 'multipart_aborted') }
  countReconciled({
    spoolFilesRemoved: 0,
    orphanBlobsRemoved: 0,
    leftoversAborted: ['file-a'],
    uploadsCleaned: [],
    uploadsDropped: [],
    createsAdopted: [],
    createsAbandoned: [],
    createsUnresolved: ['batch_a', 'batch_b'],
    deferred: [],
  })
  expect(await value('create', 'unresolved')).toBe(before.unresolved + 2)
  expect(await value('upload', 'multipart_aborted')).toBe(before.aborted + 1)
})
