// Files imported `with { type: 'file' }`: Bun gives their path (embedded in the compiled binary);
// these declarations give TypeScript that shape.
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const path: string
  export default path
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const path: string
  export default path
}
