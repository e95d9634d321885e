// One Google Cloud project as a batch gateway sees it: its OAuth token endpoint (`/token`), its
// Cloud Storage buckets (`/storage/v1`, `/upload/storage/v1`) and Vertex AI batch prediction in
// one location (`/v1/projects/P/locations/L/batchPredictionJobs`). Every call but the token
// exchange needs `Authorization: Bearer` with a token this project issued (or a static one, as a
// workload-identity token file would hold); anything else is a 401 in each API's own error shape.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GoogleError, readJsonBody, serveGoogleFake } from '../gemini/common'
import type { FakeServer } from '../harness'
import { GcsStore, gcsError } from './gcs'
import { type Job, JobStore } from './jobs'
import { makeServiceAccount, TokenIssuer } from './oauth'

export interface VertexFakeOptions {
  project?: string
  location?: string
  buckets?: readonly string[]
  /** The service account whose key file the fake writes (default batchgate@{project}.iam…). */
  email?: string
  autoAdvance?: boolean
  /** Split each job's predictions over files of this many rows (default: one file). */
  rowsPerFile?: number
}

export interface VertexFake extends FakeServer {
  readonly project: string
  readonly location: string
  /** Path of a service-account key file for this project (its token_uri is this fake). */
  readonly keyFile: string
  readonly tokenUrl: string
  readonly issuer: TokenIssuer
  readonly gcs: GcsStore
  readonly jobs: JobStore
  autoAdvance: boolean
  /** Accepts `token` as a bearer token from now on (what a token file would hold). */
  allowStaticToken(token: string): void
  job(idOrName: string): Job
  finish(idOrName: string): void
  /** An object's text, from `gs://bucket/name`. */
  objectText(uri: string): string
}

const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'

export async function startVertexFake(opts: VertexFakeOptions = {}): Promise<VertexFake> {
  const project = opts.project ?? 'batchgate-test'
  const location = opts.location ?? 'us-central1'
  const dir = mkdtempSync(join(tmpdir(), 'vertex-fake-'))
  let base = ''
  const state = { autoAdvance: opts.autoAdvance ?? true }
  const issuer = new TokenIssuer(() => `${base}/token`)
  const gcs = new GcsStore(opts.buckets ?? [`${project}-batches`], () => base)
  const parent = `projects/${project}/locations/${location}`
  const jobs = new JobStore(gcs, parent, () => state.autoAdvance, opts.rowsPerFile)

  const bearer = (req: Request): 'missing' | 'invalid' | 'ok' => {
    const header = req.headers.get('authorization')
    if (!header) return 'missing'
    const m = /^Bearer (.+)$/.exec(header)
    return m && issuer.valid(m[1] as string) ? 'ok' : 'invalid'
  }

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname
    if (path === '/token') return issuer.handle(req)

    if (path.startsWith('/storage/v1/') || path.startsWith('/upload/storage/v1/')) {
      // A resumable session URI is its own authorisation (the upload_id), as on the real service.
      const session = (req.method === 'PUT' || req.method === 'DELETE') && url.searchParams.has('upload_id')
      const auth = bearer(req)
      if (!session && auth !== 'ok') {
        const message = auth === 'missing' ? 'Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object.' : 'Invalid Credentials'
        return gcsError(401, auth === 'missing' ? 'required' : 'authError', message)
      }
      return (await gcs.route(req, url)) ?? gcsError(404, 'notFound', 'Not Found')
    }

    if (path.startsWith('/v1/')) {
      const auth = bearer(req)
      if (auth !== 'ok') throw new GoogleError('UNAUTHENTICATED', auth === 'missing' ? MISSING_CREDENTIALS : INVALID_CREDENTIALS)
      const m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/batchPredictionJobs(?:\/([^/:]+))?(?::(cancel))?$/.exec(path)
      if (!m) throw new GoogleError('NOT_FOUND', `The requested URL ${path} was not found on this server.`)
      const verb = req.method === 'POST' ? 'create' : req.method === 'GET' ? 'get' : req.method === 'DELETE' ? 'delete' : 'update'
      if (m[1] !== parent) {
        throw new GoogleError(
          'PERMISSION_DENIED',
          `Permission 'aiplatform.batchPredictionJobs.${verb}' denied on resource '//aiplatform.googleapis.com/${m[1]}' (or it may not exist).`,
        )
      }
      const id = m[2]
      if (id === undefined) {
        if (req.method === 'POST') return jobs.create(req)
        if (req.method === 'GET') return jobs.list(url)
      } else if (m[3] === 'cancel') {
        if (req.method === 'POST') {
          await readJsonBody(req, true)
          return jobs.cancel(id)
        }
      } else if (req.method === 'GET') return jobs.getResponse(id)
      else if (req.method === 'DELETE') return jobs.delete(id)
      throw new GoogleError('NOT_FOUND', `Method ${req.method} ${path} is not found.`)
    }
    return new Response('Not Found', { status: 404 })
  }

  const server = serveGoogleFake(route)
  base = server.url
  const email = opts.email ?? `batchgate@${project}.iam.gserviceaccount.com`
  const account = await makeServiceAccount({ email, projectId: project, tokenUri: `${base}/token` })
  issuer.register(email, account.publicKey, account.keyId)
  const keyFile = join(dir, 'service-account.json')
  writeFileSync(keyFile, JSON.stringify(account.json, null, 2))

  const jobOf = (idOrName: string): Job => jobs.get(idOrName.split('/').pop() as string)
  return {
    ...server,
    project,
    location,
    keyFile,
    tokenUrl: `${base}/token`,
    issuer,
    gcs,
    jobs,
    get autoAdvance() {
      return state.autoAdvance
    },
    set autoAdvance(v: boolean) {
      state.autoAdvance = v
    },
    allowStaticToken: (token) => issuer.staticTokens.add(token),
    job: jobOf,
    finish: (idOrName) => jobs.finish(jobOf(idOrName)),
    objectText: (uri) => {
      const [bucket, ...rest] = uri.replace(/^gs:\/\//, '').split('/')
      const obj = gcs.get(bucket as string, rest.join('/'))
      if (!obj) throw new Error(`no object ${uri}`)
      return new TextDecoder().decode(obj.bytes)
    },
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
