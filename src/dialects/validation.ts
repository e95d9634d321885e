// Schema failures → one GatewayError that names the field and the rule it broke ("metadata: at
// most 16 keys"), never a schema summary ("should be one of: 'object', 'null'") and never the
// value itself: the message stays a few hundred bytes whatever the caller sent.
//
// JSON bodies are checked here, in the body parser, with a compiled TypeBox checker: Elysia's
// own ValidationError serialises the whole value into its message (pretty-printed) before the
// error edge sees it, which for a large body is the memory blow-up of issue 11. Query strings
// and path params stay with Elysia (they are small) and reach `explainValueErrors` via app.ts.

import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import { type GatewayError, invalid } from '../errors'

/** A compiled check that returns the value typed, or throws the first failure explained. */
export function bodyValidator<T extends TSchema>(schema: T): (value: unknown) => Static<T> {
  const check = TypeCompiler.Compile(schema)
  return (value) => {
    if (check.Check(value)) return value
    throw explainValueErrors(check.Errors(value))
  }
}

/** The first failure, as `param: rule` with `param` set (OpenAI envelope). */
export function explainValueErrors(errors: Iterable<ValueError>): GatewayError {
  for (const e of errors) {
    const { param, rule } = explain(e)
    if (param === undefined) return invalid(`The request body: ${rule}.`)
    return invalid(rule.startsWith('Missing') || rule.startsWith('Unrecognized') ? rule : `${param}: ${rule}.`, { param })
  }
  return invalid('Invalid request: does not match the expected shape.')
}

interface Explained {
  param: string | undefined
  rule: string
}

function explain(e: ValueError): Explained {
  const param = paramOf(e.path)
  const s = e.schema as Record<string, unknown>
  // A schema's own `error` text is written `param: what`; it wins.
  if (typeof s.error === 'string') {
    const m = /^([\w.[\]]+): (.*)$/.exec(s.error)
    return m ? { param: m[1], rule: (m[2] as string).replace(/\.$/, '') } : { param, rule: s.error.replace(/\.$/, '') }
  }
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { param, rule: `Missing required parameter: '${param}'.` }
    case ValueErrorType.ObjectAdditionalProperties:
      return additional(e, param)
    case ValueErrorType.ObjectMaxProperties:
      return { param, rule: `at most ${s.maxProperties} keys (got ${Object.keys(e.value as object).length})` }
    case ValueErrorType.ObjectMinProperties:
      return { param, rule: `at least ${s.minProperties} keys` }
    case ValueErrorType.StringMaxLength:
      return { param, rule: `at most ${s.maxLength} characters (got ${(e.value as string).length})` }
    case ValueErrorType.StringMinLength:
      return { param, rule: s.minLength === 1 ? 'must not be empty' : `at least ${s.minLength} characters` }
    case ValueErrorType.StringPattern:
      return { param, rule: `must match ${s.pattern}` }
    case ValueErrorType.ArrayMaxItems:
      return { param, rule: `at most ${s.maxItems} items (got ${(e.value as unknown[]).length})` }
    case ValueErrorType.ArrayMinItems:
      return { param, rule: s.minItems === 1 ? 'must not be empty' : `at least ${s.minItems} items` }
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return { param, rule: range(s) }
    case ValueErrorType.Literal:
      return { param, rule: `must be ${quote(s.const)} (got ${describeValue(e.value)})` }
    case ValueErrorType.Union:
      return union(e, param)
    case ValueErrorType.Object:
      if (param === undefined) return { param, rule: `expected a JSON object with ${required(s)}, got ${kindOf(e.value)}` }
      return { param, rule: `expected an object, got ${kindOf(e.value)}` }
    default:
      if (typeName(s)) return { param, rule: `expected ${typeName(s)}, got ${kindOf(e.value)}` }
      return { param, rule: e.message.toLowerCase() }
  }
}

/** `/metadata/k1` → `metadata.k1`; the root is no param at all. */
function paramOf(path: string): string | undefined {
  if (!path || path === '/') return undefined
  return path
    .slice(1)
    .split('/')
    .map((seg) => seg.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.')
}

/** An unknown field, or a key a record's key pattern refuses (metadata keys over 64 characters). */
function additional(e: ValueError, param: string | undefined): Explained {
  const s = e.schema as Record<string, unknown>
  const at = param ?? ''
  const cut = at.lastIndexOf('.')
  const key = cut === -1 ? at : at.slice(cut + 1)
  const parent = cut === -1 ? undefined : at.slice(0, cut)
  const patterns = s.patternProperties as Record<string, unknown> | undefined
  if (patterns) {
    const bounds = /\{(\d+),(\d+)\}\$$/.exec(Object.keys(patterns)[0] ?? '')
    const rule = bounds ? `keys are ${bounds[1]} to ${bounds[2]} characters` : 'key not allowed'
    return { param: parent, rule: `${rule} (got a key of ${key.length})` }
  }
  const known = Object.keys((s.properties as object | undefined) ?? {})
  const where = parent ? ` in '${parent}'` : ''
  return {
    param: param,
    rule: `Unrecognized request argument supplied: '${clip(key)}'${where}. Known parameters: ${known.join(', ')}.`,
  }
}

function union(e: ValueError, param: string | undefined): Explained {
  const variants = ((e.schema as { anyOf?: Array<Record<string, unknown>> }).anyOf ?? []) as Array<Record<string, unknown>>
  if (variants.length > 0 && variants.every((v) => 'const' in v)) {
    return { param, rule: `must be one of ${variants.map((v) => quote(v.const)).join(', ')} (got ${describeValue(e.value)})` }
  }
  // The branch of the value's own kind says what is wrong inside it (17 keys, a long value).
  const kind = jsonKind(e.value)
  const i = variants.findIndex((v) => schemaKind(v) === kind)
  const inner = i === -1 ? undefined : e.errors[i]?.First()
  if (inner) return explain(inner)
  const names = variants.map((v) => typeName(v) ?? 'a value of another shape')
  return { param, rule: `expected ${names.join(' or ')}, got ${kindOf(e.value)}` }
}

/** The fields a body object must hold, or all of them when none is required. */
function required(s: Record<string, unknown>): string {
  const names = (s.required as string[] | undefined) ?? Object.keys((s.properties as object | undefined) ?? {})
  return names.map((n) => `'${n}'`).join(', ')
}

function range(s: Record<string, unknown>): string {
  const what = s.type === 'integer' ? 'an integer' : 'a number'
  if (typeof s.minimum === 'number' && typeof s.maximum === 'number') return `must be ${what} from ${s.minimum} to ${s.maximum}`
  if (typeof s.minimum === 'number') return `must be ${what} of at least ${s.minimum}`
  return `must be ${what} of at most ${s.maximum}`
}

type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | 'undefined'

function jsonKind(v: unknown): JsonKind {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  const t = typeof v
  return t === 'object' || t === 'string' || t === 'number' || t === 'boolean' ? t : 'undefined'
}

function schemaKind(s: Record<string, unknown>): JsonKind | undefined {
  if ('const' in s) return jsonKind(s.const)
  if (s.type === 'integer') return 'number'
  return typeof s.type === 'string' ? (s.type as JsonKind) : undefined
}

function typeName(s: Record<string, unknown>): string | undefined {
  if ('const' in s) return quote(s.const)
  if (s.patternProperties) {
    const values = Object.values(s.patternProperties as Record<string, Record<string, unknown>>)[0]
    return `an object of ${values ? (typeName(values) ?? 'value') : 'value'}s`.replace(/of an? /, 'of ')
  }
  switch (s.type) {
    case 'string':
      return 'a string'
    case 'integer':
      return 'an integer'
    case 'number':
      return 'a number'
    case 'boolean':
      return 'a boolean'
    case 'object':
      return 'an object'
    case 'array':
      return 'an array'
    case 'null':
      return 'null'
    default:
      return undefined
  }
}

/** What the caller sent, by kind only: values are never echoed in full. */
function kindOf(v: unknown): string {
  const k = jsonKind(v)
  if (k === 'null') return 'null'
  if (k === 'undefined') return 'nothing'
  return `${k === 'array' || k === 'object' ? 'an' : 'a'} ${k}`
}

/** Short scalars may be shown (they help: `got 'sideways'`); anything else by kind. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return kindOf(v)
}

const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s)
const quote = (v: unknown): string => (typeof v === 'string' ? `'${clip(v)}'` : String(v))
