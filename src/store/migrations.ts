// Ordered, append-only schema steps, the same for SQLite and PostgreSQL. Step N moves the database
// from version N-1 to N; never edit a step that has shipped — add a new one. Steps are written
// in SQLite's dialect; `forPostgres` maps the few types that differ, so both engines get the same
// tables, the same indexes and — through byte-order collation of ids — the same paging order.
// A step the dialects cannot share (a trigger) gives each engine its own text.

const countOf = (outcome: string) =>
  `n_${outcome} = (SELECT COUNT(*) FROM emulated_results r WHERE r.run_id = emulated_runs.id AND r.outcome = '${outcome}')`
// Runs recorded before step 8 get their counts once, from their rows.
const COUNT_BACKFILL = `UPDATE emulated_runs SET ${['succeeded', 'errored', 'expired', 'canceled'].map(countOf).join(', ')};`

export type MigrationStep = string | { sqlite: string; postgres: string }

export const MIGRATIONS: readonly MigrationStep[] = [
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
  // 2 (issue 15): the watcher's schedule and lease per batch, status history, settled usage per
  // batch and model, and the durable webhook outbox.
  `
  ALTER TABLE batches ADD COLUMN watch_next_at INTEGER;      -- unix ms of the next poll (null: created_at + interval)
  ALTER TABLE batches ADD COLUMN watch_interval_ms INTEGER;  -- current backoff step
  ALTER TABLE batches ADD COLUMN watch_owner TEXT;           -- instance holding the watch lease
  ALTER TABLE batches ADD COLUMN watch_until INTEGER;        -- unix ms the lease runs out
  ALTER TABLE batches ADD COLUMN settled_at INTEGER;         -- unix s usage was settled (null: not yet)
  ALTER TABLE batches ADD COLUMN usage TEXT;                 -- JSON BatchUsage, written with settled_at
  CREATE INDEX batches_unsettled ON batches (watch_next_at) WHERE settled_at IS NULL;

  CREATE TABLE batch_status_changes (
    batch_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    at         INTEGER NOT NULL,        -- unix ms seen
    PRIMARY KEY (batch_id, status)
  );

  CREATE TABLE batch_usage (
    batch_id      TEXT NOT NULL,
    tenant        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    settled_at    INTEGER NOT NULL,     -- unix s; the usage API buckets on it
    succeeded     INTEGER NOT NULL,
    errored       INTEGER NOT NULL,
    expired       INTEGER NOT NULL,
    cancelled     INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_usd      REAL,                 -- null: no price known for this model
    PRIMARY KEY (batch_id, model)
  );
  CREATE INDEX batch_usage_tenant_time ON batch_usage (tenant, settled_at);

  CREATE TABLE webhook_outbox (
    id            TEXT PRIMARY KEY,     -- webhook-id (msg_…), stable across retries
    event_id      TEXT NOT NULL,        -- evt_… in the payload
    batch_id      TEXT NOT NULL,
    tenant        TEXT NOT NULL,
    target        TEXT NOT NULL,        -- whose secret signs it: 'global' or 'tenant'
    url           TEXT NOT NULL,
    payload       TEXT NOT NULL,        -- the exact JSON body that is signed
    created_at    INTEGER NOT NULL,     -- unix ms enqueued
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,     -- unix ms of the next attempt
    owner         TEXT,                 -- instance holding the delivery lease
    lease_until   INTEGER,
    delivered_at  INTEGER,
    gave_up_at    INTEGER,
    last_error    TEXT
  );
  CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
  `,
  // 3 (issue 14): several instances on one database. A pending upload or create names the instance doing
  // it (`owner`); instances heartbeat, and another instance takes an intent over only once its
  // owner's heartbeat has expired (core/reconcile.ts). `leases` are named, expiring locks for
  // background jobs (store/leases.ts).
  `
  ALTER TABLE files ADD COLUMN owner TEXT;
  ALTER TABLE batches ADD COLUMN owner TEXT;
  CREATE INDEX files_pending ON files (state) WHERE state = 'pending';
  CREATE INDEX batches_creating ON batches (state) WHERE state = 'creating';
  CREATE INDEX batches_provider_upstream ON batches (provider, upstream_id);
  CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,      -- unix ms
    heartbeat_at INTEGER NOT NULL       -- unix ms; stale past the lease TTL = the instance is gone
  );
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,           -- instance id
    expires_at INTEGER NOT NULL         -- unix ms
  );
  `,
  // 4 (issue 17): batches the gateway runs itself (kind = "emulated"). One row per run, and one row per
  // answered request, written before it counts: a restarted runner skips every recorded line.
  `
  CREATE TABLE emulated_runs (
    id             TEXT PRIMARY KEY,    -- the gateway batch id (also the blob holding the input lines)
    provider       TEXT NOT NULL,
    endpoint       TEXT NOT NULL,
    total          INTEGER NOT NULL,
    model          TEXT,
    status         TEXT NOT NULL,       -- in_progress | cancelling | finalizing | completed | cancelled | expired
    created_at     INTEGER NOT NULL,    -- unix s
    expires_at     INTEGER NOT NULL,    -- unix s: the completion window ends
    started_at     INTEGER,
    finalizing_at  INTEGER,
    ended_at       INTEGER,
    cancelling_at  INTEGER
  );
  CREATE INDEX emulated_runs_open ON emulated_runs (status) WHERE status IN ('in_progress', 'cancelling', 'finalizing');
  CREATE TABLE emulated_results (
    run_id   TEXT NOT NULL,
    line     INTEGER NOT NULL,          -- 0-based index of the request in the input
    outcome  TEXT NOT NULL,             -- succeeded | errored | expired | canceled
    part     TEXT NOT NULL,             -- output | error: which OpenAI result file the line goes to
    body     TEXT NOT NULL,             -- the OpenAI result line, without its newline
    PRIMARY KEY (run_id, line)
  );
  `,
  // 5 (issue 14): OpenAI Uploads in the store, so every call of one upload may reach a different
  // instance. The parts' bytes are blobs (kind 'part', named by the part id).
  `
  CREATE TABLE uploads (
    id                 TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL,
    provider           TEXT NOT NULL,
    filename           TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    bytes              INTEGER NOT NULL,
    mime_type          TEXT NOT NULL,
    created_at         INTEGER NOT NULL,  -- unix s
    expires_at         INTEGER NOT NULL,  -- unix s
    status             TEXT NOT NULL,     -- pending | completed | cancelled | expired
    file_expires_after INTEGER,           -- seconds, for the file it becomes
    file_id            TEXT               -- the gateway file it became
  );
  CREATE INDEX uploads_expires ON uploads (expires_at);
  CREATE TABLE upload_parts (
    id          TEXT PRIMARY KEY,         -- part_…, also the blob's name
    upload_id   TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL          -- unix s
  );
  CREATE INDEX upload_parts_upload ON upload_parts (upload_id, id);
  `,
  // 6 (issue 17): an emulated batch's counts (every retrieve) scan this narrow index, not the rows
  // with their result bodies: the table scan took a quarter of the runner's CPU while clients polled.
  `
  CREATE INDEX emulated_results_outcome ON emulated_results (run_id, outcome);
  `,
  // 7 (issue 16): the kind each instance name was started with, so a name whose kind changes while
  // it owns objects is refused at start (core/owned-instances.ts).
  `
  CREATE TABLE provider_kinds (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    recorded_at INTEGER NOT NULL        -- unix ms
  );
  `,
  // 8 (issue 17): counts kept on the run row by a trigger, in the same statement as the result
  // rows they count (so a count never runs ahead of a recorded row): a retrieve reads one row
  // instead of counting up to 100 000 index entries, and inserts no longer feed step 6's index.
  {
    sqlite: `
  ALTER TABLE emulated_runs ADD COLUMN n_succeeded INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE emulated_runs ADD COLUMN n_errored INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE emulated_runs ADD COLUMN n_expired INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE emulated_runs ADD COLUMN n_canceled INTEGER NOT NULL DEFAULT 0;
  ${COUNT_BACKFILL}
  DROP INDEX emulated_results_outcome;
  CREATE TRIGGER emulated_results_count AFTER INSERT ON emulated_results BEGIN
    UPDATE emulated_runs SET
      n_succeeded = n_succeeded + (NEW.outcome = 'succeeded'),
      n_errored = n_errored + (NEW.outcome = 'errored'),
      n_expired = n_expired + (NEW.outcome = 'expired'),
      n_canceled = n_canceled + (NEW.outcome = 'canceled')
    WHERE id = NEW.run_id;
  END;
  `,
    // One statement-level trigger per INSERT: its transition table holds only the rows really
    // inserted (ON CONFLICT DO NOTHING skips are not in it).
    postgres: `
  ALTER TABLE emulated_runs
    ADD COLUMN n_succeeded BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN n_errored BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN n_expired BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN n_canceled BIGINT NOT NULL DEFAULT 0;
  ${COUNT_BACKFILL}
  DROP INDEX emulated_results_outcome;
  CREATE FUNCTION emulated_results_count() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE emulated_runs r SET
      n_succeeded = r.n_succeeded + c.succeeded,
      n_errored = r.n_errored + c.errored,
      n_expired = r.n_expired + c.expired,
      n_canceled = r.n_canceled + c.canceled
    FROM (
      SELECT run_id,
        COUNT(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
        COUNT(*) FILTER (WHERE outcome = 'errored') AS errored,
        COUNT(*) FILTER (WHERE outcome = 'expired') AS expired,
        COUNT(*) FILTER (WHERE outcome = 'canceled') AS canceled
      FROM inserted GROUP BY run_id
    ) c
    WHERE r.id = c.run_id;
    RETURN NULL;
  END $$;
  CREATE TRIGGER emulated_results_count AFTER INSERT ON emulated_results
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION emulated_results_count();
  `,
  },
  // 9 (issue 17): on SQLite the counters move in recordMany's transaction, one UPDATE per group of
  // rows, instead of a trigger firing per row (a third of the cost of writing a result row).
  // PostgreSQL keeps its statement trigger: there one statement writes the whole group anyway.
  {
    sqlite: `
  DROP TRIGGER emulated_results_count;
  `,
    postgres: `
  SELECT 1;
  `,
  },
  // 10 (issue 17): where a run's answers are recorded. New SQLite runs append them to a log file
  // per run (store/emulated-log.ts); runs begun before keep their rows, as PostgreSQL's all do.
  `
  ALTER TABLE emulated_runs ADD COLUMN results TEXT NOT NULL DEFAULT 'rows';
  `,
]

/**
 * The PostgreSQL text of a step: 64-bit integers (bytes and unix-ms times outgrow int4), 8-byte
 * floats (SQLite's REAL is a double; PostgreSQL's is 4 bytes), and
 * ids compared byte by byte ("C"), as SQLite does — a locale collation would ignore `_` and `-`
 * and page gateway ids in another order.
 */
export function forPostgres(step: MigrationStep): string {
  if (typeof step !== 'string') return step.postgres
  return step
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
    .replace(/^(\s+)(\w+)(\s+)TEXT\b/gm, '$1$2$3TEXT COLLATE "C"')
}

export const forSqlite = (step: MigrationStep): string => (typeof step === 'string' ? step : step.sqlite)
