import type { Event } from "../thread/event.js";
import type { PendingRequest, ThreadStatus } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";

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
}

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
  close(): Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
