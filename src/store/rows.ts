import { TwelveError } from "../errors/index.js";
import type { Event } from "../thread/event.js";
import type { PendingRequest, ThreadStatus } from "../thread/status.js";
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

const STATUSES = new Set(["running", "awaiting_approval", "awaiting_human", "waiting", "done", "failed"]);

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

/**
 * Rebuilds a thread from its row and event bodies (ordered by seq), checking
 * that nothing is missing, then upgrades older schema versions with parseThread.
 */
export function assembleThread(row: ThreadRow, bodies: ReadonlyArray<{ seq: number | string; body: unknown }>): Thread {
  const version = Number(row.version);
  const details = { threadId: row.id, version, eventRows: bodies.length };
  if (bodies.length !== version) {
    throw new StoreCorruptError(
      `thread ${row.id}: the store says it has ${version} events but ${bodies.length} were found; the store is damaged`,
      details,
    );
  }
  const events: unknown[] = [];
  for (const [i, b] of bodies.entries()) {
    if (Number(b.seq) !== i + 1) {
      throw new StoreCorruptError(`thread ${row.id}: event #${i + 1} is missing; the store is damaged`, details);
    }
    events.push(typeof b.body === "string" ? parseEventBody(b.body, row.id, i + 1) : b.body);
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

export function parseEventBody(body: unknown, threadId: string, seq: number): Event {
  if (typeof body !== "string") return body as Event;
  try {
    return JSON.parse(body) as Event;
  } catch {
    // Re-parse only on failure, to build the error with its position (keeps the hot path lean).
    return parseJson(body, `thread ${threadId}: event #${seq}`, { threadId, seq }) as Event;
  }
}
