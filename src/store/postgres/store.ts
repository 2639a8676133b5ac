import type pg from "pg";
import { TwelveError } from "../../errors/index.js";
import type { Event } from "../../thread/event.js";
import { fork as forkThread, type Thread } from "../../thread/thread.js";
import { decodeCursor, encodeCursor, pageSize, statusList } from "../cursor.js";
import {
  annotationsOnly,
  deriveColumns,
  randomToken,
  referencedStepId,
  stateTail,
  toMillis,
  validateEvents,
  validateExpectedVersion,
} from "../derive.js";
import {
  IdempotencyConflictError,
  InboundNotFoundError,
  LeaseHeldError,
  LeaseLostError,
  StoreCorruptError,
  StoreInputError,
  ThreadArchivedError,
  ThreadExistsError,
  ThreadNotFoundError,
  VersionConflictError,
} from "../errors.js";
import {
  type ClaimOutboxOptions,
  checkClaim,
  checkEndpointName,
  checkOutcome,
  type DisabledEndpoint,
  OUTBOX_COLUMNS,
  type OutboxClaim,
  type OutboxDbRow,
  type OutboxFilter,
  type OutboxOutcome,
  type OutboxRow,
  outboxLimit,
  outcomeColumns,
  rowToOutbox,
} from "../outbox.js";
import {
  checkCreateOnce,
  checkDate,
  checkInbound,
  checkKey,
  errorText,
  type InboundRow,
  inboundFilter,
  rowToInbound,
} from "../records.js";
import { assembleThread, decodeEvent, type EventRow, encodeEvent, rowToSummary, type ThreadRow } from "../rows.js";
import {
  type AppendOptions,
  type AppendResult,
  type CreateOnceOptions,
  type CreateOnceResult,
  type CreateOptions,
  DEFAULT_LEASE_TTL_MS,
  type InboundInput,
  type InboundRecord,
  type InboundRecordResult,
  type Lease,
  type LeaseOptions,
  type ListFilter,
  type ListPage,
  type PendingInboundFilter,
  type SideRowsHook,
  type ThreadStore,
  type ThreadSummary,
} from "../types.js";
import { PG_MIGRATIONS } from "./schema.js";

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; or pass your own `pool`. */
  url?: string;
  pool?: pg.Pool;
  /** Schema holding twelve's tables; default `twelve`. Created when missing. */
  schema?: string;
  /** Pool size when twelve creates the pool; default 10. */
  max?: number;
}

const THREAD_COLUMNS =
  "id, agent, status, pending_kind, pending, version, schema_version, channel, parent_thread_id, parent_event_id, created_ms, updated_ms, archived_ms";

/** The database's clock, so leases and ordering agree across worker machines. */
const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * `SET LOCAL synchronous_commit TO off` inside the append's own (single
 * statement) transaction: the commit returns without waiting for its WAL
 * flush. Evaluated on the UPDATE's row, before the commit reads the setting;
 * `is_local` reverts it when the transaction ends, so it never leaks to the
 * pooled connection. A later synchronous commit flushes the WAL up to itself,
 * which includes this one.
 */
const ASYNC_COMMIT = ", set_config('synchronous_commit', 'off', true) AS async_commit";

/** Connects, runs pending migrations, and returns the store. pg is loaded only here. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresThreadStore> {
  const schema = options.schema ?? "twelve";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreInputError("store_config", `PostgreSQL schema name "${schema}" must be letters, digits and _`);
  }
  let pool = options.pool;
  const ownsPool = !pool;
  if (!pool) {
    if (!options.url) throw new StoreInputError("store_config", "the PostgreSQL store needs a connection url");
    let pgModule: typeof pg;
    try {
      pgModule = (await import("pg")).default;
    } catch (error) {
      throw new StoreInputError(
        "missing_dependency",
        `the PostgreSQL store needs the pg package: npm install pg (${(error as Error).message})`,
      );
    }
    pool = new pgModule.Pool({ connectionString: options.url, max: options.max ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on("error", () => {});
  }
  const store = new PostgresThreadStore(pool, schema, ownsPool);
  try {
    await store.migrate();
  } catch (error) {
    if (ownsPool) await pool.end();
    if (error instanceof TwelveError) throw error;
    throw new TwelveError(
      "store_unavailable",
      `cannot open the PostgreSQL store (${redact(options.url)}): ${(error as Error).message}`,
      { schema },
      { cause: error },
    );
  }
  return store;
}

function redact(url: string | undefined): string {
  if (!url) return "given pool";
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

function isUniqueViolation(error: unknown, constraintPart: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === "23505" && (e.constraint ?? "").includes(constraintPart);
}

export class PostgresThreadStore implements ThreadStore {
  readonly kind = "postgres";
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly #ownsPool: boolean;
  readonly #t: {
    threads: string;
    events: string;
    keys: string;
    migrations: string;
    launches: string;
    inbound: string;
    outbox: string;
    disabled: string;
  };

  constructor(pool: pg.Pool, schema: string, ownsPool: boolean) {
    this.pool = pool;
    this.schema = schema;
    this.#ownsPool = ownsPool;
    const s = `"${schema}"`;
    this.#t = {
      threads: `${s}.twelve_threads`,
      events: `${s}.twelve_events`,
      keys: `${s}.twelve_idempotency`,
      migrations: `${s}.twelve_migrations`,
      launches: `${s}.twelve_launches`,
      inbound: `${s}.twelve_inbound`,
      outbox: `${s}.twelve_outbox`,
      disabled: `${s}.twelve_outbox_endpoints`,
    };
  }

  /** Applies pending migrations under an advisory lock, so concurrent workers starting up do not race. */
  async migrate(): Promise<number> {
    return this.#tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`twelve:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${this.#t.migrations} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.#t.migrations}`);
      const current = rows[0]?.v ?? 0;
      const latest = PG_MIGRATIONS.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new StoreInputError(
          "store_incompatible",
          `PostgreSQL schema "${this.schema}" was migrated by a newer twelve (version ${current}; this one knows ${latest}): upgrade twelve`,
        );
      }
      for (const m of PG_MIGRATIONS) {
        if (m.version <= current) continue;
        await c.query(m.sql.replaceAll("$S", `"${this.schema}"`));
        await c.query(`INSERT INTO ${this.#t.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
      return latest;
    });
  }

  async #tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      // A statement that failed inside the transaction (and whose error was caught) aborts it:
      // COMMIT then rolls back without an error. Report it instead of returning as if it committed.
      const done = await client.query("COMMIT");
      if (done.command === "ROLLBACK") {
        throw new TwelveError(
          "transaction_aborted",
          "a statement failed inside the store's transaction (its error was caught), so PostgreSQL rolled the transaction back",
          { schema: this.schema },
        );
      }
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async #row(c: pg.PoolClient | pg.Pool, threadId: string, lock = false): Promise<ThreadRow | undefined> {
    const { rows } = await c.query<ThreadRow>(
      `SELECT ${THREAD_COLUMNS} FROM ${this.#t.threads} WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
      [threadId],
    );
    return rows[0];
  }

  /**
   * The statement inserting a thread row and its events ($1–$14). With
   * `launch`, it first takes the launch key ($15–$17) and inserts the thread
   * only if the key was new; it returns `created` (1 or 0) either way.
   */
  #createSql(launch: boolean): string {
    const source = launch ? "FROM l" : "";
    return `WITH ${
      launch
        ? `l AS (
           INSERT INTO ${this.#t.launches} (scope, key, thread_id, body_hash, created_ms)
           VALUES ($15, $16, $1, $17, ${NOW_MS}) ON CONFLICT (scope, key) DO NOTHING RETURNING thread_id
         ), `
        : ""
    }t AS (
           INSERT INTO ${this.#t.threads} (${THREAD_COLUMNS})
           SELECT $1, $2, $3, $4, $5::jsonb, $6::integer, $7::integer, $8, $9, $10, ${NOW_MS}, ${NOW_MS}, NULL::bigint ${source}
           RETURNING id
         ), e AS (
           INSERT INTO ${this.#t.events} (thread_id, seq, id, type, at_ms, body)
           SELECT t.id, x.o, x.i, x.t, x.m, x.b::jsonb
           FROM t, unnest($11::text[], $12::text[], $13::bigint[], $14::text[]) WITH ORDINALITY AS x(i, t, m, b, o)
         )
         SELECT (SELECT count(*) FROM t)::integer AS created`;
  }

  #createParams(stored: Thread): unknown[] {
    const derived = deriveColumns(stored);
    const encoded = stored.events.map(encodeEvent);
    return [
      stored.id,
      stored.agent,
      derived.status,
      derived.pendingKind,
      derived.pending ? JSON.stringify(derived.pending) : null,
      stored.version,
      stored.schemaVersion,
      derived.channel,
      stored.parent?.threadId ?? null,
      stored.parent?.eventId ?? null,
      stored.events.map((e) => e.id),
      stored.events.map((e) => e.type),
      encoded.map((x) => x.atMs),
      encoded.map((x) => x.body),
    ];
  }

  /** One statement: the thread row and its events are written together or not at all. */
  async create(thread: Thread, options: CreateOptions = {}): Promise<Thread> {
    const id = options.id ?? thread.id;
    validateEvents(thread.events);
    const stored: Thread = { ...thread, id, version: thread.events.length };
    try {
      await this.pool.query(this.#createSql(false), this.#createParams(stored));
    } catch (error) {
      if (isUniqueViolation(error, "twelve_threads_pkey")) throw new ThreadExistsError(id);
      throw error;
    }
    return structuredClone(stored);
  }

  /**
   * One statement takes the key (`ON CONFLICT DO NOTHING`) and inserts the
   * thread only if it did. A concurrent caller with the same key waits on the
   * key's row until the first commits (then it finds the key taken) or rolls
   * back (then it takes the key itself): exactly one creates.
   */
  async createOnce(thread: Thread, options: CreateOnceOptions): Promise<CreateOnceResult> {
    const { scope, key, bodyHash } = checkCreateOnce(options);
    validateEvents(thread.events);
    const stored: Thread = { ...thread, version: thread.events.length };
    const params = [...this.#createParams(stored), scope, key, bodyHash];
    for (let attempt = 0; ; attempt++) {
      let created: number;
      try {
        const { rows } = await this.pool.query<{ created: number }>(this.#createSql(true), params);
        created = Number(rows[0]?.created ?? 0);
      } catch (error) {
        if (isUniqueViolation(error, "twelve_threads_pkey")) throw new ThreadExistsError(stored.id);
        throw error;
      }
      if (created > 0) return { thread: structuredClone(stored), created: true };
      const { rows } = await this.pool.query<{ thread_id: string; body_hash: string }>(
        `SELECT thread_id, body_hash FROM ${this.#t.launches} WHERE scope = $1 AND key = $2`,
        [scope, key],
      );
      const found = rows[0];
      // Pruned between the two statements: take the key again.
      if (!found && attempt < 3) continue;
      if (!found) throw new TwelveError("store_unavailable", `launch key "${key}" keeps disappearing`, { scope, key });
      if (found.body_hash !== bodyHash) throw new IdempotencyConflictError(scope, key, found.thread_id);
      const existing = await this.#load(found.thread_id);
      if (!existing) {
        throw new StoreCorruptError(
          `launch key "${key}" (scope "${scope}") names thread ${found.thread_id}, which is missing`,
          { scope, key, threadId: found.thread_id },
        );
      }
      return { thread: existing, created: false };
    }
  }

  async pruneIdempotency(olderThan: Date): Promise<number> {
    const ms = checkDate(olderThan, "olderThan");
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.#t.launches} WHERE created_ms < $1`, [ms]);
    return rowCount ?? 0;
  }

  async recordInbound(input: InboundInput): Promise<InboundRecordResult> {
    const { source, id, json } = checkInbound(input);
    const { rows } = await this.pool.query<{ received_ms: string }>(
      `INSERT INTO ${this.#t.inbound} (source, id, payload, received_ms, attempts) VALUES ($1, $2, $3::json, ${NOW_MS}, 0)
       ON CONFLICT (source, id) DO NOTHING RETURNING received_ms`,
      [source, id, json],
    );
    const inserted = rows[0];
    if (inserted) {
      return { duplicate: false, processed: false, receivedAt: new Date(Number(inserted.received_ms)).toISOString() };
    }
    // A new statement, so a new snapshot: it sees the row the conflict was with.
    const { rows: existing } = await this.pool.query<{ received_ms: string; processed_ms: string | null }>(
      `SELECT received_ms, processed_ms FROM ${this.#t.inbound} WHERE source = $1 AND id = $2`,
      [source, id],
    );
    const row = existing[0];
    if (!row) throw new InboundNotFoundError(source, id);
    return {
      duplicate: true,
      processed: row.processed_ms !== null,
      receivedAt: new Date(Number(row.received_ms)).toISOString(),
    };
  }

  async markInboundProcessed(source: string, id: string, options: { error?: unknown } = {}): Promise<void> {
    checkKey(source, id);
    const failed = options.error !== undefined;
    const { rowCount } = failed
      ? await this.pool.query(
          `UPDATE ${this.#t.inbound} SET attempts = attempts + 1, last_error = $3
           WHERE source = $1 AND id = $2 AND processed_ms IS NULL`,
          [source, id, errorText(options.error)],
        )
      : await this.pool.query(
          `UPDATE ${this.#t.inbound} SET attempts = attempts + 1, processed_ms = ${NOW_MS}
           WHERE source = $1 AND id = $2 AND processed_ms IS NULL`,
          [source, id],
        );
    if (rowCount === 1) return;
    // Already processed (it stays so), or never recorded.
    const { rows } = await this.pool.query(`SELECT 1 FROM ${this.#t.inbound} WHERE source = $1 AND id = $2`, [
      source,
      id,
    ]);
    if (rows.length === 0) throw new InboundNotFoundError(source, id);
  }

  async pendingInbound(filter: PendingInboundFilter = {}): Promise<InboundRecord[]> {
    const { limit, olderThanMs } = inboundFilter(filter);
    const where = ["processed_ms IS NULL"];
    const params: unknown[] = [];
    if (filter.source !== undefined) {
      params.push(filter.source);
      where.push(`source = $${params.length}`);
    }
    if (olderThanMs > 0) {
      params.push(Math.floor(olderThanMs));
      where.push(`received_ms <= ${NOW_MS} - $${params.length}`);
    }
    params.push(limit);
    const { rows } = await this.pool.query<InboundRow>(
      `SELECT source, id, payload::text AS payload, received_ms, processed_ms, attempts, last_error
       FROM ${this.#t.inbound} WHERE ${where.join(" AND ")}
       ORDER BY received_ms, source, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(rowToInbound);
  }

  /** One statement: SKIP LOCKED lets concurrent dispatchers claim disjoint rows without waiting on each other. */
  async claimOutbox(options: ClaimOutboxOptions): Promise<OutboxRow[]> {
    const { leaseMs, limit, endpoints } = checkClaim(options);
    if (endpoints?.length === 0) return [];
    const { rows } = await this.pool.query<OutboxDbRow>(
      `WITH due AS (
         SELECT seq FROM ${this.#t.outbox} o
         WHERE delivered_ms IS NULL AND failed_ms IS NULL AND next_ms <= ${NOW_MS}
           AND (claim_until_ms IS NULL OR claim_until_ms <= ${NOW_MS})
           AND ($1::text[] IS NULL OR endpoint = ANY($1::text[]))
           AND NOT EXISTS (SELECT 1 FROM ${this.#t.disabled} d WHERE d.endpoint = o.endpoint)
         ORDER BY next_ms, seq LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.#t.outbox} o SET claim_token = md5(random()::text || o.seq::text || clock_timestamp()::text),
         claim_until_ms = ${NOW_MS} + $3
       FROM due WHERE o.seq = due.seq
       RETURNING ${OUTBOX_COLUMNS.split(", ")
         .map((c) => (c === "payload" ? "o.payload::text AS payload" : `o.${c}`))
         .join(", ")}`,
      [endpoints ?? null, limit, Math.ceil(leaseMs)],
    );
    return rows
      .map(rowToOutbox)
      .sort((a, b) => Date.parse(a.nextAttemptAt) - Date.parse(b.nextAttemptAt) || a.id - b.id);
  }

  async settleOutbox(claim: OutboxClaim, outcome: OutboxOutcome): Promise<boolean> {
    checkOutcome(claim, outcome);
    const o = outcomeColumns(outcome);
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.#t.outbox} SET attempts = attempts + 1, claim_token = NULL, claim_until_ms = NULL,
         last_status = COALESCE($3::integer, last_status), last_error = COALESCE($4::text, last_error),
         delivered_ms = CASE WHEN $5 THEN ${NOW_MS} ELSE delivered_ms END,
         failed_ms = CASE WHEN $6 THEN ${NOW_MS} ELSE failed_ms END,
         next_ms = CASE WHEN $5 OR $6 THEN next_ms ELSE ${NOW_MS} + $7 END
       WHERE seq = $1 AND claim_token = $2 AND delivered_ms IS NULL AND failed_ms IS NULL`,
      [claim.id, claim.claimToken, o.status, o.error, o.delivered, o.failed, o.retryInMs],
    );
    return rowCount === 1;
  }

  async setOutboxEndpoint(endpoint: string, state: { disabled: boolean; reason?: string }): Promise<void> {
    checkEndpointName(endpoint);
    if (state?.disabled) {
      await this.pool.query(
        `INSERT INTO ${this.#t.disabled} (endpoint, disabled_ms, reason) VALUES ($1, ${NOW_MS}, $2)
         ON CONFLICT (endpoint) DO UPDATE SET disabled_ms = excluded.disabled_ms, reason = excluded.reason`,
        [endpoint, state.reason ?? null],
      );
    } else await this.pool.query(`DELETE FROM ${this.#t.disabled} WHERE endpoint = $1`, [endpoint]);
  }

  async disabledOutboxEndpoints(): Promise<DisabledEndpoint[]> {
    const { rows } = await this.pool.query<{ endpoint: string; disabled_ms: string; reason: string | null }>(
      `SELECT endpoint, disabled_ms, reason FROM ${this.#t.disabled} ORDER BY endpoint`,
    );
    return rows.map((r) => ({
      endpoint: r.endpoint,
      disabledAt: new Date(Number(r.disabled_ms)).toISOString(),
      ...(r.reason !== null && { reason: r.reason }),
    }));
  }

  async pruneOutbox(olderThan: Date): Promise<number> {
    const ms = checkDate(olderThan, "olderThan");
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${this.#t.outbox} WHERE (delivered_ms IS NOT NULL AND delivered_ms < $1) OR (failed_ms IS NOT NULL AND failed_ms < $1)`,
      [ms],
    );
    return rowCount ?? 0;
  }

  async listOutbox(filter: OutboxFilter = {}): Promise<OutboxRow[]> {
    const limit = outboxLimit(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of [
      ["endpoint", filter.endpoint],
      ["thread_id", filter.threadId],
      ["message_id", filter.messageId],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    if (filter.state === "pending") where.push("delivered_ms IS NULL AND failed_ms IS NULL");
    else if (filter.state === "delivered") where.push("delivered_ms IS NOT NULL");
    else if (filter.state === "failed") where.push("failed_ms IS NOT NULL");
    params.push(limit);
    const { rows } = await this.pool.query<OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS.replace("payload", "payload::text AS payload")} FROM ${this.#t.outbox}
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map(rowToOutbox);
  }

  /**
   * One statement, so the row and its events come from one snapshot, in one
   * round trip; the events arrive as one JSON array (one parse, not one per row).
   */
  async #load(threadId: string): Promise<Thread | undefined> {
    const { rows } = await this.pool.query<
      ThreadRow & { events: [number, string, string, number | null, unknown][] | null }
    >(
      `SELECT ${THREAD_COLUMNS},
         (SELECT json_agg(json_build_array(e.seq, e.id, e.type, e.at_ms, e.body) ORDER BY e.seq)
          FROM ${this.#t.events} e WHERE e.thread_id = t.id) AS events
       FROM ${this.#t.threads} t WHERE t.id = $1`,
      [threadId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return assembleThread(
      row,
      (row.events ?? []).map(([seq, id, type, at_ms, body]) => ({ seq, id, type, at_ms, body })),
    );
  }

  async load(threadId: string): Promise<Thread> {
    const thread = await this.#load(threadId);
    if (!thread) throw new ThreadNotFoundError(threadId);
    return thread;
  }

  get(threadId: string): Promise<Thread | undefined> {
    return this.#load(threadId);
  }

  async summary(threadId: string): Promise<ThreadSummary> {
    const row = await this.#row(this.pool, threadId);
    if (!row) throw new ThreadNotFoundError(threadId);
    return rowToSummary(row);
  }

  /**
   * One statement, one round trip: the UPDATE's WHERE is the optimistic check
   * (version, not archived, key unused), and the events and the key are
   * inserted only if it matched. Concurrent appenders queue on the row lock
   * and re-check the WHERE against the committed row, so exactly one wins.
   * When nothing matched, a follow-up read says why.
   */
  async append(threadId: string, events: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    validateExpectedVersion(options?.expectedVersion);
    validateEvents(events);
    const key = options.idempotencyKey ?? null;
    const copies = structuredClone([...events]);
    const expected = options.expectedVersion;
    const durable = options.durable !== false;
    const hook = options.sideRows;
    if (copies.length === 0) return this.#appendNothing(threadId, expected, key, false, hook);
    // The step a batch answers was stored earlier and never changes, so it can be read before the write.
    const refId = referencedStepId(copies);
    const ref = refId
      ? (
          await this.pool.query<EventRow>(
            `SELECT seq, id, type, at_ms, body FROM ${this.#t.events} WHERE thread_id = $1 AND id = $2`,
            [threadId, refId],
          )
        ).rows[0]
      : undefined;
    const tail = stateTail(
      { id: threadId, agent: "", schemaVersion: 0 },
      copies,
      ref ? decodeEvent(ref, threadId) : undefined,
    );
    const derived = deriveColumns(tail);
    const encoded = copies.map(encodeEvent);
    const sql = `WITH upd AS (
           UPDATE ${this.#t.threads} SET version = version + $6, channel = COALESCE(channel, $7),
             -- An annotation-only batch ($13) changes neither what the thread is doing nor its request's age.
             status = CASE WHEN $13 THEN status ELSE $3 END,
             pending_kind = CASE WHEN $13 THEN pending_kind ELSE $4 END,
             pending = CASE WHEN $13 THEN pending ELSE $5::jsonb END,
             updated_ms = CASE WHEN $13 THEN updated_ms ELSE GREATEST(${NOW_MS}, updated_ms + 1) END
           WHERE id = $1 AND version = $2 AND archived_ms IS NULL
             AND ($8::text IS NULL OR NOT EXISTS (SELECT 1 FROM ${this.#t.keys} WHERE thread_id = $1 AND key = $8))
           RETURNING ${THREAD_COLUMNS}
         ), ins AS (
           INSERT INTO ${this.#t.events} (thread_id, seq, id, type, at_ms, body)
           SELECT $1, $2::integer + x.o, x.i, x.t, x.m, x.b::jsonb
           FROM upd, unnest($9::text[], $10::text[], $11::bigint[], $12::text[]) WITH ORDINALITY AS x(i, t, m, b, o)
         ), k AS (
           INSERT INTO ${this.#t.keys} (thread_id, key, from_version, count, created_ms)
           SELECT $1, $8, $2, $6, ${NOW_MS} FROM upd WHERE $8::text IS NOT NULL
         )
         SELECT *${durable ? "" : ASYNC_COMMIT} FROM upd`;
    const params = [
      threadId,
      expected,
      derived.status,
      derived.pendingKind,
      derived.pending ? JSON.stringify(derived.pending) : null,
      copies.length,
      derived.channel,
      key,
      copies.map((e) => e.id),
      copies.map((e) => e.type),
      encoded.map((x) => x.atMs),
      encoded.map((x) => x.body),
      annotationsOnly(copies),
    ];
    let rows: ThreadRow[];
    // The hook's own error, told apart from the store's below.
    let hookFailed: { error: unknown } | undefined;
    try {
      if (!hook) ({ rows } = await this.pool.query<ThreadRow>(sql, params));
      else {
        // Side rows: the same statement in an explicit transaction on one client, then the hook, then COMMIT.
        rows = await this.#tx(async (c) => {
          const written = (await c.query<ThreadRow>(sql, params)).rows;
          const after = written[0];
          if (after) {
            try {
              await hook({ kind: "postgres", client: c, schema: this.schema }, rowToSummary(after));
            } catch (error) {
              hookFailed = { error };
              throw error;
            }
          }
          return written;
        });
      }
    } catch (error) {
      if (hookFailed) throw hookFailed.error;
      if (isUniqueViolation(error, "twelve_events_thread_id_id")) {
        throw new StoreInputError("invalid_event", `thread ${threadId} already has an event with one of these ids`, {
          threadId,
          ids: copies.map((e) => e.id),
        });
      }
      // Two appends with one new key raced: the other one's commit decides below.
      if (!isUniqueViolation(error, "twelve_idempotency_pkey")) throw error;
      rows = [];
    }
    const after = rows[0];
    if (after)
      return { version: Number(after.version), appended: copies, duplicate: false, summary: rowToSummary(after) };
    return this.#appendNothing(threadId, expected, key, true);
  }

  /** Why an append added nothing: a known key (duplicate), or not found / archived / stale version. */
  async #appendNothing(
    threadId: string,
    expected: number,
    key: string | null,
    failed = false,
    hook?: SideRowsHook,
  ): Promise<AppendResult> {
    return this.#tx(async (c): Promise<AppendResult> => {
      const row = await this.#row(c, threadId, true);
      if (!row) throw new ThreadNotFoundError(threadId);
      const version = Number(row.version);
      if (key !== null) {
        const { rows } = await c.query<{ from_version: number; count: number }>(
          `SELECT from_version, count FROM ${this.#t.keys} WHERE thread_id = $1 AND key = $2`,
          [threadId, key],
        );
        const first = rows[0];
        if (first) {
          const { rows: bodies } = await c.query<EventRow>(
            `SELECT seq, id, type, at_ms, body FROM ${this.#t.events} WHERE thread_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
            [threadId, first.from_version, first.from_version + first.count],
          );
          return {
            version,
            appended: bodies.map((b) => decodeEvent(b, threadId)),
            duplicate: true,
            summary: rowToSummary(row),
          };
        }
      }
      if (row.archived_ms !== null) throw new ThreadArchivedError(threadId);
      if (version !== expected || failed) throw new VersionConflictError(threadId, expected, version);
      if (key !== null) {
        await c.query(
          `INSERT INTO ${this.#t.keys} (thread_id, key, from_version, count, created_ms) VALUES ($1, $2, $3, 0, ${NOW_MS})`,
          [threadId, key, version],
        );
      }
      if (hook) await hook({ kind: "postgres", client: c, schema: this.schema }, rowToSummary(row));
      return { version, appended: [], duplicate: false, summary: rowToSummary(row) };
    });
  }

  async list(filter: ListFilter = {}): Promise<ListPage> {
    const limit = pageSize(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (!filter.includeArchived) where.push("archived_ms IS NULL");
    const statuses = statusList(filter);
    if (statuses) where.push(`status = ANY(${p(statuses)}::text[])`);
    if (filter.agent !== undefined) where.push(`agent = ${p(filter.agent)}`);
    if (filter.pendingKind !== undefined) where.push(`pending_kind = ${p(filter.pendingKind)}`);
    if (filter.channel !== undefined) where.push(`channel = ${p(filter.channel)}`);
    if (filter.updatedAfter !== undefined) {
      where.push(`updated_ms >= ${p(toMillis(filter.updatedAfter, "updatedAfter"))}`);
    }
    if (filter.updatedBefore !== undefined) {
      where.push(`updated_ms < ${p(toMillis(filter.updatedBefore, "updatedBefore"))}`);
    }
    if (filter.cursor !== undefined) {
      const cursor = decodeCursor(filter.cursor);
      where.push(`(updated_ms, id) < (${p(cursor.updatedMs)}::bigint, ${p(cursor.id)}::text)`);
    }
    const { rows } = await this.pool.query<ThreadRow>(
      `SELECT ${THREAD_COLUMNS} FROM ${this.#t.threads} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY updated_ms DESC, id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const page = rows.slice(0, limit);
    const result: ListPage = { threads: page.map(rowToSummary) };
    const last = page.at(-1);
    if (rows.length > limit && last)
      result.nextCursor = encodeCursor({ updatedMs: Number(last.updated_ms), id: last.id });
    return result;
  }

  async fork(threadId: string, atEventId: string, options: CreateOptions = {}): Promise<Thread> {
    const source = await this.load(threadId);
    return this.create(forkThread(source, atEventId, options.id ? { id: options.id } : {}));
  }

  async archive(threadId: string): Promise<ThreadSummary> {
    await this.pool.query(
      `UPDATE ${this.#t.threads} SET archived_ms = ${NOW_MS} WHERE id = $1 AND archived_ms IS NULL`,
      [threadId],
    );
    return this.summary(threadId);
  }

  async acquireLease(threadId: string, options: LeaseOptions = {}): Promise<Lease> {
    const owner = options.owner ?? `runner_${randomToken().slice(0, 8)}`;
    const token = randomToken();
    const ttl = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const { rows } = await this.pool.query<{ lease_expires_ms: string }>(
      `UPDATE ${this.#t.threads} SET lease_owner = $2, lease_token = $3, lease_expires_ms = ${NOW_MS} + $4
       WHERE id = $1 AND (lease_token IS NULL OR lease_expires_ms <= ${NOW_MS} OR lease_owner = $2)
       RETURNING lease_expires_ms`,
      [threadId, owner, token, ttl],
    );
    const got = rows[0];
    if (got) return { threadId, owner, token, expiresAt: new Date(Number(got.lease_expires_ms)).toISOString() };
    const held = await this.pool.query<{ lease_owner: string; lease_expires_ms: string }>(
      `SELECT lease_owner, lease_expires_ms FROM ${this.#t.threads} WHERE id = $1`,
      [threadId],
    );
    const h = held.rows[0];
    if (!h) throw new ThreadNotFoundError(threadId);
    throw new LeaseHeldError(threadId, h.lease_owner, new Date(Number(h.lease_expires_ms)).toISOString());
  }

  async renewLease(lease: Lease, ttlMs = DEFAULT_LEASE_TTL_MS): Promise<Lease> {
    const { rows } = await this.pool.query<{ lease_expires_ms: string }>(
      `UPDATE ${this.#t.threads} SET lease_expires_ms = ${NOW_MS} + $3 WHERE id = $1 AND lease_token = $2 RETURNING lease_expires_ms`,
      [lease.threadId, lease.token, ttlMs],
    );
    const got = rows[0];
    if (!got) throw new LeaseLostError(lease.threadId, lease.owner);
    return { ...lease, expiresAt: new Date(Number(got.lease_expires_ms)).toISOString() };
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.#t.threads} SET lease_owner = NULL, lease_token = NULL, lease_expires_ms = NULL WHERE id = $1 AND lease_token = $2`,
      [lease.threadId, lease.token],
    );
  }

  /** Drops the schema with all threads: for tests and benchmarks with a throwaway schema. */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.pool.end();
  }
}
