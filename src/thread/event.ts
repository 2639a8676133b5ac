import type { BuiltinEventData, BuiltinEventType } from "./builtin.js";
/**
 * An event is one line of a thread's history. `type` is the tag the model
 * sees (`user_message`, `<intent>`, `<intent>_result`, `error`, …); `meta`
 * holds what must be kept but never shown to the model.
 */
import { type By, bySchema, type EventMeta } from "./meta.js";

export interface Event<T extends string = string, D = unknown> {
  id: string;
  type: T;
  data: D;
  /** ISO-8601 timestamp. */
  at: string;
  meta?: EventMeta;
}

export {
  type By,
  bySchema,
  EVENT_KINDS,
  type EventKind,
  type EventMeta,
  eventMetaSchema,
  eventMetaShape,
  META_KEYS,
  POLICY_NAMES,
  type PolicyName,
  VIAS,
  type Via,
} from "./meta.js";

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
  const parsed = bySchema.safeParse(value);
  return parsed.success ? { id: parsed.data.id, via: parsed.data.via } : undefined;
}

export { SYSTEM_EVENT_TYPES } from "./builtin.js";

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

/** The data an event of type `T` holds: a built-in type's schema output, else whatever `D` is. */
export type EventData<T extends string, D> = T extends BuiltinEventType ? BuiltinEventData<T> : D;

/** Makes an event; for a built-in type (`approval`, `error`, …) the data must fit that type's schema. */
export function makeEvent<T extends string, D>(
  runtime: Clock,
  type: T,
  data: EventData<T, D>,
  meta?: EventMeta,
): Event<T, EventData<T, D>> {
  const event: Event<T, EventData<T, D>> = { id: runtime.newId(), type, data, at: runtime.now().toISOString() };
  if (meta && Object.keys(meta).length > 0) event.meta = meta;
  return event;
}
