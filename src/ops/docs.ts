// GET /docs: an interactive reference of both dialects (Swagger UI) over /openapi.json. The UI's
// script and stylesheet are embedded in the binary at build time and served from here, so the
// page works with no network: no CDN, nothing fetched but this gateway's own routes.

import { Elysia } from 'elysia'
import script from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'text' }
import style from 'swagger-ui-dist/swagger-ui.css' with { type: 'text' }

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>batchgate API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, docExpansion: 'list', validatorUrl: null })
</script>
</body>
</html>
`

// The assets change only with the package version: clients may keep them for a day.
const asset = (body: string, type: string) => () =>
  new Response(body, { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } })

export function docsRoutes() {
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .get('/docs', () => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), hidden)
    .get('/docs/swagger-ui-bundle.js', asset(script, 'text/javascript; charset=utf-8'), hidden)
    .get('/docs/swagger-ui.css', asset(style, 'text/css; charset=utf-8'), hidden)
}
