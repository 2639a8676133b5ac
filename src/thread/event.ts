/**
 * An event is one line of a thread's history. `type` is the tag the model
 * sees (`user_message`, `<intent>`, `<intent>_result`, `error`, …); `meta`
 * holds what must be kept but never shown to the model.
 */
export interface Event<T extends string = string, D = unknown> {
  id: string;
  type: T;
  data: D;
  /** ISO-8601 timestamp. */
  at: string;
  meta?: EventMeta;
}

export type EventKind =
  /** The model's chosen next step; `type` is the intent name. */
  | "step"
  /** Durable marker written just before a handler runs (exactly-once). */
  | "started"
  /** What a handler (or an external system) returned. */
  | "result";

export interface EventMeta {
  kind?: EventKind;
  /** On step events: the policy in force when the step was chosen. */
  policy?: PolicyName;
  /** On step/started events: the intent name. */
  intent?: string;
  /** On started events: whether re-running after a crash is safe. */
  idempotent?: boolean;
  /** On result/started/approval events: the step event this answers. */
  stepId?: string;
  /** Set on events added by a prefetch hook. */
  prefetch?: boolean;
  idempotencyKey?: string;
  /** Who answered or acted (legacy files hold a plain string; read it with `readBy`). */
  by?: By | string;
  /** On answer events: the human request this event answers (see thread/request.ts). */
  requestId?: string;
  /** On answer events: the decision taken. */
  decision?: string;
  /** On answer events: the digest of the arguments the human was shown. */
  digest?: string;
  /**
   * Marks an annotation: recorded on the thread (a delivery, a refused
   * answer, a reminder, a note) but never changing its status, next action
   * or default context, and never making a running loop's commit fail.
   */
  annotation?: boolean;
  [key: string]: unknown;
}

export type PolicyName = "run" | "approve" | "human" | "async" | "done";

/** Where an action came from: the entry point a person (or the system) used. */
export type Via = "cli" | "api" | "inbox" | "link" | "slack" | "email" | "webhook" | "timer" | "system";

export const VIAS: readonly Via[] = ["cli", "api", "inbox", "link", "slack", "email", "webhook", "timer", "system"];

/** Who answered or acted, kept in event meta as `by`. */
export interface By {
  id: string;
  via: Via;
}

/**
 * Reads `meta.by` as a `By`: the shape above, or a legacy string written by
 * older versions (`"cli"`, `"cli --yes"`, `"stdin"`, `"terminal"`) read as
 * an answer given through the CLI.
 */
export function readBy(value: unknown): By | undefined {
  if (typeof value === "string" && value !== "") {
    const legacy: Record<string, By> = {
      cli: { id: "cli", via: "cli" },
      "cli --yes": { id: "cli --yes", via: "cli" },
      stdin: { id: "stdin", via: "cli" },
      terminal: { id: "terminal", via: "cli" },
    };
    return legacy[value] ?? { id: value, via: "api" };
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string" || !VIAS.includes(v.via as Via)) return undefined;
  return { id: v.id, via: v.via as Via };
}

/** Event types with a fixed meaning to twelve. Everything else is a trigger or a step. */
export const SYSTEM_EVENT_TYPES = new Set([
  "error",
  "approval",
  "human_response",
  "escalation",
  "failed",
  "cancelled",
  "cancel_requested",
]);

/** Injectable sources of ids and time, so tests are deterministic. */
export interface Clock {
  newId: () => string;
  now: () => Date;
}

/** @deprecated renamed `Clock`: "runtime" now means the `runtime/` layer every entry point goes through. */
export type Runtime = Clock;

export const defaultClock: Clock = {
  newId: () => `evt_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
  now: () => new Date(),
};

/** @deprecated renamed `defaultClock`. */
export const defaultRuntime: Clock = defaultClock;

/** A clock with counter ids and a fixed, advancing time: for tests and golden files. */
export function deterministicClock(start = "2025-01-01T00:00:00.000Z", prefix = "evt"): Clock {
  let n = 0;
  let t = Date.parse(start);
  return {
    newId: () => `${prefix}_${String(++n).padStart(4, "0")}`,
    now: () => {
      t += 1000;
      return new Date(t);
    },
  };
}

/** @deprecated renamed `deterministicClock`. */
export const deterministicRuntime = deterministicClock;

export function makeEvent<T extends string, D>(runtime: Clock, type: T, data: D, meta?: EventMeta): Event<T, D> {
  const event: Event<T, D> = { id: runtime.newId(), type, data, at: runtime.now().toISOString() };
  if (meta && Object.keys(meta).length > 0) event.meta = meta;
  return event;
}
