import { Elysia } from 'elysia'
import type { Services } from '../../core/services'

export function anthropicDialect(_services: Services) {
  return new Elysia({ name: 'anthropic-dialect', prefix: '/anthropic' })
}
