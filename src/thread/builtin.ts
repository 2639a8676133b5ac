import { z } from "zod";
import { TwelveError } from "../errors/index.js";
import type { Event } from "./event.js";

/**
 * The events with a fixed meaning to twelve, each a type name and a zod
 * schema of its data, declared once. Readers (`approvalEvent.read(e)`)
 * validate stored data instead of casting it, so a hand-edited thread with a
 * wrong shape reads as "not that event" rather than as garbage.
 */

/** An event type of your own (or a built-in): its name, its data's schema, a constructor and typed readers. */
export interface EventType<T extends string, S extends z.ZodType> {
  readonly type: T;
  readonly schema: S;
  /** The `{type, data, meta?}` to append or to start a thread with (data checked against the schema). */
  create(data: z.input<S>, meta?: Event["meta"]): { type: T; data: z.output<S>; meta?: Event["meta"] };
  /** Whether the event is of this type with data matching the schema. */
  is(event: Event | undefined): event is Event<T, z.output<S>>;
  /** The event's data when it is of this type and matches the schema, else undefined. */
  read(event: Event | undefined): z.output<S> | undefined;
}

export function defineEvent<T extends string, S extends z.ZodType>(type: T, schema: S): EventType<T, S> {
  const read = (event: Event | undefined): z.output<S> | undefined => {
    if (event?.type !== type) return undefined;
    const parsed = schema.safeParse(event.data);
    return parsed.success ? parsed.data : undefined;
  };
  return {
    type,
    schema,
    create: (data, meta) => {
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "data"}: ${i.message}`);
        throw new TwelveError("invalid_event", `"${type}" event data is invalid: ${issues.join("; ")}`, {
          type,
          issues,
        });
      }
      return { type, data: parsed.data, ...(meta && { meta }) };
    },
    is: (event): event is Event<T, z.output<S>> => read(event) !== undefined,
    read,
  };
}

// The `<intent>_result` / `<intent>_started` naming convention, in one place.
const RESULT_SUFFIX = "_result";
const STARTED_SUFFIX = "_started";

/** The type of the event recording what an intent's handler (or the outside world) returned. */
export const resultType = (intent: string): string => `${intent}${RESULT_SUFFIX}`;
/** The type of the marker written just before an intent's handler runs. */
export const startedType = (intent: string): string => `${intent}${STARTED_SUFFIX}`;
/** `add_result` → `add`; undefined for a type that is not a result's. */
export const intentOfResult = (type: string): string | undefined =>
  type.endsWith(RESULT_SUFFIX) && type.length > RESULT_SUFFIX.length ? type.slice(0, -RESULT_SUFFIX.length) : undefined;
/** `add_started` → `add`; undefined for a type that is not a started marker's. */
export const intentOfStarted = (type: string): string | undefined =>
  type.endsWith(STARTED_SUFFIX) && type.length > STARTED_SUFFIX.length
    ? type.slice(0, -STARTED_SUFFIX.length)
    : undefined;

const args = z.record(z.string(), z.unknown());

/** A person's message: the usual first event of a thread. */
export const userMessageEvent = defineEvent("user_message", z.string());

/** A decision on an approval: approved (maybe with edited arguments) or rejected with feedback. */
export const approvalEvent = defineEvent(
  "approval",
  z.looseObject({ approved: z.boolean(), feedback: z.string().optional(), arguments: args.optional() }),
);

/** A person's answer to a question (`request_human_input` or an escalation). */
export const humanResponseEvent = defineEvent("human_response", z.looseObject({ response: z.unknown() }));

/** A compact error the model reads next (factor 9): a model, parse, hook or handler failure. */
export const errorEvent = defineEvent(
  "error",
  z.looseObject({
    kind: z.string().optional(),
    message: z.string(),
    intent: z.string().optional(),
    hook: z.string().optional(),
  }),
);

/** Too many errors in a row: the loop asks a human how to proceed. */
export const escalationEvent = defineEvent(
  "escalation",
  z.looseObject({ question: z.string(), reason: z.string().optional(), errors: z.array(z.unknown()).optional() }),
);

/** A terminal failure (step budget, too many errors). */
export const failedEvent = defineEvent(
  "failed",
  z.looseObject({ reason: z.string(), message: z.string().optional(), errors: z.array(z.unknown()).optional() }),
);

/** A thread stopped by a cancel at a step boundary: terminal (docs/runtime.md, "Cancel"). */
export const cancelledEvent = defineEvent("cancelled", z.looseObject({ reason: z.string() }));

/** A cancel that must wait for a running handler or an uncertain request: an annotation the loop honours. */
export const cancelRequestedEvent = defineEvent("cancel_requested", z.looseObject({ reason: z.string() }));

export const BUILTIN_EVENTS = {
  user_message: userMessageEvent,
  approval: approvalEvent,
  human_response: humanResponseEvent,
  error: errorEvent,
  escalation: escalationEvent,
  failed: failedEvent,
  cancelled: cancelledEvent,
  cancel_requested: cancelRequestedEvent,
} as const;

export type BuiltinEventType = keyof typeof BUILTIN_EVENTS;
export type BuiltinEventData<K extends BuiltinEventType> = z.output<(typeof BUILTIN_EVENTS)[K]["schema"]>;

/** The built-in events as a union discriminated by `type`. */
export type BuiltinEvent = { [K in BuiltinEventType]: Event<K, BuiltinEventData<K>> }[BuiltinEventType];

/** Event types with a fixed meaning to twelve. Everything else is a trigger, a step or a result. */
export const SYSTEM_EVENT_TYPES: ReadonlySet<string> = new Set(
  Object.keys(BUILTIN_EVENTS).filter((type) => type !== userMessageEvent.type),
);

/** The built-in events a person's answer to a request becomes (besides results). */
export const ANSWER_EVENT_TYPES: ReadonlySet<string> = new Set([approvalEvent.type, humanResponseEvent.type]);

/** A step's data: the intent the model chose and its arguments. */
export const stepDataSchema = z.looseObject({ intent: z.string() });
/** A `_started` marker's data: the arguments the handler runs with. */
export const startedDataSchema = z.looseObject({ arguments: args });

/** The arguments of a step event (its data without the `intent` key); `{}` when the data is not an object. */
export function stepArguments(step: Event): Record<string, unknown> {
  const data = step.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return {};
  const { intent: _intent, ...rest } = data as Record<string, unknown>;
  return rest;
}

/** The arguments a `_started` marker recorded, if it recorded any. */
export function startedArguments(started: Event): Record<string, unknown> | undefined {
  const parsed = startedDataSchema.safeParse(started.data);
  return parsed.success ? parsed.data.arguments : undefined;
}
