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
  [key: string]: unknown;
}

export type PolicyName = "run" | "approve" | "human" | "async" | "done";

/** Event types with a fixed meaning to twelve. Everything else is a trigger or a step. */
export const SYSTEM_EVENT_TYPES = new Set(["error", "approval", "human_response", "escalation", "failed"]);

/** Injectable sources of ids and time, so tests are deterministic. */
export interface Runtime {
  newId: () => string;
  now: () => Date;
}

export const defaultRuntime: Runtime = {
  newId: () => `evt_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
  now: () => new Date(),
};

/** A runtime with counter ids and a fixed, advancing clock: for tests and golden files. */
export function deterministicRuntime(start = "2025-01-01T00:00:00.000Z", prefix = "evt"): Runtime {
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

export function makeEvent<T extends string, D>(runtime: Runtime, type: T, data: D, meta?: EventMeta): Event<T, D> {
  const event: Event<T, D> = { id: runtime.newId(), type, data, at: runtime.now().toISOString() };
  if (meta && Object.keys(meta).length > 0) event.meta = meta;
  return event;
}
