// GET /docs: an interactive reference of both dialects (Swagger UI) over /openapi.json. The UI's
// script and stylesheet are embedded in the binary at build time and served from here, so the
// page works with no network: no CDN, nothing fetched but this gateway's own routes.
// Imported `with { type: 'file' }`: each import is only a path (into node_modules, or into the
// binary's embedded file system), read when a browser asks. A `type: 'text'` import held ~30 MiB
// of RSS in every gateway from start-up for a page most deployments never open.

import { Elysia } from 'elysia'
import scriptPath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import stylePath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }

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
const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } })

export function docsRoutes() {
  const hidden = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .get('/docs', () => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), hidden)
    .get('/docs/swagger-ui-bundle.js', asset(scriptPath, 'text/javascript; charset=utf-8'), hidden)
    .get('/docs/swagger-ui.css', asset(stylePath, 'text/css; charset=utf-8'), hidden)
}
