import type { Event } from "../thread/event.js";
import type { PendingRequest, ThreadStatus } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import type {
  ClaimOutboxOptions,
  DisabledEndpoint,
  OutboxClaim,
  OutboxFilter,
  OutboxInsert,
  OutboxOutcome,
  OutboxRow,
} from "./outbox.js";

/**
 * What a store keeps about a thread besides its events. Status and the
 * pending request are derived with `threadState()` at append time and kept
 * in indexed columns, so "every thread awaiting approval" is an index lookup.
 */
export interface ThreadSummary {
  id: string;
  agent: string;
  status: ThreadStatus;
  /** Kind of the pending request (`approval`, `question`, …) when the thread is paused. */
  pendingKind?: PendingRequest["kind"];
  pending?: PendingRequest;
  /** Number of events; the value to pass as `expectedVersion` for the next append. */
  version: number;
  schemaVersion: number;
  /** Channel reference of the trigger that started the thread (see `channelRef`). */
  channel?: string;
  parent?: { threadId: string; eventId: string };
  /** ISO-8601 times. */
  createdAt: string;
  updatedAt: string;
  archivedAt?: string;
}

export interface AppendOptions {
  /** The version the caller based its events on; a different stored version fails with VersionConflictError. */
  expectedVersion: number;
  /**
   * Makes the append safe to repeat (duplicate webhooks, client retries):
   * the first append with this key wins; a repeat returns its result and adds nothing.
   * Scoped to the thread.
   */
  idempotencyKey?: string;
  /**
   * Whether the append must survive power loss before it returns (default
   * true). Every append survives a process crash; `durable: false` lets a
   * store skip the flush to stable storage for a batch the agent loop
   * continues past (see the loop's CommitHook), because the next durable
   * append flushes it too. Stores that cannot tell the difference ignore it.
   */
  durable?: boolean;
  /**
   * Writes rows of your own in the append's transaction, so they commit
   * together with the events or not at all: a webhook outbox row, a channel
   * delivery to make, a job to enqueue (like graphile-worker's `add_job`
   * called on the same PostgreSQL client).
   *
   * Called once, after the events are written, with the store's transaction
   * and the thread's summary after the append. Not called when nothing is
   * appended because the idempotency key was used before (`duplicate`), nor
   * when the append fails (version conflict, archived thread, …). If it
   * throws (or its promise rejects), the whole append rolls back and the
   * error propagates.
   *
   * SQLite transactions are synchronous: there the hook must do its work
   * synchronously with `tx.db` (better-sqlite3); returning a promise fails
   * the append with `side_rows_async` and rolls it back. On PostgreSQL the
   * hook may await queries on `tx.client`; the thread's row stays locked
   * until it returns, so keep it short. The memory store passes
   * `{ kind: "memory" }`: a hook that throws still rolls the append back.
   */
  sideRows?: SideRowsHook;
}

/** What a hook may use of better-sqlite3's Database (declared here so no driver types are needed to compile). */
export interface SqliteConnection {
  prepare(sql: string): {
    run(...params: unknown[]): unknown;
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  };
  exec(sql: string): unknown;
}

/** What a hook may use of a pg PoolClient. */
export interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** The transaction an append's `sideRows` hook writes in; `kind` is the store's. */
export type StoreTransaction =
  | { kind: "sqlite"; db: SqliteConnection }
  /** `schema`: the schema holding twelve's tables (quote it: `"${schema}".twelve_outbox`). */
  | { kind: "postgres"; client: PgClient; schema: string }
  /** `outbox`: the memory store's outbox, kept only if the append commits. */
  | { kind: "memory"; outbox: { insert(rows: readonly OutboxInsert[]): void } };

export type SideRowsHook = (tx: StoreTransaction, summary: ThreadSummary) => void | Promise<void>;

export interface AppendResult {
  /** The thread's version after the append (for a repeated key: its version now). */
  version: number;
  /** The events the append stored: for a repeated idempotency key, those of the first append. */
  appended: Event[];
  /** True when the idempotency key had been used before and nothing was added. */
  duplicate: boolean;
  /** The thread's summary after the append (status and pending request derived from the new tail). */
  summary: ThreadSummary;
}

export interface ListFilter {
  agent?: string;
  status?: ThreadStatus | readonly ThreadStatus[];
  pendingKind?: PendingRequest["kind"];
  /** Channel reference, exactly as `channelRef` computes it. */
  channel?: string;
  /** Only threads updated at or after this time. */
  updatedAfter?: Date | string;
  /** Only threads updated strictly before this time. */
  updatedBefore?: Date | string;
  /** Archived threads are hidden unless this is true. */
  includeArchived?: boolean;
  /** Page size; default 50, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ListPage {
  /** Most recently updated first. */
  threads: ThreadSummary[];
  /** Present when there may be more threads. */
  nextCursor?: string;
}

export interface Lease {
  threadId: string;
  owner: string;
  /** Unique per acquisition: renew/release only work with the token you got. */
  token: string;
  expiresAt: string;
}

export interface LeaseOptions {
  /**
   * Who holds the lease (shown in errors); default a random id per call. A
   * runner restarting under the same owner name takes its own leases back at once.
   */
  owner?: string;
  /** How long the lease lasts unless renewed; default 30 s. */
  ttlMs?: number;
}

export interface CreateOptions {
  /** Overrides `thread.id` when set. */
  id?: string;
}

/** A launch idempotency key: see `ThreadStore.createOnce`. */
export interface CreateOnceOptions {
  /** What the key is unique within, e.g. `launch:<agent>` or `inbound:slack`. */
  scope: string;
  /** The caller's idempotency key (an `Idempotency-Key` header, a Slack event id, a Message-ID). */
  key: string;
  /** A digest of the request the key was sent with: a repeat must carry the same one. */
  bodyHash: string;
}

export interface CreateOnceResult {
  /** The thread created now, or the one the key created before (as it is now). */
  thread: Thread;
  /** False when the key had been used before and nothing was created. */
  created: boolean;
}

/** An inbound payload to keep before it is acknowledged (a Slack event, an SMTP message, a webhook). */
export interface InboundInput {
  /** Where it came from: `slack`, `smtp`, `webhook:github`, … */
  source: string;
  /** The sender's id for it (unique within the source): its redeliveries carry the same id. */
  id: string;
  /** Any JSON value; stored as JSON and handed back parsed. */
  payload: unknown;
}

export interface InboundRecordResult {
  /** The record existed already: this is a redelivery, and nothing was written. */
  duplicate: boolean;
  /** Whether the record has been processed (always false for a new record). */
  processed: boolean;
  /** When the store first received it (ISO-8601). */
  receivedAt: string;
}

export interface InboundRecord {
  source: string;
  id: string;
  payload: unknown;
  /** ISO-8601 times. */
  receivedAt: string;
  processedAt?: string;
  /** Processing attempts finished so far (failed ones, and the one that succeeded). */
  attempts: number;
  /** The error of the last failed attempt. */
  lastError?: string;
}

export interface PendingInboundFilter {
  source?: string;
  /** Only records received at least this long ago (leave the ones a live receiver is still processing). */
  olderThanMs?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/**
 * A thread store: append-only event logs with optimistic concurrency,
 * idempotency keys and leases. Every implementation passes the same
 * contract suite (test/store/contract.ts).
 */
export interface ThreadStore {
  /** `memory`, `sqlite` or `postgres`. */
  readonly kind: string;
  /** Stores a new thread with its events. Throws ThreadExistsError if the id is taken. */
  create(thread: Thread, options?: CreateOptions): Promise<Thread>;
  /** Throws ThreadNotFoundError when there is no such thread. */
  load(threadId: string): Promise<Thread>;
  /** Like load, but undefined when there is no such thread. */
  get(threadId: string): Promise<Thread | undefined>;
  summary(threadId: string): Promise<ThreadSummary>;
  /** Appends events atomically: all or none. */
  append(threadId: string, events: readonly Event[], options: AppendOptions): Promise<AppendResult>;
  list(filter?: ListFilter): Promise<ListPage>;
  /** Copies events up to and including `atEventId` into a new thread whose `parent` points back. */
  fork(threadId: string, atEventId: string, options?: CreateOptions): Promise<Thread>;
  /** Hides the thread from `list` and refuses further appends; it still loads. */
  archive(threadId: string): Promise<ThreadSummary>;
  /** Takes the thread's lease, or throws LeaseHeldError while another unexpired lease exists. */
  acquireLease(threadId: string, options?: LeaseOptions): Promise<Lease>;
  /** Extends a lease still held; throws LeaseLostError when it expired and someone else took it. */
  renewLease(lease: Lease, ttlMs?: number): Promise<Lease>;
  /** Gives the lease up; a no-op when it was already lost. */
  releaseLease(lease: Lease): Promise<void>;
  /**
   * Creates the thread once per `{scope, key}`: the thread and the key's
   * record are written in one transaction. A repeat with the same body hash
   * returns the thread the key created (`created: false`), whatever id the
   * repeat's thread has; with another body hash it throws
   * IdempotencyConflictError. Of concurrent calls with one key, exactly one creates.
   */
  createOnce(thread: Thread, options: CreateOnceOptions): Promise<CreateOnceResult>;
  /**
   * Deletes launch keys (`createOnce`) recorded before `olderThan`; returns how
   * many. A launch retried after its key was pruned creates a new thread.
   */
  pruneIdempotency(olderThan: Date): Promise<number>;
  /**
   * Records an inbound payload durably: once this resolves it may be
   * acknowledged to the sender. A redelivery (same source and id) writes
   * nothing and reports `duplicate`, and whether the first was processed.
   */
  recordInbound(input: InboundInput): Promise<InboundRecordResult>;
  /**
   * Marks a record processed; with `error`, counts a failed attempt
   * (`attempts`, `lastError`) and leaves it pending. A processed record stays
   * processed. Throws InboundNotFoundError for an unknown record.
   */
  markInboundProcessed(source: string, id: string, options?: { error?: unknown }): Promise<void>;
  /** Unprocessed records, oldest first: what a crash left between acknowledging and processing. */
  pendingInbound(filter?: PendingInboundFilter): Promise<InboundRecord[]>;
  /**
   * Claims due outbox rows (pending, due, not claimed by a live claim, on an
   * endpoint that is not disabled) for `leaseMs`: no other caller gets them
   * until the claim is settled or runs out. Oldest due first.
   */
  claimOutbox(options: ClaimOutboxOptions): Promise<OutboxRow[]>;
  /**
   * Settles one attempt of a claimed row: delivered, retry after a delay, or
   * failed for good. False (and nothing changed) when the claim ran out and
   * someone else claimed the row since.
   */
  settleOutbox(claim: OutboxClaim, outcome: OutboxOutcome): Promise<boolean>;
  /** Disables an endpoint (its rows stay pending and are not claimed) or enables it again. */
  setOutboxEndpoint(endpoint: string, state: { disabled: boolean; reason?: string }): Promise<void>;
  disabledOutboxEndpoints(): Promise<DisabledEndpoint[]>;
  /** Outbox rows, oldest first (inspection, tests). */
  listOutbox(filter?: OutboxFilter): Promise<OutboxRow[]>;
  /** Deletes delivered and failed outbox rows settled before `olderThan`; returns how many. Pending rows stay. */
  pruneOutbox(olderThan: Date): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_INBOUND_LIMIT = 100;
