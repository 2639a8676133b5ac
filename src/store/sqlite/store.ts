import { existsSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
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
import {
  assembleThread,
  decodeEvent,
  type EncodedEvent,
  type EventRow,
  encodeEvent,
  rowToSummary,
  type ThreadRow,
} from "../rows.js";
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
import { loadSqliteDriver } from "./driver.js";
import { SQLITE_MIGRATIONS } from "./schema.js";

type Database = BetterSqlite3.Database;

export interface SqliteStoreOptions {
  /** Database file; default `.twelve/twelve.db` under `cwd`. `:memory:` works for throwaway use. */
  path?: string;
  cwd?: string;
  /**
   * When commits are flushed to stable storage (fsync of the WAL). Every mode
   * writes each commit to the WAL before it returns, so every mode survives a
   * process crash.
   * - `barrier` (default): appends flagged `durable` (the default; the loop
   *   flags a batch before a side effect or before control returns to the
   *   caller) are fsynced, which also makes every earlier commit durable;
   *   other appends (a handler's result the loop continues past) are not.
   *   Power loss can lose only non-durable appends since the last durable one.
   * - `full`: fsync on every commit.
   * - `normal`: never fsync on commit (only at checkpoints); power loss can
   *   lose any recent commit.
   */
  synchronous?: SqliteSynchronous;
  /** How long a writer waits for another process's write lock; default 5000 ms. */
  busyTimeoutMs?: number;
}

export type SqliteSynchronous = "barrier" | "full" | "normal";

export const DEFAULT_SQLITE_PATH = ".twelve/twelve.db";

const THREAD_COLUMNS =
  "id, agent, status, pending_kind, pending, version, schema_version, channel, parent_thread_id, parent_event_id, created_ms, updated_ms, archived_ms";

/** Opens (creating and migrating when needed) a SQLite thread store. better-sqlite3 is loaded only here. */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteThreadStore> {
  const synchronous = options.synchronous ?? "barrier";
  if (synchronous !== "barrier" && synchronous !== "full" && synchronous !== "normal") {
    throw new StoreInputError(
      "store_config",
      `synchronous must be "barrier", "full" or "normal", got ${JSON.stringify(synchronous)}`,
    );
  }
  const path =
    options.path === ":memory:"
      ? ":memory:"
      : resolve(options.cwd ?? process.cwd(), options.path ?? DEFAULT_SQLITE_PATH);
  let Database: typeof BetterSqlite3;
  try {
    Database = await loadSqliteDriver();
  } catch (error) {
    throw new StoreInputError(
      "missing_dependency",
      `the SQLite store needs the better-sqlite3 package: npm install better-sqlite3 (${(error as Error).message})`,
    );
  }
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path)) createFile(Database, path);
    else if (statSync(path).size === 0 && !existsSync(`${path}-wal`)) {
      // twelve never leaves an empty file behind (see createFile), so this one lost its content.
      throw new StoreCorruptError(
        `the SQLite store ${path} is empty (0 bytes): it was truncated or is not a twelve database; restore it from a backup or delete it to start a new store`,
        { path },
      );
    }
  }
  const db = guard(path, () => new Database(path, { timeout: options.busyTimeoutMs ?? 5000 }));
  try {
    guard(path, () => {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${synchronous === "normal" ? "NORMAL" : "FULL"}`);
      migrate(db, path);
    });
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteThreadStore(db, path, synchronous);
}

/**
 * Creates and migrates a new database beside the target, then hard-links it
 * into place: the store file appears whole or not at all (so an empty file
 * always means damage), and of two processes creating it at once, one wins.
 */
function createFile(Database: typeof BetterSqlite3, path: string): void {
  const tmp = `${path}.init-${process.pid}-${randomToken().slice(0, 8)}`;
  const db = new Database(tmp);
  try {
    db.pragma("journal_mode = WAL");
    migrate(db, tmp);
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  try {
    linkSync(tmp, path);
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  }
}

function migrate(db: Database, path: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current === 0) {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as {
      name: string;
    }[];
    if (tables.length > 0) {
      throw new StoreInputError(
        "store_incompatible",
        `${path} is a SQLite database of something else (tables: ${tables.map((t) => t.name).join(", ")}), not a twelve store`,
      );
    }
  }
  if (current > SQLITE_MIGRATIONS.length) {
    throw new StoreInputError(
      "store_incompatible",
      `${path} was written by a newer twelve (store schema ${current}; this version knows ${SQLITE_MIGRATIONS.length}): upgrade twelve`,
    );
  }
  if (current === SQLITE_MIGRATIONS.length) return;
  // IMMEDIATE: two processes opening a fresh file at once must not both migrate.
  db.transaction(() => {
    const now = db.pragma("user_version", { simple: true }) as number;
    for (let v = now; v < SQLITE_MIGRATIONS.length; v++) db.exec(SQLITE_MIGRATIONS[v] as string);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
  }).immediate();
}

/**
 * Runs an append's `sideRows` hook inside the (synchronous) transaction. A
 * promise cannot be awaited there: the append fails and rolls back instead.
 */
function runSideRowsSync(hook: SideRowsHook, db: Database, summary: ThreadSummary): void {
  const out = hook({ kind: "sqlite", db }, summary);
  if (out !== undefined && typeof (out as { then?: unknown })?.then === "function") {
    // Its outcome no longer matters; do not let a rejection go unhandled.
    (out as Promise<void>).then(undefined, () => {});
    throw new TwelveError(
      "side_rows_async",
      "the sideRows hook returned a promise, but SQLite transactions are synchronous: write the side rows synchronously with tx.db (better-sqlite3); the append was rolled back",
      { store: "sqlite" },
    );
  }
}

const CORRUPT_CODES = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE"]);

/** Turns SQLite's damage reports into StoreCorruptError naming the file. */
function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && (CORRUPT_CODES.has(code) || code.startsWith("SQLITE_CORRUPT"))) {
      throw new StoreCorruptError(
        `the SQLite store ${path} is damaged or not a twelve database (${code}: ${(error as Error).message})`,
        { path, sqliteCode: code },
        error,
      );
    }
    throw error;
  }
}

export class SqliteThreadStore implements ThreadStore {
  readonly kind = "sqlite";
  readonly db: Database;
  readonly path: string;
  readonly synchronous: SqliteSynchronous;
  #lastMs = 0;
  readonly #stmts: Map<string, BetterSqlite3.Statement>;
  /** The connection's `PRAGMA synchronous` as last set by this store: 2 = FULL, 1 = NORMAL. */
  #level: 1 | 2;

  constructor(db: Database, path: string, synchronous: SqliteSynchronous = "full") {
    this.db = db;
    this.path = path;
    this.synchronous = synchronous;
    this.#level = synchronous === "normal" ? 1 : 2;
    this.#stmts = new Map();
  }

  /**
   * In `barrier` mode, sets the connection to fsync the next commit (FULL) or
   * not (NORMAL), touching the pragma only when it changes. An fsync of the
   * WAL makes every earlier frame in it durable too, so a durable commit is a
   * barrier for the non-durable ones before it.
   */
  #durability(durable: boolean): void {
    if (this.synchronous !== "barrier") return;
    const level = durable ? 2 : 1;
    if (level === this.#level) return;
    this.db.pragma(`synchronous = ${durable ? "FULL" : "NORMAL"}`);
    this.#level = level;
  }

  #stmt(sql: string): BetterSqlite3.Statement {
    let stmt = this.#stmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#stmts.set(sql, stmt);
    }
    return stmt;
  }

  #now(): number {
    this.#lastMs = Math.max(Date.now(), this.#lastMs + 1);
    return this.#lastMs;
  }

  #run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(guard(this.path, fn));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #row(threadId: string): ThreadRow | undefined {
    return this.#stmt(`SELECT ${THREAD_COLUMNS} FROM twelve_threads WHERE id = ?`).get(threadId) as
      | ThreadRow
      | undefined;
  }

  /** Inserts the events after `from` (compact rows, see encodeEvent); returns them as stored. */
  #insertEvents(threadId: string, from: number, events: readonly Event[]): EventRow[] {
    const insert = this.#stmt(
      "INSERT INTO twelve_events (thread_id, seq, id, type, at_ms, body) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const stored: EventRow[] = [];
    for (const [i, e] of events.entries()) {
      const { body, atMs }: EncodedEvent = encodeEvent(e);
      const seq = from + i + 1;
      stored.push({ seq, id: e.id, type: e.type, at_ms: atMs, body });
      try {
        insert.run(threadId, seq, e.id, e.type, atMs, body);
      } catch (error) {
        if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
          throw new StoreInputError("invalid_event", `thread ${threadId} already has an event with id "${e.id}"`, {
            threadId,
            id: e.id,
          });
        }
        throw error;
      }
    }
    return stored;
  }

  /** Inserts a new thread row and its events (inside the caller's transaction). */
  #insertThread(stored: Thread): void {
    const id = stored.id;
    if (this.#row(id)) throw new ThreadExistsError(id);
    const derived = deriveColumns(stored);
    const ms = this.#now();
    this.#stmt(`INSERT INTO twelve_threads (${THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`).run(
      id,
      stored.agent,
      derived.status,
      derived.pendingKind,
      derived.pending ? JSON.stringify(derived.pending) : null,
      stored.version,
      stored.schemaVersion,
      derived.channel,
      stored.parent?.threadId ?? null,
      stored.parent?.eventId ?? null,
      ms,
      ms,
    );
    this.#insertEvents(id, 0, stored.events);
  }

  create(thread: Thread, options: CreateOptions = {}): Promise<Thread> {
    return this.#run(() => {
      const id = options.id ?? thread.id;
      validateEvents(thread.events);
      const stored: Thread = { ...thread, id, version: thread.events.length };
      this.#durability(true);
      this.db.transaction(() => this.#insertThread(stored)).immediate();
      return structuredClone(stored);
    });
  }

  createOnce(thread: Thread, options: CreateOnceOptions): Promise<CreateOnceResult> {
    return this.#run(() => {
      const { scope, key, bodyHash } = checkCreateOnce(options);
      validateEvents(thread.events);
      const stored: Thread = { ...thread, version: thread.events.length };
      this.#durability(true);
      // IMMEDIATE: the key is checked and taken under the write lock, so of concurrent callers one creates.
      const existing = this.db
        .transaction((): string | undefined => {
          const found = this.#stmt("SELECT thread_id, body_hash FROM twelve_launches WHERE scope = ? AND key = ?").get(
            scope,
            key,
          ) as { thread_id: string; body_hash: string } | undefined;
          if (found) {
            if (found.body_hash !== bodyHash) throw new IdempotencyConflictError(scope, key, found.thread_id);
            return found.thread_id;
          }
          this.#insertThread(stored);
          this.#stmt(
            "INSERT INTO twelve_launches (scope, key, thread_id, body_hash, created_ms) VALUES (?, ?, ?, ?, ?)",
          ).run(scope, key, stored.id, bodyHash, Date.now());
          return undefined;
        })
        .immediate();
      if (existing === undefined) return { thread: structuredClone(stored), created: true };
      const found = this.#load(existing);
      if (!found) {
        throw new StoreCorruptError(
          `launch key "${key}" (scope "${scope}") names thread ${existing}, which is missing`,
          {
            scope,
            key,
            threadId: existing,
          },
        );
      }
      return { thread: found, created: false };
    });
  }

  pruneIdempotency(olderThan: Date): Promise<number> {
    return this.#run(() => {
      const ms = checkDate(olderThan, "olderThan");
      this.#durability(true);
      return this.#stmt("DELETE FROM twelve_launches WHERE created_ms < ?").run(ms).changes;
    });
  }

  recordInbound(input: InboundInput): Promise<InboundRecordResult> {
    return this.#run(() => {
      const { source, id, json } = checkInbound(input);
      // Durable before it returns: the caller acknowledges the sender next.
      this.#durability(true);
      const ms = this.#now();
      const changes = this.#stmt(
        "INSERT INTO twelve_inbound (source, id, payload, received_ms, attempts) VALUES (?, ?, ?, ?, 0) ON CONFLICT (source, id) DO NOTHING",
      ).run(source, id, json, ms).changes;
      if (changes === 1) return { duplicate: false, processed: false, receivedAt: new Date(ms).toISOString() };
      const row = this.#stmt("SELECT received_ms, processed_ms FROM twelve_inbound WHERE source = ? AND id = ?").get(
        source,
        id,
      ) as { received_ms: number; processed_ms: number | null };
      return {
        duplicate: true,
        processed: row.processed_ms !== null,
        receivedAt: new Date(Number(row.received_ms)).toISOString(),
      };
    });
  }

  markInboundProcessed(source: string, id: string, options: { error?: unknown } = {}): Promise<void> {
    return this.#run(() => {
      checkKey(source, id);
      this.#durability(true);
      const failed = options.error !== undefined;
      const changes = failed
        ? this.#stmt(
            "UPDATE twelve_inbound SET attempts = attempts + 1, last_error = ? WHERE source = ? AND id = ? AND processed_ms IS NULL",
          ).run(errorText(options.error), source, id).changes
        : this.#stmt(
            "UPDATE twelve_inbound SET attempts = attempts + 1, processed_ms = ? WHERE source = ? AND id = ? AND processed_ms IS NULL",
          ).run(Date.now(), source, id).changes;
      if (changes === 1) return;
      // Already processed (it stays so), or never recorded.
      if (!this.#stmt("SELECT 1 FROM twelve_inbound WHERE source = ? AND id = ?").get(source, id)) {
        throw new InboundNotFoundError(source, id);
      }
    });
  }

  pendingInbound(filter: PendingInboundFilter = {}): Promise<InboundRecord[]> {
    return this.#run(() => {
      const { limit, olderThanMs } = inboundFilter(filter);
      const where = ["processed_ms IS NULL"];
      const params: unknown[] = [];
      if (filter.source !== undefined) {
        where.push("source = ?");
        params.push(filter.source);
      }
      if (olderThanMs > 0) {
        where.push("received_ms <= ?");
        params.push(Date.now() - olderThanMs);
      }
      const rows = this.#stmt(
        `SELECT source, id, payload, received_ms, processed_ms, attempts, last_error FROM twelve_inbound
         WHERE ${where.join(" AND ")} ORDER BY received_ms, source, id LIMIT ?`,
      ).all(...params, limit) as InboundRow[];
      return rows.map(rowToInbound);
    });
  }

  claimOutbox(options: ClaimOutboxOptions): Promise<OutboxRow[]> {
    return this.#run(() => {
      const { leaseMs, limit, endpoints } = checkClaim(options);
      if (endpoints?.length === 0) return [];
      this.#durability(false);
      // IMMEDIATE: the select and the claim are one write transaction, so two processes never claim one row.
      return this.db
        .transaction(() => {
          const now = Date.now();
          const params: unknown[] = [now, now];
          let only = "";
          if (endpoints) {
            only = ` AND endpoint IN (${endpoints.map(() => "?").join(", ")})`;
            params.push(...endpoints);
          }
          const rows = this.db
            .prepare(
              `SELECT seq FROM twelve_outbox o WHERE delivered_ms IS NULL AND failed_ms IS NULL AND next_ms <= ?
               AND (claim_until_ms IS NULL OR claim_until_ms <= ?)${only}
               AND NOT EXISTS (SELECT 1 FROM twelve_outbox_endpoints d WHERE d.endpoint = o.endpoint)
               ORDER BY next_ms, seq LIMIT ?`,
            )
            .all(...params, limit) as { seq: number }[];
          const claim = this.#stmt(
            `UPDATE twelve_outbox SET claim_token = ?, claim_until_ms = ? WHERE seq = ? RETURNING ${OUTBOX_COLUMNS}`,
          );
          return rows.map((r) => rowToOutbox(claim.get(randomToken(), now + leaseMs, r.seq) as OutboxDbRow));
        })
        .immediate();
    });
  }

  settleOutbox(claim: OutboxClaim, outcome: OutboxOutcome): Promise<boolean> {
    return this.#run(() => {
      checkOutcome(claim, outcome);
      const o = outcomeColumns(outcome);
      this.#durability(true);
      const now = Date.now();
      const changed = this.#stmt(
        `UPDATE twelve_outbox SET attempts = attempts + 1, claim_token = NULL, claim_until_ms = NULL,
           last_status = COALESCE(?, last_status), last_error = COALESCE(?, last_error),
           delivered_ms = CASE WHEN ? THEN ? ELSE delivered_ms END,
           failed_ms = CASE WHEN ? THEN ? ELSE failed_ms END,
           next_ms = CASE WHEN ? OR ? THEN next_ms ELSE ? END
         WHERE seq = ? AND claim_token = ? AND delivered_ms IS NULL AND failed_ms IS NULL`,
      ).run(
        o.status,
        o.error,
        o.delivered ? 1 : 0,
        now,
        o.failed ? 1 : 0,
        now,
        o.delivered ? 1 : 0,
        o.failed ? 1 : 0,
        now + o.retryInMs,
        claim.id,
        claim.claimToken,
      ).changes;
      return changed === 1;
    });
  }

  setOutboxEndpoint(endpoint: string, state: { disabled: boolean; reason?: string }): Promise<void> {
    return this.#run(() => {
      checkEndpointName(endpoint);
      this.#durability(true);
      if (state?.disabled) {
        this.#stmt(
          "INSERT INTO twelve_outbox_endpoints (endpoint, disabled_ms, reason) VALUES (?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET disabled_ms = excluded.disabled_ms, reason = excluded.reason",
        ).run(endpoint, Date.now(), state.reason ?? null);
      } else this.#stmt("DELETE FROM twelve_outbox_endpoints WHERE endpoint = ?").run(endpoint);
    });
  }

  disabledOutboxEndpoints(): Promise<DisabledEndpoint[]> {
    return this.#run(() =>
      (
        this.#stmt("SELECT endpoint, disabled_ms, reason FROM twelve_outbox_endpoints ORDER BY endpoint").all() as {
          endpoint: string;
          disabled_ms: number;
          reason: string | null;
        }[]
      ).map((r) => ({
        endpoint: r.endpoint,
        disabledAt: new Date(r.disabled_ms).toISOString(),
        ...(r.reason !== null && { reason: r.reason }),
      })),
    );
  }

  pruneOutbox(olderThan: Date): Promise<number> {
    return this.#run(() => {
      const ms = checkDate(olderThan, "olderThan");
      this.#durability(false);
      return this.#stmt(
        "DELETE FROM twelve_outbox WHERE (delivered_ms IS NOT NULL AND delivered_ms < ?) OR (failed_ms IS NOT NULL AND failed_ms < ?)",
      ).run(ms, ms).changes;
    });
  }

  listOutbox(filter: OutboxFilter = {}): Promise<OutboxRow[]> {
    return this.#run(() => {
      const limit = outboxLimit(filter);
      const where: string[] = [];
      const params: unknown[] = [];
      for (const [column, value] of [
        ["endpoint", filter.endpoint],
        ["thread_id", filter.threadId],
        ["message_id", filter.messageId],
      ] as const) {
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        params.push(value);
      }
      if (filter.state === "pending") where.push("delivered_ms IS NULL AND failed_ms IS NULL");
      else if (filter.state === "delivered") where.push("delivered_ms IS NOT NULL");
      else if (filter.state === "failed") where.push("failed_ms IS NOT NULL");
      const rows = this.db
        .prepare(
          `SELECT ${OUTBOX_COLUMNS} FROM twelve_outbox ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT ?`,
        )
        .all(...params, limit) as OutboxDbRow[];
      return rows.map(rowToOutbox);
    });
  }

  #load(threadId: string): Thread | undefined {
    // One read transaction: the row and its events come from the same snapshot.
    return this.db.transaction(() => {
      const row = this.#row(threadId);
      if (!row) return undefined;
      const rows = this.#stmt(
        "SELECT seq, id, type, at_ms, body FROM twelve_events WHERE thread_id = ? ORDER BY seq",
      ).all(threadId) as EventRow[];
      return assembleThread(row, rows);
    })();
  }

  load(threadId: string): Promise<Thread> {
    return this.#run(() => {
      const thread = this.#load(threadId);
      if (!thread) throw new ThreadNotFoundError(threadId);
      return thread;
    });
  }

  get(threadId: string): Promise<Thread | undefined> {
    return this.#run(() => this.#load(threadId));
  }

  summary(threadId: string): Promise<ThreadSummary> {
    return this.#run(() => {
      const row = this.#row(threadId);
      if (!row) throw new ThreadNotFoundError(threadId);
      return rowToSummary(row);
    });
  }

  #eventsBetween(threadId: string, from: number, count: number): Event[] {
    const rows = this.#stmt(
      "SELECT seq, id, type, at_ms, body FROM twelve_events WHERE thread_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
    ).all(threadId, from, from + count) as EventRow[];
    return rows.map((r) => decodeEvent(r, threadId));
  }

  append(threadId: string, events: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    return this.#run(() => {
      validateExpectedVersion(options?.expectedVersion);
      validateEvents(events);
      this.#durability(options.durable !== false);
      // IMMEDIATE takes the write lock before reading the version, so check-then-insert is atomic across processes.
      this.#appendTx ??= this.db.transaction(this.#appendIn.bind(this));
      this.#pendingSteps = [];
      const result = this.#appendTx.immediate(threadId, events, options);
      for (const [k, body] of this.#pendingSteps) this.#recentSteps.set(k, body);
      this.#pendingSteps = [];
      // Bounded: the oldest entries go first (a Map iterates in insertion order).
      for (const k of this.#recentSteps.keys()) {
        if (this.#recentSteps.size <= 256) break;
        this.#recentSteps.delete(k);
      }
      return result;
    });
  }

  /**
   * Step events this store wrote recently, by `threadId\nid` → stored body: the
   * result that answers a step reads it without a query. Events never change
   * once stored, so an entry is valid for as long as it is kept.
   */
  readonly #recentSteps = new Map<string, EventRow>();
  #pendingSteps: [string, EventRow][] = [];

  #referenced(threadId: string, refId: string | undefined): Event | undefined {
    if (refId === undefined) return undefined;
    const cached = this.#recentSteps.get(`${threadId}\n${refId}`);
    if (cached !== undefined) return decodeEvent(cached, threadId);
    const ref = this.#stmt("SELECT seq, id, type, at_ms, body FROM twelve_events WHERE thread_id = ? AND id = ?").get(
      threadId,
      refId,
    ) as EventRow | undefined;
    return ref ? decodeEvent(ref, threadId) : undefined;
  }

  /** The body of append's transaction, wrapped once (better-sqlite3 builds a wrapper per `transaction()` call). */
  #appendTx?: BetterSqlite3.Transaction<
    (threadId: string, events: readonly Event[], options: AppendOptions) => AppendResult
  >;

  #appendIn(threadId: string, events: readonly Event[], options: AppendOptions): AppendResult {
    const row = this.#row(threadId);
    if (!row) throw new ThreadNotFoundError(threadId);
    const version = Number(row.version);
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const first = this.#stmt(
        "SELECT from_version, count FROM twelve_idempotency WHERE thread_id = ? AND key = ?",
      ).get(threadId, key) as { from_version: number; count: number } | undefined;
      if (first) {
        return {
          version,
          appended: this.#eventsBetween(threadId, first.from_version, first.count),
          duplicate: true,
          summary: rowToSummary(row),
        };
      }
    }
    if (row.archived_ms !== null) throw new ThreadArchivedError(threadId);
    if (version !== options.expectedVersion) throw new VersionConflictError(threadId, options.expectedVersion, version);
    let after: ThreadRow = row;
    // What was stored, serialized once: the caller's objects are never kept, and `appended` is parsed back only if read.
    const stored = this.#insertEvents(threadId, version, events);
    if (annotationsOnly(events)) {
      // An annotation changes neither what the thread is doing nor how long its request has waited.
      this.#stmt("UPDATE twelve_threads SET version = ? WHERE id = ?").run(version + events.length, threadId);
      after = { ...row, version: version + events.length };
    } else if (events.length > 0) {
      const tail = stateTail(
        { id: threadId, agent: row.agent, schemaVersion: Number(row.schema_version) },
        events,
        this.#referenced(threadId, referencedStepId(events)),
      );
      const derived = deriveColumns(tail, row.channel);
      const pending = derived.pending ? JSON.stringify(derived.pending) : null;
      const updated = this.#now();
      this.#stmt(
        "UPDATE twelve_threads SET status = ?, pending_kind = ?, pending = ?, version = ?, channel = ?, updated_ms = ? WHERE id = ?",
      ).run(derived.status, derived.pendingKind, pending, version + events.length, derived.channel, updated, threadId);
      // The row as just written, without reading it back.
      after = {
        ...row,
        status: derived.status,
        pending_kind: derived.pendingKind,
        pending,
        version: version + events.length,
        channel: derived.channel,
        updated_ms: updated,
      };
    }
    if (key !== undefined) {
      this.#stmt(
        "INSERT INTO twelve_idempotency (thread_id, key, from_version, count, created_ms) VALUES (?, ?, ?, ?, ?)",
      ).run(threadId, key, version, events.length, Date.now());
    }
    if (options.sideRows) runSideRowsSync(options.sideRows, this.db, rowToSummary(after));
    // Remember step events for the result that will refer to them; kept only if the transaction commits.
    for (const [i, e] of events.entries()) {
      if (e.meta?.kind === "step") this.#pendingSteps.push([`${threadId}\n${e.id}`, stored[i] as EventRow]);
    }
    const result = { version: version + events.length, duplicate: false, summary: rowToSummary(after) } as AppendResult;
    let appended: Event[] | undefined;
    return Object.defineProperty(result, "appended", {
      enumerable: true,
      get: () => {
        appended ??= stored.map((r) => decodeEvent(r, threadId));
        return appended;
      },
    });
  }

  list(filter: ListFilter = {}): Promise<ListPage> {
    return this.#run(() => {
      const limit = pageSize(filter);
      const where: string[] = [];
      const params: unknown[] = [];
      if (!filter.includeArchived) where.push("archived_ms IS NULL");
      const statuses = statusList(filter);
      if (statuses) {
        where.push(`status IN (${statuses.map(() => "?").join(", ")})`);
        params.push(...statuses);
      }
      if (filter.agent !== undefined) {
        where.push("agent = ?");
        params.push(filter.agent);
      }
      if (filter.pendingKind !== undefined) {
        where.push("pending_kind = ?");
        params.push(filter.pendingKind);
      }
      if (filter.channel !== undefined) {
        where.push("channel = ?");
        params.push(filter.channel);
      }
      if (filter.updatedAfter !== undefined) {
        where.push("updated_ms >= ?");
        params.push(toMillis(filter.updatedAfter, "updatedAfter"));
      }
      if (filter.updatedBefore !== undefined) {
        where.push("updated_ms < ?");
        params.push(toMillis(filter.updatedBefore, "updatedBefore"));
      }
      if (filter.cursor !== undefined) {
        const c = decodeCursor(filter.cursor);
        where.push("(updated_ms < ? OR (updated_ms = ? AND id < ?))");
        params.push(c.updatedMs, c.updatedMs, c.id);
      }
      const sql = `SELECT ${THREAD_COLUMNS} FROM twelve_threads ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY updated_ms DESC, id DESC LIMIT ?`;
      const rows = this.#stmt(sql).all(...params, limit + 1) as ThreadRow[];
      const page = rows.slice(0, limit);
      const result: ListPage = { threads: page.map(rowToSummary) };
      const last = page.at(-1);
      if (rows.length > limit && last)
        result.nextCursor = encodeCursor({ updatedMs: Number(last.updated_ms), id: last.id });
      return result;
    });
  }

  async fork(threadId: string, atEventId: string, options: CreateOptions = {}): Promise<Thread> {
    const source = await this.load(threadId);
    return this.create(forkThread(source, atEventId, options.id ? { id: options.id } : {}));
  }

  archive(threadId: string): Promise<ThreadSummary> {
    return this.#run(() => {
      this.#durability(true);
      this.#stmt("UPDATE twelve_threads SET archived_ms = ? WHERE id = ? AND archived_ms IS NULL").run(
        this.#now(),
        threadId,
      );
      const row = this.#row(threadId);
      if (!row) throw new ThreadNotFoundError(threadId);
      return rowToSummary(row);
    });
  }

  acquireLease(threadId: string, options: LeaseOptions = {}): Promise<Lease> {
    return this.#run(() => {
      // A lease is only worth something to a live process, and power loss ends them all: no fsync needed.
      this.#durability(false);
      const owner = options.owner ?? `runner_${randomToken().slice(0, 8)}`;
      const token = randomToken();
      const now = Date.now();
      const expires = now + (options.ttlMs ?? DEFAULT_LEASE_TTL_MS);
      const changed = this.#stmt(
        `UPDATE twelve_threads SET lease_owner = ?, lease_token = ?, lease_expires_ms = ?
         WHERE id = ? AND (lease_token IS NULL OR lease_expires_ms <= ? OR lease_owner = ?)`,
      ).run(owner, token, expires, threadId, now, owner).changes;
      if (changed === 1) return { threadId, owner, token, expiresAt: new Date(expires).toISOString() };
      const held = this.#stmt("SELECT lease_owner, lease_expires_ms FROM twelve_threads WHERE id = ?").get(threadId) as
        | { lease_owner: string; lease_expires_ms: number }
        | undefined;
      if (!held) throw new ThreadNotFoundError(threadId);
      throw new LeaseHeldError(threadId, held.lease_owner, new Date(held.lease_expires_ms).toISOString());
    });
  }

  renewLease(lease: Lease, ttlMs = DEFAULT_LEASE_TTL_MS): Promise<Lease> {
    return this.#run(() => {
      this.#durability(false);
      const expires = Date.now() + ttlMs;
      const changed = this.#stmt("UPDATE twelve_threads SET lease_expires_ms = ? WHERE id = ? AND lease_token = ?").run(
        expires,
        lease.threadId,
        lease.token,
      ).changes;
      if (changed !== 1) throw new LeaseLostError(lease.threadId, lease.owner);
      return { ...lease, expiresAt: new Date(expires).toISOString() };
    });
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.#run(() => {
      this.#durability(false);
      this.#stmt(
        "UPDATE twelve_threads SET lease_owner = NULL, lease_token = NULL, lease_expires_ms = NULL WHERE id = ? AND lease_token = ?",
      ).run(lease.threadId, lease.token);
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
