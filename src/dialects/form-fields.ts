// Multipart form fields in the two shapes SDKs send nested values: bracket notation
// (`storage_config[s3][bucket]=b`, how openai-node flattens extra_body) or one JSON-encoded field.
// Segments are client-chosen, so the objects built here have no prototype: a field named
// `x[__proto__][bucket]` must not reach Object.prototype (it would reach every object).

import { depthLimitText, parseJsonBounded } from '../convert/json-depth'
import { GatewayError, invalid } from '../errors'

type Nested = { [key: string]: string | Nested }

/** Collects `name[a][b]=v` fields (or a JSON field `name`) into a nested object; undefined if absent. */
export function nestedField(fields: ReadonlyMap<string, string>, name: string): Nested | undefined {
  const json = fields.get(name)
  if (json !== undefined) {
    try {
      const value = parseJsonBounded(json, () => invalid(`Form field '${name}' ${depthLimitText}.`, { param: name, code: 'invalid_json' }))
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Nested
    } catch (err) {
      if (err instanceof GatewayError) throw err
      // a syntax error falls through to the error below
    }
    throw invalid(`Form field '${name}' must be a JSON object or sent in bracket notation (${name}[key]=value).`, {
      param: name,
    })
  }
  let found: Nested | undefined
  for (const [key, value] of fields) {
    if (!key.startsWith(`${name}[`)) continue
    const path = [...key.slice(name.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string)
    found ??= Object.create(null) as Nested
    let node: Nested = found
    for (const [i, seg] of path.entries()) {
      if (i === path.length - 1) node[seg] = value
      else {
        const next = node[seg]
        node = typeof next === 'object' ? next : (node[seg] = Object.create(null) as Nested)
      }
    }
  }
  return found
}
