/**
 * Versioned schema of the SQLite store, tracked in `PRAGMA user_version`.
 * Migrations only ever append: a database written by any older twelve
 * upgrades in place when a newer one opens it.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: threads, their events, idempotency keys.
  `
  CREATE TABLE twelve_threads (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    pending_kind TEXT,
    pending TEXT,
    version INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    channel TEXT,
    parent_thread_id TEXT,
    parent_event_id TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    archived_ms INTEGER
  );
  CREATE TABLE twelve_events (
    thread_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (thread_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX twelve_events_id ON twelve_events (thread_id, id);
  CREATE TABLE twelve_idempotency (
    thread_id TEXT NOT NULL,
    key TEXT NOT NULL,
    from_version INTEGER NOT NULL,
    count INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (thread_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX twelve_threads_status ON twelve_threads (status, updated_ms DESC, id DESC) WHERE archived_ms IS NULL;
  CREATE INDEX twelve_threads_pending ON twelve_threads (pending_kind, updated_ms DESC, id DESC)
    WHERE archived_ms IS NULL AND pending_kind IS NOT NULL;
  CREATE INDEX twelve_threads_agent ON twelve_threads (agent, updated_ms DESC, id DESC);
  CREATE INDEX twelve_threads_channel ON twelve_threads (channel, updated_ms DESC, id DESC) WHERE channel IS NOT NULL;
  CREATE INDEX twelve_threads_updated ON twelve_threads (updated_ms DESC, id DESC);
  `,
  // 2: leases (one runner per thread).
  `
  ALTER TABLE twelve_threads ADD COLUMN lease_owner TEXT;
  ALTER TABLE twelve_threads ADD COLUMN lease_token TEXT;
  ALTER TABLE twelve_threads ADD COLUMN lease_expires_ms INTEGER;
  `,
  // 3: compact event rows. New rows keep id and type only in their columns and the time as integer
  // milliseconds when it round-trips (see encodeEvent); older rows (at_ms NULL, whole event in body) load as before.
  `
  ALTER TABLE twelve_events ADD COLUMN at_ms INTEGER;
  `,
  // 4: pending request kinds renamed (human_input → question, external_result → async,
  // uncertain_execution → uncertain), in the indexed column and in the stored request. Archived rows
  // too: they still load. A `pending` that is not valid JSON is left alone (reading it reports the damage).
  `
  UPDATE twelve_threads SET pending_kind = CASE pending_kind
      WHEN 'human_input' THEN 'question' WHEN 'external_result' THEN 'async' WHEN 'uncertain_execution' THEN 'uncertain' END
    WHERE pending_kind IN ('human_input', 'external_result', 'uncertain_execution');
  UPDATE twelve_threads SET pending = json_set(pending, '$.kind', CASE json_extract(pending, '$.kind')
      WHEN 'human_input' THEN 'question' WHEN 'external_result' THEN 'async' WHEN 'uncertain_execution' THEN 'uncertain' END)
    WHERE json_extract(CASE WHEN json_valid(pending) THEN pending END, '$.kind')
      IN ('human_input', 'external_result', 'uncertain_execution');
  `,
  // 5: launch idempotency keys (createOnce: one thread per scope and key) and inbound records (kept before
  // they are acknowledged, marked when processed). IF NOT EXISTS: a file whose user_version was set back
  // by hand re-runs this harmlessly.
  `
  CREATE TABLE IF NOT EXISTS twelve_launches (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS twelve_launches_created ON twelve_launches (created_ms);
  CREATE TABLE IF NOT EXISTS twelve_inbound (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    processed_ms INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (source, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS twelve_inbound_pending ON twelve_inbound (received_ms, source, id) WHERE processed_ms IS NULL;
  `,
  // 6: the webhook outbox (rows written in the transaction of the append that causes them, claimed with a
  // lease by a dispatcher) and the endpoints a 410 disabled. Status `cancelled` needs no column change.
  `
  CREATE TABLE IF NOT EXISTS twelve_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    next_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claim_token TEXT,
    claim_until_ms INTEGER,
    delivered_ms INTEGER,
    failed_ms INTEGER,
    last_error TEXT,
    last_status INTEGER,
    UNIQUE (endpoint, message_id)
  );
  CREATE INDEX IF NOT EXISTS twelve_outbox_due ON twelve_outbox (next_ms, seq) WHERE delivered_ms IS NULL AND failed_ms IS NULL;
  CREATE INDEX IF NOT EXISTS twelve_outbox_thread ON twelve_outbox (thread_id, seq);
  CREATE TABLE IF NOT EXISTS twelve_outbox_endpoints (
    endpoint TEXT PRIMARY KEY,
    disabled_ms INTEGER NOT NULL,
    reason TEXT
  ) WITHOUT ROWID;
  `,
];
