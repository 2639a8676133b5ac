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
  IdempotencyConflictError,
  InboundNotFoundError,
  LeaseHeldError,
  LeaseLostError,
  ThreadArchivedError,
  ThreadExistsError,
  ThreadNotFoundError,
  VersionConflictError,
} from "./errors.js";
import {
  type ClaimOutboxOptions,
  checkClaim,
  checkEndpointName,
  checkOutcome,
  type DisabledEndpoint,
  type OutboxClaim,
  type OutboxFilter,
  type OutboxInsert,
  type OutboxOutcome,
  type OutboxRow,
  outboxLimit,
  outcomeColumns,
} from "./outbox.js";
import { checkCreateOnce, checkDate, checkInbound, checkKey, errorText, inboundFilter } from "./records.js";
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
  type ThreadStore,
  type ThreadSummary,
} from "./types.js";

interface Entry {
  thread: Thread;
  summary: ThreadSummary;
  updatedMs: number;
  keys: Map<string, { from: number; count: number }>;
  lease?: { owner: string; token: string; expiresMs: number };
  /** Set while an append's async `sideRows` hook runs: other appends wait, as on a row lock. */
  busy?: Promise<void>;
}

interface Inbound {
  source: string;
  id: string;
  json: string;
  receivedMs: number;
  processedMs?: number;
  attempts: number;
  lastError?: string;
}

/**
 * A store in process memory, for unit tests and throwaway runs. Same
 * semantics as the durable stores; everything is copied in and out so
 * callers can never mutate stored events.
 */
export class MemoryThreadStore implements ThreadStore {
  readonly kind = "memory";
  readonly #threads = new Map<string, Entry>();
  /** Launch keys (`createOnce`) by `[scope, key]` as JSON. */
  readonly #launches = new Map<string, { threadId: string; bodyHash: string; createdMs: number }>();
  /** Inbound records by `[source, id]` as JSON. */
  readonly #inbound = new Map<string, Inbound>();
  /** Outbox rows by id, and the endpoints disabled. */
  readonly #outbox = new Map<number, OutboxRow>();
  readonly #outboxKeys = new Set<string>();
  #outboxSeq = 0;
  readonly #disabled = new Map<string, DisabledEndpoint>();
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
    return this.#create(thread, options.id ?? thread.id);
  }

  /** Synchronous, so a caller checking something first (createOnce) cannot interleave with another. */
  #create(thread: Thread, id: string): Thread {
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
    let entry = this.#entry(threadId);
    while (entry.busy) {
      await entry.busy;
      entry = this.#entry(threadId);
    }
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
    // Computed aside and installed at the end, so a failing sideRows hook leaves the thread as it was.
    const thread = appendEvents(entry.thread, copies);
    const summary = structuredClone(entry.summary);
    let updatedMs = entry.updatedMs;
    if (annotationsOnly(copies)) {
      // An annotation changes neither what the thread is doing nor how long its request has waited.
      summary.version = thread.version;
    } else if (copies.length > 0) {
      updatedMs = this.#now();
      summary.version = thread.version;
      summary.updatedAt = new Date(updatedMs).toISOString();
      applyDerived(summary, deriveColumns(thread, summary.channel ?? null));
    }
    const staged: OutboxInsert[] = [];
    if (options.sideRows) {
      const outbox = { insert: (rows: readonly OutboxInsert[]) => staged.push(...structuredClone(rows)) };
      const out = options.sideRows({ kind: "memory", outbox }, structuredClone(summary));
      if (out !== undefined && typeof (out as { then?: unknown })?.then === "function") {
        const busy = Promise.resolve(out).then(
          () => {},
          () => {},
        );
        entry.busy = busy;
        try {
          await out;
        } finally {
          if (entry.busy === busy) delete entry.busy;
        }
      }
    }
    entry.thread = thread;
    entry.summary = summary;
    entry.updatedMs = updatedMs;
    this.#insertOutbox(staged);
    if (key !== undefined) entry.keys.set(key, { from, count: copies.length });
    return {
      version: thread.version,
      appended: structuredClone(copies),
      duplicate: false,
      summary: structuredClone(summary),
    };
  }

  async createOnce(thread: Thread, options: CreateOnceOptions): Promise<CreateOnceResult> {
    const { scope, key, bodyHash } = checkCreateOnce(options);
    const k = JSON.stringify([scope, key]);
    const found = this.#launches.get(k);
    if (found) {
      if (found.bodyHash !== bodyHash) throw new IdempotencyConflictError(scope, key, found.threadId);
      return { thread: structuredClone(this.#entry(found.threadId).thread), created: false };
    }
    const created = this.#create(thread, thread.id);
    this.#launches.set(k, { threadId: created.id, bodyHash, createdMs: Date.now() });
    return { thread: created, created: true };
  }

  async pruneIdempotency(olderThan: Date): Promise<number> {
    const ms = checkDate(olderThan, "olderThan");
    let deleted = 0;
    for (const [k, launch] of this.#launches) {
      if (launch.createdMs < ms) {
        this.#launches.delete(k);
        deleted++;
      }
    }
    return deleted;
  }

  async recordInbound(input: InboundInput): Promise<InboundRecordResult> {
    const { source, id, json } = checkInbound(input);
    const k = JSON.stringify([source, id]);
    const found = this.#inbound.get(k);
    if (found) {
      return {
        duplicate: true,
        processed: found.processedMs !== undefined,
        receivedAt: new Date(found.receivedMs).toISOString(),
      };
    }
    const receivedMs = this.#now();
    this.#inbound.set(k, { source, id, json, receivedMs, attempts: 0 });
    return { duplicate: false, processed: false, receivedAt: new Date(receivedMs).toISOString() };
  }

  async markInboundProcessed(source: string, id: string, options: { error?: unknown } = {}): Promise<void> {
    checkKey(source, id);
    const found = this.#inbound.get(JSON.stringify([source, id]));
    if (!found) throw new InboundNotFoundError(source, id);
    if (found.processedMs !== undefined) return;
    found.attempts++;
    if (options.error !== undefined) found.lastError = errorText(options.error);
    else found.processedMs = Date.now();
  }

  async pendingInbound(filter: PendingInboundFilter = {}): Promise<InboundRecord[]> {
    const { limit, olderThanMs } = inboundFilter(filter);
    const before = olderThanMs > 0 ? Date.now() - olderThanMs : Number.POSITIVE_INFINITY;
    return [...this.#inbound.values()]
      .filter(
        (r) =>
          r.processedMs === undefined &&
          (filter.source === undefined || r.source === filter.source) &&
          r.receivedMs <= before,
      )
      .sort(
        (a, b) =>
          a.receivedMs - b.receivedMs ||
          (a.source < b.source ? -1 : a.source > b.source ? 1 : 0) ||
          (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      )
      .slice(0, limit)
      .map((r) => {
        const record: InboundRecord = {
          source: r.source,
          id: r.id,
          payload: JSON.parse(r.json),
          receivedAt: new Date(r.receivedMs).toISOString(),
          attempts: r.attempts,
        };
        if (r.lastError !== undefined) record.lastError = r.lastError;
        return record;
      });
  }

  #insertOutbox(rows: readonly OutboxInsert[]): void {
    const now = Date.now();
    for (const r of rows) {
      const k = JSON.stringify([r.endpoint, r.messageId]);
      if (this.#outboxKeys.has(k)) continue;
      this.#outboxKeys.add(k);
      const id = ++this.#outboxSeq;
      this.#outbox.set(id, {
        id,
        endpoint: r.endpoint,
        messageId: r.messageId,
        type: r.type,
        threadId: r.threadId,
        payload: JSON.parse(r.payload),
        state: "pending",
        attempts: 0,
        createdAt: new Date(now).toISOString(),
        nextAttemptAt: new Date(now).toISOString(),
      });
    }
  }

  async claimOutbox(options: ClaimOutboxOptions): Promise<OutboxRow[]> {
    const { leaseMs, limit, endpoints } = checkClaim(options);
    const now = Date.now();
    const due = [...this.#outbox.values()]
      .filter(
        (r) =>
          r.state === "pending" &&
          Date.parse(r.nextAttemptAt) <= now &&
          (r.claimedUntil === undefined || Date.parse(r.claimedUntil) <= now) &&
          !this.#disabled.has(r.endpoint) &&
          (endpoints === undefined || endpoints.includes(r.endpoint)),
      )
      .sort((a, b) => Date.parse(a.nextAttemptAt) - Date.parse(b.nextAttemptAt) || a.id - b.id)
      .slice(0, limit);
    for (const r of due) {
      r.claimToken = randomToken();
      r.claimedUntil = new Date(now + leaseMs).toISOString();
    }
    return structuredClone(due);
  }

  async settleOutbox(claim: OutboxClaim, outcome: OutboxOutcome): Promise<boolean> {
    checkOutcome(claim, outcome);
    const row = this.#outbox.get(claim.id);
    if (row?.state !== "pending" || row.claimToken !== claim.claimToken) return false;
    const o = outcomeColumns(outcome);
    const now = Date.now();
    row.attempts++;
    delete row.claimToken;
    delete row.claimedUntil;
    if (o.status !== null) row.lastStatus = o.status;
    if (o.error !== null) row.lastError = o.error;
    if (o.delivered) {
      row.state = "delivered";
      row.deliveredAt = new Date(now).toISOString();
    } else if (o.failed) {
      row.state = "failed";
      row.failedAt = new Date(now).toISOString();
    } else row.nextAttemptAt = new Date(now + o.retryInMs).toISOString();
    return true;
  }

  async setOutboxEndpoint(endpoint: string, state: { disabled: boolean; reason?: string }): Promise<void> {
    checkEndpointName(endpoint);
    if (!state?.disabled) {
      this.#disabled.delete(endpoint);
      return;
    }
    const entry: DisabledEndpoint = { endpoint, disabledAt: new Date().toISOString() };
    if (state.reason !== undefined) entry.reason = state.reason;
    this.#disabled.set(endpoint, entry);
  }

  async disabledOutboxEndpoints(): Promise<DisabledEndpoint[]> {
    return structuredClone([...this.#disabled.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)));
  }

  async pruneOutbox(olderThan: Date): Promise<number> {
    const ms = checkDate(olderThan, "olderThan");
    let deleted = 0;
    for (const [id, r] of this.#outbox) {
      const settled = r.deliveredAt ?? r.failedAt;
      if (settled !== undefined && Date.parse(settled) < ms) {
        this.#outbox.delete(id);
        this.#outboxKeys.delete(JSON.stringify([r.endpoint, r.messageId]));
        deleted++;
      }
    }
    return deleted;
  }

  async listOutbox(filter: OutboxFilter = {}): Promise<OutboxRow[]> {
    const limit = outboxLimit(filter);
    return structuredClone(
      [...this.#outbox.values()]
        .filter(
          (r) =>
            (filter.endpoint === undefined || r.endpoint === filter.endpoint) &&
            (filter.threadId === undefined || r.threadId === filter.threadId) &&
            (filter.messageId === undefined || r.messageId === filter.messageId) &&
            (filter.state === undefined || r.state === filter.state),
        )
        .sort((a, b) => a.id - b.id)
        .slice(0, limit),
    );
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
