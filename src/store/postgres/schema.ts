/**
 * Versioned migrations of the PostgreSQL store. Each runs once per schema,
 * recorded in `<schema>.twelve_migrations`; `$S` is replaced by the quoted
 * schema name. Append only: never edit a released migration.
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "threads, events, idempotency keys",
    sql: `
    CREATE TABLE $S.twelve_threads (
      id text PRIMARY KEY,
      agent text NOT NULL,
      status text NOT NULL,
      pending_kind text,
      pending jsonb,
      version integer NOT NULL,
      schema_version integer NOT NULL,
      channel text,
      parent_thread_id text,
      parent_event_id text,
      created_ms bigint NOT NULL,
      updated_ms bigint NOT NULL,
      archived_ms bigint
    );
    CREATE TABLE $S.twelve_events (
      thread_id text NOT NULL REFERENCES $S.twelve_threads (id),
      seq integer NOT NULL,
      id text NOT NULL,
      type text NOT NULL,
      body jsonb NOT NULL,
      PRIMARY KEY (thread_id, seq),
      UNIQUE (thread_id, id)
    );
    CREATE TABLE $S.twelve_idempotency (
      thread_id text NOT NULL REFERENCES $S.twelve_threads (id),
      key text NOT NULL,
      from_version integer NOT NULL,
      count integer NOT NULL,
      created_ms bigint NOT NULL,
      PRIMARY KEY (thread_id, key)
    );
    CREATE INDEX twelve_threads_status ON $S.twelve_threads (status, updated_ms DESC, id DESC) WHERE archived_ms IS NULL;
    CREATE INDEX twelve_threads_pending ON $S.twelve_threads (pending_kind, updated_ms DESC, id DESC)
      WHERE archived_ms IS NULL AND pending_kind IS NOT NULL;
    CREATE INDEX twelve_threads_agent ON $S.twelve_threads (agent, updated_ms DESC, id DESC);
    CREATE INDEX twelve_threads_channel ON $S.twelve_threads (channel, updated_ms DESC, id DESC) WHERE channel IS NOT NULL;
    CREATE INDEX twelve_threads_updated ON $S.twelve_threads (updated_ms DESC, id DESC);
    `,
  },
  {
    version: 2,
    name: "leases",
    sql: `
    ALTER TABLE $S.twelve_threads ADD COLUMN lease_owner text;
    ALTER TABLE $S.twelve_threads ADD COLUMN lease_token text;
    ALTER TABLE $S.twelve_threads ADD COLUMN lease_expires_ms bigint;
    `,
  },
  {
    version: 3,
    name: "compact event rows",
    // New rows keep id and type only in their columns and the time as integer milliseconds when it
    // round-trips (see encodeEvent); older rows (at_ms NULL, whole event in body) load as before.
    sql: `
    ALTER TABLE $S.twelve_events ADD COLUMN at_ms bigint;
    `,
  },
  {
    version: 4,
    name: "pending request kinds renamed",
    // human_input → question, external_result → async, uncertain_execution → uncertain, in the indexed
    // column and in the stored request; archived rows too, since they still load. `->>` on a non-object is NULL.
    sql: `
    UPDATE $S.twelve_threads SET pending_kind = CASE pending_kind
        WHEN 'human_input' THEN 'question' WHEN 'external_result' THEN 'async' WHEN 'uncertain_execution' THEN 'uncertain' END
      WHERE pending_kind IN ('human_input', 'external_result', 'uncertain_execution');
    UPDATE $S.twelve_threads SET pending = jsonb_set(pending, '{kind}', to_jsonb(CASE pending->>'kind'
        WHEN 'human_input' THEN 'question' WHEN 'external_result' THEN 'async' WHEN 'uncertain_execution' THEN 'uncertain' END))
      WHERE pending->>'kind' IN ('human_input', 'external_result', 'uncertain_execution');
    `,
  },
  {
    version: 5,
    name: "launch idempotency keys, inbound records",
    // createOnce's keys (one thread per scope and key) and inbound payloads kept before they are
    // acknowledged. The payload is json, not jsonb: kept exactly as received (jsonb refuses \u0000).
    sql: `
    CREATE TABLE IF NOT EXISTS $S.twelve_launches (
      scope text NOT NULL,
      key text NOT NULL,
      thread_id text NOT NULL,
      body_hash text NOT NULL,
      created_ms bigint NOT NULL,
      PRIMARY KEY (scope, key)
    );
    CREATE INDEX IF NOT EXISTS twelve_launches_created ON $S.twelve_launches (created_ms);
    CREATE TABLE IF NOT EXISTS $S.twelve_inbound (
      source text NOT NULL,
      id text NOT NULL,
      payload json NOT NULL,
      received_ms bigint NOT NULL,
      processed_ms bigint,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      PRIMARY KEY (source, id)
    );
    CREATE INDEX IF NOT EXISTS twelve_inbound_pending ON $S.twelve_inbound (received_ms, source, id)
      WHERE processed_ms IS NULL;
    `,
  },
];
