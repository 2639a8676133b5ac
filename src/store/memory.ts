import type { Event } from "../thread/event.js";
import { appendEvents, fork as forkThread, type Thread } from "../thread/thread.js";
import { decodeCursor, encodeCursor, pageSize, statusList } from "./cursor.js";
import {
  annotationsOnly,
  deriveColumns,
  randomToken,
  toMillis,
  validateEvents,
  validateExpectedVersion,
} from "./derive.js";
import {
  LeaseHeldError,
  LeaseLostError,
  ThreadArchivedError,
  ThreadExistsError,
  ThreadNotFoundError,
  VersionConflictError,
} from "./errors.js";
import {
  type AppendOptions,
  type AppendResult,
  type CreateOptions,
  DEFAULT_LEASE_TTL_MS,
  type Lease,
  type LeaseOptions,
  type ListFilter,
  type ListPage,
  type ThreadStore,
  type ThreadSummary,
} from "./types.js";

interface Entry {
  thread: Thread;
  summary: ThreadSummary;
  updatedMs: number;
  keys: Map<string, { from: number; count: number }>;
  lease?: { owner: string; token: string; expiresMs: number };
}

/**
 * A store in process memory, for unit tests and throwaway runs. Same
 * semantics as the durable stores; everything is copied in and out so
 * callers can never mutate stored events.
 */
export class MemoryThreadStore implements ThreadStore {
  readonly kind = "memory";
  readonly #threads = new Map<string, Entry>();
  // Keeps updatedAt strictly increasing so ordering is deterministic even within one millisecond.
  #lastMs = 0;

  #now(): number {
    this.#lastMs = Math.max(Date.now(), this.#lastMs + 1);
    return this.#lastMs;
  }

  #entry(threadId: string): Entry {
    const entry = this.#threads.get(threadId);
    if (!entry) throw new ThreadNotFoundError(threadId);
    return entry;
  }

  async create(thread: Thread, options: CreateOptions = {}): Promise<Thread> {
    const id = options.id ?? thread.id;
    if (this.#threads.has(id)) throw new ThreadExistsError(id);
    validateEvents(thread.events);
    const stored: Thread = structuredClone({ ...thread, id, version: thread.events.length });
    const ms = this.#now();
    const derived = deriveColumns(stored);
    const summary: ThreadSummary = {
      id,
      agent: stored.agent,
      status: derived.status,
      version: stored.version,
      schemaVersion: stored.schemaVersion,
      createdAt: new Date(ms).toISOString(),
      updatedAt: new Date(ms).toISOString(),
    };
    applyDerived(summary, derived);
    if (stored.parent) summary.parent = { ...stored.parent };
    this.#threads.set(id, { thread: stored, summary, updatedMs: ms, keys: new Map() });
    return structuredClone(stored);
  }

  async load(threadId: string): Promise<Thread> {
    return structuredClone(this.#entry(threadId).thread);
  }

  async get(threadId: string): Promise<Thread | undefined> {
    const entry = this.#threads.get(threadId);
    return entry ? structuredClone(entry.thread) : undefined;
  }

  async summary(threadId: string): Promise<ThreadSummary> {
    return structuredClone(this.#entry(threadId).summary);
  }

  async append(threadId: string, events: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    validateExpectedVersion(options?.expectedVersion);
    const entry = this.#entry(threadId);
    const key = options.idempotencyKey;
    const first = key === undefined ? undefined : entry.keys.get(key);
    if (first) {
      return {
        version: entry.thread.version,
        appended: structuredClone(entry.thread.events.slice(first.from, first.from + first.count)),
        duplicate: true,
        summary: structuredClone(entry.summary),
      };
    }
    if (entry.summary.archivedAt) throw new ThreadArchivedError(threadId);
    if (entry.thread.version !== options.expectedVersion) {
      throw new VersionConflictError(threadId, options.expectedVersion, entry.thread.version);
    }
    validateEvents(events, new Set(entry.thread.events.map((e) => e.id)));
    const copies = structuredClone([...events]);
    const from = entry.thread.version;
    entry.thread = appendEvents(entry.thread, copies);
    if (key !== undefined) entry.keys.set(key, { from, count: copies.length });
    if (annotationsOnly(copies)) {
      // An annotation changes neither what the thread is doing nor how long its request has waited.
      entry.summary.version = entry.thread.version;
    } else if (copies.length > 0) {
      entry.updatedMs = this.#now();
      entry.summary.version = entry.thread.version;
      entry.summary.updatedAt = new Date(entry.updatedMs).toISOString();
      applyDerived(entry.summary, deriveColumns(entry.thread, entry.summary.channel ?? null));
    }
    return {
      version: entry.thread.version,
      appended: structuredClone(copies),
      duplicate: false,
      summary: structuredClone(entry.summary),
    };
  }

  async list(filter: ListFilter = {}): Promise<ListPage> {
    const limit = pageSize(filter);
    const statuses = statusList(filter);
    const after = filter.updatedAfter === undefined ? undefined : toMillis(filter.updatedAfter, "updatedAfter");
    const before = filter.updatedBefore === undefined ? undefined : toMillis(filter.updatedBefore, "updatedBefore");
    const cursor = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const rows = [...this.#threads.values()]
      .filter((e) => {
        const s = e.summary;
        if (!filter.includeArchived && s.archivedAt) return false;
        if (filter.agent !== undefined && s.agent !== filter.agent) return false;
        if (statuses && !statuses.includes(s.status)) return false;
        if (filter.pendingKind !== undefined && s.pendingKind !== filter.pendingKind) return false;
        if (filter.channel !== undefined && s.channel !== filter.channel) return false;
        if (after !== undefined && e.updatedMs < after) return false;
        if (before !== undefined && e.updatedMs >= before) return false;
        if (cursor && !(e.updatedMs < cursor.updatedMs || (e.updatedMs === cursor.updatedMs && s.id < cursor.id))) {
          return false;
        }
        return true;
      })
      .sort((a, b) => b.updatedMs - a.updatedMs || (a.summary.id < b.summary.id ? 1 : -1));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const result: ListPage = { threads: page.map((e) => structuredClone(e.summary)) };
    if (rows.length > limit && last)
      result.nextCursor = encodeCursor({ updatedMs: last.updatedMs, id: last.summary.id });
    return result;
  }

  async fork(threadId: string, atEventId: string, options: CreateOptions = {}): Promise<Thread> {
    const source = this.#entry(threadId).thread;
    const forked = forkThread(source, atEventId, options.id ? { id: options.id } : {});
    return this.create(forked);
  }

  async archive(threadId: string): Promise<ThreadSummary> {
    const entry = this.#entry(threadId);
    entry.summary.archivedAt ??= new Date(this.#now()).toISOString();
    return structuredClone(entry.summary);
  }

  async acquireLease(threadId: string, options: LeaseOptions = {}): Promise<Lease> {
    const entry = this.#entry(threadId);
    const owner = options.owner ?? `runner_${randomToken().slice(0, 8)}`;
    const now = Date.now();
    const held = entry.lease;
    if (held && held.expiresMs > now && held.owner !== owner) {
      throw new LeaseHeldError(threadId, held.owner, new Date(held.expiresMs).toISOString());
    }
    const lease = { owner, token: randomToken(), expiresMs: now + (options.ttlMs ?? DEFAULT_LEASE_TTL_MS) };
    entry.lease = lease;
    return { threadId, owner, token: lease.token, expiresAt: new Date(lease.expiresMs).toISOString() };
  }

  async renewLease(lease: Lease, ttlMs = DEFAULT_LEASE_TTL_MS): Promise<Lease> {
    const entry = this.#entry(lease.threadId);
    const held = entry.lease;
    const now = Date.now();
    // An expired lease nobody took over may still be renewed: the thread was never run by anyone else.
    if (!held || held.token !== lease.token) throw new LeaseLostError(lease.threadId, lease.owner);
    held.expiresMs = now + ttlMs;
    return { ...lease, expiresAt: new Date(held.expiresMs).toISOString() };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const entry = this.#threads.get(lease.threadId);
    if (entry?.lease?.token === lease.token) delete entry.lease;
  }

  async close(): Promise<void> {}
}

function applyDerived(summary: ThreadSummary, derived: ReturnType<typeof deriveColumns>): void {
  summary.status = derived.status;
  if (derived.pendingKind) summary.pendingKind = derived.pendingKind;
  else delete summary.pendingKind;
  if (derived.pending) summary.pending = derived.pending;
  else delete summary.pending;
  if (derived.channel) summary.channel = derived.channel;
}

export function memoryStore(): MemoryThreadStore {
  return new MemoryThreadStore();
}
