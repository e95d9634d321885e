// Read at build time by the bundler, so the compiled binary carries it without package.json.
import pkg from '../package.json' with { type: 'json' }

export const VERSION: string = pkg.version
