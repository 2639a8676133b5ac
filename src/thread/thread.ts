import { InvalidThreadError } from "../errors/index.js";
import { defaultRuntime, type Event, type Runtime } from "./event.js";

export const THREAD_SCHEMA_VERSION = 1;

/**
 * A thread is the only state of an agent run: plain JSON a person can read,
 * diff and hand-edit. `version` is the number of events, so a store can use
 * it for optimistic concurrency without a separate counter.
 */
export interface Thread {
  id: string;
  agent: string;
  events: Event[];
  version: number;
  schemaVersion: number;
  parent?: { threadId: string; eventId: string };
}

export function createThread(
  agent: string,
  events: Event[] = [],
  options: { id?: string; runtime?: Runtime } = {},
): Thread {
  const runtime = options.runtime ?? defaultRuntime;
  const id = options.id ?? `thr_${runtime.newId().replace(/^evt_/, "")}`;
  return { id, agent, events: [...events], version: events.length, schemaVersion: THREAD_SCHEMA_VERSION };
}

/** Returns a new thread with the events appended; never mutates the input. */
export function appendEvents(thread: Thread, events: readonly Event[]): Thread {
  if (events.length === 0) return thread;
  return { ...thread, events: [...thread.events, ...events], version: thread.version + events.length };
}

/** A new thread holding a copy of `thread`'s events up to and including `atEventId`. */
export function fork(thread: Thread, atEventId: string, options: { id?: string; runtime?: Runtime } = {}): Thread {
  const index = thread.events.findIndex((e) => e.id === atEventId);
  if (index < 0) {
    throw new InvalidThreadError(`cannot fork thread ${thread.id}: it has no event with id "${atEventId}"`, {
      threadId: thread.id,
      eventId: atEventId,
    });
  }
  const forked = createThread(thread.agent, structuredClone(thread.events.slice(0, index + 1)), options);
  forked.parent = { threadId: thread.id, eventId: atEventId };
  return forked;
}

/**
 * Checks that an unknown value (a parsed file, a request body) is a thread,
 * and upgrades older schema versions. Throws InvalidThreadError naming the
 * first problem found.
 */
export function parseThread(value: unknown): Thread {
  const fail = (why: string, path?: string): never => {
    throw new InvalidThreadError(`invalid thread: ${why}`, path ? { path } : undefined);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("expected a JSON object");
  const raw = value as Record<string, unknown>;
  if (typeof raw.id !== "string" || raw.id === "") fail('"id" must be a non-empty string', "id");
  if (typeof raw.agent !== "string") fail('"agent" must be a string', "agent");
  if (!Array.isArray(raw.events)) fail('"events" must be an array', "events");
  const schemaVersion = raw.schemaVersion === undefined ? 0 : raw.schemaVersion;
  if (typeof schemaVersion !== "number" || !Number.isInteger(schemaVersion)) {
    fail('"schemaVersion" must be an integer', "schemaVersion");
  }
  if ((schemaVersion as number) > THREAD_SCHEMA_VERSION) {
    fail(
      `schemaVersion ${schemaVersion} is newer than this version of twelve understands (${THREAD_SCHEMA_VERSION}); upgrade twelve`,
      "schemaVersion",
    );
  }
  const events = (raw.events as unknown[]).map((e, i) => parseEvent(e, `events[${i}]`, fail));
  const seen = new Set<string>();
  for (const [i, e] of events.entries()) {
    if (seen.has(e.id)) fail(`duplicate event id "${e.id}"`, `events[${i}].id`);
    seen.add(e.id);
  }
  const thread: Thread = {
    id: raw.id as string,
    agent: raw.agent as string,
    events,
    version: events.length,
    schemaVersion: THREAD_SCHEMA_VERSION,
  };
  if (raw.parent !== undefined) {
    const p = raw.parent as Record<string, unknown>;
    if (typeof p !== "object" || p === null || typeof p.threadId !== "string" || typeof p.eventId !== "string") {
      fail('"parent" must be {threadId, eventId}', "parent");
    }
    thread.parent = { threadId: p.threadId as string, eventId: p.eventId as string };
  }
  return thread;
}

function parseEvent(value: unknown, path: string, fail: (why: string, path?: string) => never): Event {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("expected an object", path);
  const e = value as Record<string, unknown>;
  if (typeof e.id !== "string" || e.id === "") fail('"id" must be a non-empty string', `${path}.id`);
  if (typeof e.type !== "string" || !/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(e.type)) {
    fail('"type" must be a tag name (letters, digits, _ . : -)', `${path}.type`);
  }
  // Version 0 threads (before schemaVersion existed) used `timestamp`.
  const at = e.at ?? e.timestamp;
  if (typeof at !== "string" || Number.isNaN(Date.parse(at))) fail('"at" must be an ISO-8601 time', `${path}.at`);
  if (e.meta !== undefined && (typeof e.meta !== "object" || e.meta === null || Array.isArray(e.meta))) {
    fail('"meta" must be an object', `${path}.meta`);
  }
  const event: Event = { id: e.id as string, type: e.type as string, data: e.data ?? null, at: at as string };
  if (e.meta) event.meta = e.meta as Event["meta"];
  return event;
}
