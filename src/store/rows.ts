import { TwelveError } from "../errors/index.js";
import type { Event } from "../thread/event.js";
import type { PendingRequest, ThreadStatus } from "../thread/status.js";
import { THREAD_STATUSES } from "../thread/status.js";
import { parseThread, type Thread } from "../thread/thread.js";
import { StoreCorruptError } from "./errors.js";
import type { ThreadSummary } from "./types.js";

/** A thread row as both SQL stores read it (PostgreSQL returns bigints as strings, jsonb as objects). */
export interface ThreadRow {
  id: string;
  agent: string;
  status: string;
  pending_kind: string | null;
  pending: string | object | null;
  version: number | string;
  schema_version: number | string;
  channel: string | null;
  parent_thread_id: string | null;
  parent_event_id: string | null;
  created_ms: number | string;
  updated_ms: number | string;
  archived_ms: number | string | null;
}

const STATUSES: ReadonlySet<string> = new Set(THREAD_STATUSES);

export function rowToSummary(row: ThreadRow): ThreadSummary {
  if (!STATUSES.has(row.status)) {
    throw new StoreCorruptError(`thread ${row.id}: stored status "${row.status}" is not a thread status`, {
      threadId: row.id,
    });
  }
  const summary: ThreadSummary = {
    id: row.id,
    agent: row.agent,
    status: row.status as ThreadStatus,
    version: Number(row.version),
    schemaVersion: Number(row.schema_version),
    createdAt: new Date(Number(row.created_ms)).toISOString(),
    updatedAt: new Date(Number(row.updated_ms)).toISOString(),
  };
  if (row.pending_kind) summary.pendingKind = row.pending_kind as PendingRequest["kind"];
  if (row.pending !== null && row.pending !== undefined) {
    summary.pending = (
      typeof row.pending === "string"
        ? parseJson(row.pending, `thread ${row.id}: pending request`, { threadId: row.id })
        : row.pending
    ) as PendingRequest;
  }
  if (row.channel) summary.channel = row.channel;
  if (row.parent_thread_id && row.parent_event_id) {
    summary.parent = { threadId: row.parent_thread_id, eventId: row.parent_event_id };
  }
  if (row.archived_ms !== null && row.archived_ms !== undefined) {
    summary.archivedAt = new Date(Number(row.archived_ms)).toISOString();
  }
  return summary;
}

export function parseJson(text: string, what: string, details: Record<string, unknown>): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StoreCorruptError(
      `${what} is not valid JSON (${(error as Error).message}); the store is damaged`,
      details,
      error,
    );
  }
}

/** An event row as both SQL stores read it: the columns of store schema 3 (`at_ms` is null in older rows). */
export interface EventRow {
  seq: number | string;
  id: string;
  type: string;
  at_ms: number | string | null;
  /** JSON text (SQLite) or already parsed (PostgreSQL jsonb). */
  body: unknown;
}

/** An event as store schema 3 writes it: `id` and `type` in their own columns, so not in `body`. */
export interface EncodedEvent {
  /**
   * `[data]` or `[data, meta]` when the event has only the standard fields and
   * its `at` round-trips through `atMs`; otherwise the event without `id` and
   * `type` as a JSON object (keeping `at` as written).
   */
  body: string;
  /** `at` as epoch milliseconds when `new Date(atMs).toISOString() === at`; else null. */
  atMs: number | null;
}

const STANDARD_KEYS = new Set(["id", "type", "data", "at", "meta"]);

/** Whether JSON keeps this value as it is inside an array (it would drop or turn it to null otherwise). */
const jsonKeeps = (v: unknown) => v !== undefined && typeof v !== "function" && typeof v !== "symbol";

export function encodeEvent(e: Event): EncodedEvent {
  const ms = Date.parse(e.at);
  const atMs = Number.isFinite(ms) && new Date(ms).toISOString() === e.at ? ms : null;
  if (atMs !== null && jsonKeeps(e.data) && (e.meta === undefined || jsonKeeps(e.meta))) {
    let standard = true;
    for (const k in e) {
      if (!STANDARD_KEYS.has(k) && Object.hasOwn(e, k)) {
        standard = false;
        break;
      }
    }
    if (standard) return { body: JSON.stringify(e.meta === undefined ? [e.data] : [e.data, e.meta]), atMs };
  }
  const { id: _id, type: _type, ...rest } = e;
  return { body: JSON.stringify(rest), atMs: null };
}

/**
 * The event a row holds. Rows of store schema 1–2 (and schema 3's object
 * form) keep the whole event in `body`; what the body says wins, exactly as
 * those versions loaded it.
 */
export function decodeEvent(row: EventRow, threadId: string): Event {
  const seq = Number(row.seq);
  const body = typeof row.body === "string" ? parseEventBody(row.body, threadId, seq) : row.body;
  if (Array.isArray(body)) {
    if ((body.length !== 1 && body.length !== 2) || row.at_ms === null) {
      throw new StoreCorruptError(
        `thread ${threadId}: event #${seq} has an unreadable compact body; the store is damaged`,
        {
          threadId,
          seq,
        },
      );
    }
    const event: Event = { id: row.id, type: row.type, data: body[0], at: new Date(Number(row.at_ms)).toISOString() };
    if (body.length === 2) event.meta = body[1];
    return event;
  }
  return { id: row.id, type: row.type, ...(body as object) } as Event;
}

/**
 * Rebuilds a thread from its row and event rows (ordered by seq), checking
 * that nothing is missing, then upgrades older schema versions with parseThread.
 */
export function assembleThread(row: ThreadRow, eventRows: ReadonlyArray<EventRow>): Thread {
  const version = Number(row.version);
  const details = { threadId: row.id, version, eventRows: eventRows.length };
  if (eventRows.length !== version) {
    throw new StoreCorruptError(
      `thread ${row.id}: the store says it has ${version} events but ${eventRows.length} were found; the store is damaged`,
      details,
    );
  }
  const events: unknown[] = [];
  for (const [i, r] of eventRows.entries()) {
    if (Number(r.seq) !== i + 1) {
      throw new StoreCorruptError(`thread ${row.id}: event #${i + 1} is missing; the store is damaged`, details);
    }
    events.push(decodeEvent(r, row.id));
  }
  const raw: Record<string, unknown> = {
    id: row.id,
    agent: row.agent,
    schemaVersion: Number(row.schema_version),
    events,
  };
  if (row.parent_thread_id && row.parent_event_id) {
    raw.parent = { threadId: row.parent_thread_id, eventId: row.parent_event_id };
  }
  try {
    return parseThread(raw);
  } catch (error) {
    if (error instanceof TwelveError) {
      const path = typeof error.details?.path === "string" ? ` (at ${error.details.path})` : "";
      throw new StoreCorruptError(
        `thread ${row.id} as stored is not a valid thread: ${error.message}${path}`,
        { ...details, path: error.details?.path },
        error,
      );
    }
    throw error;
  }
}

export function parseEventBody(body: unknown, threadId: string, seq: number): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    // Re-parse only on failure, to build the error with its position (keeps the hot path lean).
    return parseJson(body, `thread ${threadId}: event #${seq}`, { threadId, seq });
  }
}
