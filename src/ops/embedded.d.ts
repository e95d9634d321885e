// Files imported `with { type: 'text' }`: Bun inlines their contents as a string (and embeds them
// in the compiled binary); these declarations give TypeScript that shape.
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string
  export default text
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string
  export default text
}
