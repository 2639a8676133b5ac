import { createHash } from "node:crypto";
import type { Event } from "../thread/event.js";
import { requestFromPending } from "../thread/request.js";
import { isAnnotation, lastSubstantive } from "../thread/status.js";
import { annotationsOnly } from "./derive.js";
import { StoreInputError } from "./errors.js";
import { parseJson } from "./rows.js";
import type { SideRowsHook, StoreTransaction, ThreadStore, ThreadSummary } from "./types.js";

/**
 * The transactional outbox of outbound webhooks. A row per message and
 * endpoint is written in the same transaction as the event that causes it
 * (through an append's `sideRows` hook), so a crash between the commit and
 * the send loses nothing; a dispatcher claims due rows, sends them, and
 * settles each attempt. Rows hold the message, never a signature: each
 * attempt is signed when it is sent.
 */

/** What is sent, named like Standard Webhooks' `type` field. */
export type WebhookEventType =
  | "request.created"
  | "request.answered"
  | "thread.done"
  | "thread.failed"
  | "thread.cancelled";

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  "request.created",
  "request.answered",
  "thread.done",
  "thread.failed",
  "thread.cancelled",
];

/** A message as sent: the Standard Webhooks payload shape `{type, timestamp, data}`. */
export interface OutboxMessage {
  /** Stable per message (the `webhook-id` header): the same across attempts and endpoints. */
  id: string;
  type: WebhookEventType;
  threadId: string;
  payload: { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };
}

export type OutboxState = "pending" | "delivered" | "failed";

export interface OutboxRow {
  /** The row's id (insertion order). */
  id: number;
  endpoint: string;
  messageId: string;
  type: string;
  threadId: string;
  payload: unknown;
  state: OutboxState;
  /** Attempts settled so far. */
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  deliveredAt?: string;
  failedAt?: string;
  lastError?: string;
  /** HTTP status of the last settled attempt, when there was one. */
  lastStatus?: number;
  /** Set on rows returned by `claimOutbox`: settle with it. */
  claimToken?: string;
  claimedUntil?: string;
}

export interface ClaimOutboxOptions {
  /** How long the claim lasts: another process may claim the row again after it (a sender that died). */
  leaseMs: number;
  /** Default 10, at most 1000. */
  limit?: number;
  /** Only rows for these endpoints (the ones this process can send to). */
  endpoints?: readonly string[];
}

/** A claimed row, as `settleOutbox` needs it. */
export interface OutboxClaim {
  id: number;
  claimToken?: string;
}

export type OutboxOutcome =
  | { delivered: true; status?: number }
  | { retryInMs: number; error: string; status?: number }
  | { failed: true; error: string; status?: number };

export interface OutboxFilter {
  endpoint?: string;
  threadId?: string;
  messageId?: string;
  state?: OutboxState;
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface DisabledEndpoint {
  endpoint: string;
  disabledAt: string;
  reason?: string;
}

/** One endpoint the outbox writes rows for, and which event types it takes (default all). */
export interface OutboxEndpoint {
  name: string;
  events?: readonly WebhookEventType[];
  /** Only threads of these agents (default all). */
  agents?: readonly string[];
}

/** A row to insert (what the side-row writers take). */
export interface OutboxInsert {
  endpoint: string;
  messageId: string;
  type: WebhookEventType;
  threadId: string;
  payload: string;
}

function messageId(threadId: string, eventId: string, type: string): string {
  return `msg_${createHash("sha256")
    .update(JSON.stringify([threadId, eventId, type]))
    .digest("base64url")
    .slice(0, 27)}`;
}

const TERMINAL: Record<string, WebhookEventType> = {
  done: "thread.done",
  failed: "thread.failed",
  cancelled: "thread.cancelled",
};

/**
 * The messages an append causes, from the events it adds and the thread's
 * summary after it (both known inside the append's transaction):
 * - `request.answered` for each event that answers a request (`meta.requestId`);
 * - `request.created` when the thread now waits on a request: a pending
 *   request always derives from the batch's last event, so it is new
 *   (except `uncertain`, which a running handler's `_started` marker shows
 *   until its result is committed);
 * - `thread.done` / `thread.failed` / `thread.cancelled` when the batch ends the thread.
 * An annotation-only batch causes nothing.
 */
export function outboxMessages(events: readonly Event[], summary: ThreadSummary): OutboxMessage[] {
  if (events.length === 0 || annotationsOnly(events)) return [];
  const threadId = summary.id;
  const base = { threadId, agent: summary.agent };
  const out: OutboxMessage[] = [];
  const add = (eventId: string, type: WebhookEventType, at: string, data: Record<string, unknown>) => {
    out.push({
      id: messageId(threadId, eventId, type),
      type,
      threadId,
      payload: { type, timestamp: at, data: { ...base, ...data } },
    });
  };
  for (const e of events) {
    if (isAnnotation(e) || typeof e.meta?.requestId !== "string") continue;
    const data: Record<string, unknown> = { requestId: e.meta.requestId, eventId: e.id };
    if (e.meta.decision !== undefined) data.decision = e.meta.decision;
    if (e.meta.by !== undefined) data.by = e.meta.by;
    add(e.id, "request.answered", e.at, data);
  }
  const last = lastSubstantive(events);
  if (!last) return out;
  // An `uncertain` request derives from the `_started` marker the loop commits right before a handler
  // runs: at append time it is not a request yet (only a crash makes it one), so it is not announced.
  if (summary.pending && summary.pending.kind !== "uncertain") {
    const request = requestFromPending(threadId, summary.pending, last.at);
    add(request.eventId, "request.created", request.createdAt, { status: summary.status, request });
  }
  const terminal = TERMINAL[summary.status];
  if (terminal) {
    const data: Record<string, unknown> = { status: summary.status, eventId: last.id };
    const reason = (last.data as { reason?: unknown } | null)?.reason;
    if (typeof reason === "string") data.reason = reason;
    add(last.id, terminal, last.at, data);
  }
  return out;
}

/** The rows to insert for these messages, one per endpoint that takes the type. */
export function outboxInserts(
  messages: readonly OutboxMessage[],
  endpoints: readonly OutboxEndpoint[],
  agent?: string,
): OutboxInsert[] {
  const rows: OutboxInsert[] = [];
  for (const m of messages) {
    const payload = JSON.stringify(m.payload);
    for (const endpoint of endpoints) {
      if (endpoint.events && !endpoint.events.includes(m.type)) continue;
      if (endpoint.agents && (agent === undefined || !endpoint.agents.includes(agent))) continue;
      rows.push({ endpoint: endpoint.name, messageId: m.id, type: m.type, threadId: m.threadId, payload });
    }
  }
  return rows;
}

/** Writes outbox rows in an append's transaction, on whichever store it is. */
export function writeOutbox(tx: StoreTransaction, rows: readonly OutboxInsert[]): void | Promise<void> {
  if (rows.length === 0) return;
  switch (tx.kind) {
    case "sqlite": {
      const insert = tx.db.prepare(
        `INSERT OR IGNORE INTO twelve_outbox (endpoint, message_id, type, thread_id, payload, created_ms, next_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const now = Date.now();
      for (const r of rows) insert.run(r.endpoint, r.messageId, r.type, r.threadId, r.payload, now, now);
      return;
    }
    case "postgres": {
      const now = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
      return tx.client
        .query(
          `INSERT INTO "${tx.schema}".twelve_outbox (endpoint, message_id, type, thread_id, payload, created_ms, next_ms)
           SELECT x.e, x.m, x.t, x.th, x.p::json, ${now}, ${now}
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(e, m, t, th, p)
           ON CONFLICT (endpoint, message_id) DO NOTHING`,
          [
            rows.map((r) => r.endpoint),
            rows.map((r) => r.messageId),
            rows.map((r) => r.type),
            rows.map((r) => r.threadId),
            rows.map((r) => r.payload),
          ],
        )
        .then(() => {});
    }
    case "memory":
      tx.outbox.insert(rows);
      return;
  }
}

/** A sideRows hook writing the outbox rows of this batch, after the caller's own hook (if any). */
export function outboxHook(
  events: readonly Event[],
  endpoints: readonly OutboxEndpoint[],
  inner?: SideRowsHook,
): SideRowsHook {
  return (tx, summary) => {
    const write = () => writeOutbox(tx, outboxInserts(outboxMessages(events, summary), endpoints, summary.agent));
    const first = inner?.(tx, summary);
    if (first !== undefined && typeof (first as { then?: unknown }).then === "function") {
      return (first as Promise<void>).then(write);
    }
    return write();
  };
}

/**
 * The store, writing outbox rows for `endpoints` in the transaction of every
 * append made through it (composing with the caller's own `sideRows`). The
 * runtime wraps its store with this when webhooks are configured, so every
 * entry point that goes through the runtime feeds the outbox.
 */
export function withOutbox(store: ThreadStore, options: { endpoints: readonly OutboxEndpoint[] }): ThreadStore {
  const endpoints = checkEndpoints(options.endpoints);
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "append") {
        return (threadId: string, events: readonly Event[], appendOptions: Parameters<ThreadStore["append"]>[2]) =>
          // Most of the loop's batches (a handler's result, a `_started` marker) cause no message: they
          // keep the store's plain append (on PostgreSQL one statement instead of a transaction).
          !mayCauseMessages(events)
            ? target.append(threadId, events, appendOptions)
            : target.append(threadId, events, {
                ...appendOptions,
                sideRows: outboxHook(events, endpoints, appendOptions?.sideRows),
              });
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const ENDING_TYPES = new Set(["failed", "cancelled", "escalation"]);
const PAUSING_POLICIES = new Set(["approve", "human", "async", "done"]);

/**
 * False only for a batch that `outboxMessages` surely turns into nothing,
 * whatever the thread before it: no answer event, and a last substantive
 * event that can neither pause nor end the thread (threadState derives a
 * pending request or a finished status only from a pausing step, `failed`,
 * `cancelled` or `escalation`).
 */
export function mayCauseMessages(events: readonly Event[]): boolean {
  if (events.some((e) => !isAnnotation(e) && typeof e.meta?.requestId === "string")) return true;
  const last = lastSubstantive(events);
  if (!last) return false;
  if (ENDING_TYPES.has(last.type)) return true;
  return last.meta?.kind === "step" && PAUSING_POLICIES.has(String(last.meta.policy));
}

function checkEndpoints(endpoints: readonly OutboxEndpoint[]): OutboxEndpoint[] {
  if (!Array.isArray(endpoints)) throw new StoreInputError("invalid_input", "withOutbox needs an endpoints array");
  const seen = new Set<string>();
  for (const e of endpoints) {
    if (typeof e?.name !== "string" || e.name === "") {
      throw new StoreInputError("invalid_input", "every outbox endpoint needs a non-empty name");
    }
    if (seen.has(e.name)) throw new StoreInputError("invalid_input", `outbox endpoint "${e.name}" is listed twice`);
    seen.add(e.name);
    for (const t of e.events ?? []) {
      if (!WEBHOOK_EVENT_TYPES.includes(t)) {
        throw new StoreInputError(
          "invalid_input",
          `outbox endpoint "${e.name}": unknown event type "${t}" (known: ${WEBHOOK_EVENT_TYPES.join(", ")})`,
        );
      }
    }
  }
  return [...endpoints];
}

// ── Shared by the three stores ──────────────────────────────────────────────

export function checkClaim(options: ClaimOutboxOptions): { leaseMs: number; limit: number; endpoints?: string[] } {
  const leaseMs = options?.leaseMs;
  if (typeof leaseMs !== "number" || !Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new StoreInputError("invalid_input", `claimOutbox needs leaseMs > 0, got ${String(leaseMs)}`);
  }
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new StoreInputError("invalid_input", `claimOutbox limit must be an integer from 1 to 1000, got ${limit}`);
  }
  if (options.endpoints !== undefined && !Array.isArray(options.endpoints)) {
    throw new StoreInputError("invalid_input", "claimOutbox endpoints must be an array of endpoint names");
  }
  return options.endpoints ? { leaseMs, limit, endpoints: [...options.endpoints] } : { leaseMs, limit };
}

export function checkOutcome(claim: OutboxClaim, outcome: OutboxOutcome): void {
  if (!Number.isInteger(claim?.id) || typeof claim.claimToken !== "string") {
    throw new StoreInputError("invalid_input", "settleOutbox needs a row returned by claimOutbox (id and claimToken)");
  }
  const o = outcome as Record<string, unknown>;
  const ok =
    o?.delivered === true ||
    o?.failed === true ||
    (typeof o?.retryInMs === "number" && Number.isFinite(o.retryInMs) && o.retryInMs >= 0);
  if (!ok) {
    throw new StoreInputError(
      "invalid_input",
      "settleOutbox needs {delivered: true}, {retryInMs, error} or {failed: true, error}",
    );
  }
}

export function checkEndpointName(endpoint: unknown): asserts endpoint is string {
  if (typeof endpoint !== "string" || endpoint === "") {
    throw new StoreInputError("invalid_input", "an outbox endpoint name must be a non-empty string");
  }
}

export function outboxLimit(filter: OutboxFilter): number {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new StoreInputError("invalid_input", `listOutbox limit must be an integer from 1 to 1000, got ${limit}`);
  }
  return limit;
}

/** An outbox row as both SQL stores read it (PostgreSQL: bigints as strings, `payload::text`). */
export interface OutboxDbRow {
  seq: number | string;
  endpoint: string;
  message_id: string;
  type: string;
  thread_id: string;
  payload: string;
  created_ms: number | string;
  next_ms: number | string;
  attempts: number | string;
  claim_token: string | null;
  claim_until_ms: number | string | null;
  delivered_ms: number | string | null;
  failed_ms: number | string | null;
  last_error: string | null;
  last_status: number | string | null;
}

export const OUTBOX_COLUMNS =
  "seq, endpoint, message_id, type, thread_id, payload, created_ms, next_ms, attempts, claim_token, claim_until_ms, delivered_ms, failed_ms, last_error, last_status";

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export function rowToOutbox(row: OutboxDbRow): OutboxRow {
  const out: OutboxRow = {
    id: Number(row.seq),
    endpoint: row.endpoint,
    messageId: row.message_id,
    type: row.type,
    threadId: row.thread_id,
    payload: parseJson(row.payload, `outbox row ${row.seq}`, { seq: row.seq }),
    state: row.delivered_ms !== null ? "delivered" : row.failed_ms !== null ? "failed" : "pending",
    attempts: Number(row.attempts),
    createdAt: iso(row.created_ms),
    nextAttemptAt: iso(row.next_ms),
  };
  if (row.delivered_ms !== null) out.deliveredAt = iso(row.delivered_ms);
  if (row.failed_ms !== null) out.failedAt = iso(row.failed_ms);
  if (row.last_error !== null) out.lastError = row.last_error;
  if (row.last_status !== null) out.lastStatus = Number(row.last_status);
  if (row.claim_token !== null) out.claimToken = row.claim_token;
  if (row.claim_until_ms !== null) out.claimedUntil = iso(row.claim_until_ms);
  return out;
}

/** The column values an outcome sets: [delivered?, failed?, retry delay, error, status]. */
export function outcomeColumns(outcome: OutboxOutcome): {
  delivered: boolean;
  failed: boolean;
  retryInMs: number;
  error: string | null;
  status: number | null;
} {
  const o = outcome as { delivered?: true; failed?: true; retryInMs?: number; error?: string; status?: number };
  return {
    delivered: o.delivered === true,
    failed: o.failed === true,
    retryInMs: Math.max(0, Math.floor(o.retryInMs ?? 0)),
    error: typeof o.error === "string" ? o.error : null,
    status: typeof o.status === "number" ? o.status : null,
  };
}
