// Shared assertions for the table-driven converter tests.

import { expect } from 'bun:test'
import type { ChatRequest } from '../../src/core/chat'
import { type ErrorKind, GatewayError } from '../../src/errors'

export interface ExpectedError {
  /** A substring the message must contain. */
  message: string
  line?: number
  param?: string
  kind?: ErrorKind
}

/** Runs `fn`, which must throw a GatewayError matching `expected` (kind defaults to invalid_request). */
export function expectGatewayError(fn: () => unknown, expected: ExpectedError): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(GatewayError)
  const err = thrown as GatewayError
  expect(err.kind).toBe(expected.kind ?? 'invalid_request')
  expect(err.message).toContain(expected.message)
  // details, not the `line` getter: Bun gives every Error an own `line` (its source line) that shadows it.
  if ('line' in expected) expect(err.details.line).toBe(expected.line)
  if ('param' in expected) expect(err.details.param).toBe(expected.param)
}

/** A neutral request with every optional field unset; rows override what they test. */
export function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    customId: 'req-1',
    model: 'm',
    system: null,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    maxTokens: 100,
    temperature: null,
    topP: null,
    topK: null,
    stop: [],
    tools: [],
    toolChoice: null,
    user: null,
    ...overrides,
  }
}
