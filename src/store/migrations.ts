// Ordered, append-only schema steps. Step N moves the database from version N-1 to N; never edit
// a step that has shipped — add a new one.

export const MIGRATIONS: readonly string[] = [
  // 1: files and batches with gateway ids, owner, upstream mapping and conversion facts.
  `
  CREATE TABLE files (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    dialect     TEXT NOT NULL,
    location    TEXT NOT NULL,          -- JSON FileLocation
    upstream_key TEXT,                  -- provider-unique key of upstream/derived files, for adoption
    purpose     TEXT NOT NULL,
    filename    TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    mime_type   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    facts       TEXT NOT NULL,          -- JSON FileFacts
    state       TEXT NOT NULL           -- 'pending' while an upload is in flight, then 'ready'
  );
  CREATE INDEX files_tenant_id ON files (tenant, id);
  CREATE UNIQUE INDEX files_upstream_key ON files (provider, upstream_key) WHERE upstream_key IS NOT NULL;

  CREATE TABLE batches (
    id                  TEXT PRIMARY KEY,
    tenant              TEXT NOT NULL,
    provider            TEXT NOT NULL,
    dialect             TEXT NOT NULL,
    upstream_id         TEXT,           -- null while the create call is in flight
    endpoint            TEXT NOT NULL,
    input_file_id       TEXT,
    completion_window   TEXT NOT NULL,
    metadata            TEXT,           -- JSON object or null
    created_at          INTEGER NOT NULL,
    snapshot            TEXT,           -- JSON UpstreamBatch
    output_file_id      TEXT,
    error_file_id       TEXT,
    id_scheme           TEXT NOT NULL,
    cancel_requested_at INTEGER,
    archived_at         INTEGER,
    state               TEXT NOT NULL,  -- 'creating' (intent recorded) | 'ready' | 'deleted'
    intent              TEXT            -- JSON: what the in-flight create was asked to do
  );
  CREATE INDEX batches_tenant_id ON batches (tenant, id);
  `,
]
