import type { Event } from "../thread/event.js";
import {
  isAnnotation,
  lastSubstantive,
  type PendingRequest,
  type ThreadStatus,
  threadState,
} from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import { StoreInputError } from "./errors.js";

/** The columns every store derives from a thread's events when it writes them. */
export interface DerivedColumns {
  status: ThreadStatus;
  pendingKind: PendingRequest["kind"] | null;
  pending: PendingRequest | null;
  channel: string | null;
}

/**
 * A channel reference as stored and filtered on. Triggers put it in
 * `meta.channel`: either a string (`slack:C123/1700000000.1`) or an object
 * with a string `ref`, or `{kind, id}` → `kind:id`.
 */
export function channelRef(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.ref === "string" && v.ref !== "") return v.ref;
  if (typeof v.kind === "string" && (typeof v.id === "string" || typeof v.id === "number")) return `${v.kind}:${v.id}`;
  return null;
}

/** The first event carrying a channel reference names the thread's channel. */
export function firstChannel(events: readonly Event[]): string | null {
  for (const e of events) {
    const ref = channelRef(e.meta?.channel);
    if (ref) return ref;
  }
  return null;
}

export function deriveColumns(thread: Thread, knownChannel: string | null = null): DerivedColumns {
  const state = threadState(thread);
  return {
    status: state.status,
    pendingKind: state.pending?.kind ?? null,
    pending: state.pending ?? null,
    channel: knownChannel ?? firstChannel(thread.events),
  };
}

/**
 * The smallest thread `threadState()` needs to classify a thread after an
 * append: the new events, plus the step event the last one refers to when
 * that step is older. threadState reads only the tail and that step, so a
 * store need not load a long thread to keep its status column right (the
 * contract suite checks stored status against threadState of the full thread).
 */
export function stateTail(
  thread: Pick<Thread, "id" | "agent" | "schemaVersion">,
  added: readonly Event[],
  referenced?: Event,
): Thread {
  const events = referenced ? [referenced, ...added] : [...added];
  return { id: thread.id, agent: thread.agent, schemaVersion: thread.schemaVersion, events, version: events.length };
}

/** True when a batch holds only annotations: the thread's derived columns stay as they are. */
export function annotationsOnly(added: readonly Event[]): boolean {
  return added.length > 0 && added.every(isAnnotation);
}

/** Id of the older step event the batch's last (non-annotation) event refers to, if it is not in the batch. */
export function referencedStepId(added: readonly Event[]): string | undefined {
  const stepId = lastSubstantive(added)?.meta?.stepId;
  if (typeof stepId !== "string") return undefined;
  return added.some((e) => e.id === stepId) ? undefined : stepId;
}

const TYPE = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

/** Checks events before they are stored, so a bad event fails the append instead of breaking later loads. */
export function validateEvents(events: readonly Event[], existingIds: ReadonlySet<string> = new Set()): void {
  const seen = new Set<string>();
  for (const [i, e] of events.entries()) {
    const where = `events[${i}]`;
    if (typeof e !== "object" || e === null) throw new StoreInputError("invalid_event", `${where} is not an object`);
    if (typeof e.id !== "string" || e.id === "") {
      throw new StoreInputError("invalid_event", `${where}.id must be a non-empty string`, { index: i });
    }
    if (typeof e.type !== "string" || !TYPE.test(e.type)) {
      throw new StoreInputError("invalid_event", `${where}.type must be a tag name, got ${JSON.stringify(e.type)}`, {
        index: i,
      });
    }
    if (typeof e.at !== "string" || Number.isNaN(Date.parse(e.at))) {
      throw new StoreInputError("invalid_event", `${where}.at must be an ISO-8601 time`, { index: i, id: e.id });
    }
    if (seen.has(e.id) || existingIds.has(e.id)) {
      throw new StoreInputError("invalid_event", `${where}: the thread already has an event with id "${e.id}"`, {
        index: i,
        id: e.id,
      });
    }
    seen.add(e.id);
  }
}

export function validateExpectedVersion(expectedVersion: unknown): asserts expectedVersion is number {
  if (typeof expectedVersion !== "number" || !Number.isInteger(expectedVersion) || expectedVersion < 0) {
    throw new StoreInputError(
      "invalid_event",
      `append needs {expectedVersion}: a non-negative integer (the version the events were based on), got ${String(expectedVersion)}`,
    );
  }
}

/** Serializes an event for storage: `undefined` fields dropped, exactly what JSON keeps. */
export function eventJson(e: Event): string {
  return JSON.stringify(e);
}

export function toMillis(value: Date | string, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreInputError("invalid_input", `${name} must be a date or ISO-8601 time`);
  return ms;
}

export function randomToken(): string {
  return globalThis.crypto.randomUUID();
}
