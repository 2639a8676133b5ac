import { z } from "zod";
import {
  approvalEvent,
  cancelledEvent,
  errorEvent,
  escalationEvent,
  failedEvent,
  intentOfResult,
  intentOfStarted,
  resultType,
  startedArguments,
  stepArguments,
} from "./builtin.js";
import type { Event } from "./event.js";
import type { Thread } from "./thread.js";

/**
 * Every status a thread can have, derived from its events. `cancelled`: stopped
 * by a cancel (`cancelled` event) at a step boundary; see docs/runtime.md.
 */
export const THREAD_STATUSES = [
  "running",
  "awaiting_approval",
  "awaiting_human",
  "waiting",
  "done",
  "failed",
  "cancelled",
] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

/** The statuses in which a thread waits for someone (a human or an outside system). */
export const PAUSED_STATUSES = [
  "awaiting_approval",
  "awaiting_human",
  "waiting",
] as const satisfies readonly ThreadStatus[];

/** Exactly what a paused thread waits for; derived from events, never stored. */
export type PendingRequest = (
  | { kind: "approval"; stepId: string; intent: string; arguments: Record<string, unknown> }
  /** `intent` is absent for the loop's own escalation question (too many errors). */
  | {
      kind: "question";
      stepId: string;
      question: string;
      format: HumanInputFormat;
      choices?: string[];
      intent?: string;
    }
  | { kind: "async"; stepId: string; intent: string; resultType: string }
  /** A non-idempotent handler was started but no result was recorded (crash): a human decides. */
  | {
      kind: "uncertain";
      stepId: string;
      startedId: string;
      intent: string;
      arguments: Record<string, unknown>;
    }
) & {
  /** When the event the request derives from was written (absent in rows stored before it was kept). */
  at?: string;
};

/** The kinds of human request, one enum for code, store columns and docs. */
export type RequestKind = PendingRequest["kind"];

/** The kinds of human request, as a list (store columns, CLI and HTTP filters). */
export const REQUEST_KINDS = ["approval", "question", "async", "uncertain"] as const satisfies readonly RequestKind[];

export const HUMAN_INPUT_FORMATS = ["free_text", "yes_no", "multiple_choice"] as const;
export type HumanInputFormat = (typeof HUMAN_INPUT_FORMATS)[number];

/** A `request_human_input` step's data, as far as the status needs it. */
const questionStepSchema = z.looseObject({
  question: z.unknown().optional(),
  options: z
    .looseObject({ format: z.enum(HUMAN_INPUT_FORMATS).optional(), choices: z.array(z.unknown()).optional() })
    .optional(),
});

/** What the runner must do next on a `running` thread. */
export type NextAction =
  | { kind: "call_model" }
  /** Execute a step's handler (fresh run policy, approved step, or idempotent recovery). */
  | { kind: "execute"; stepId: string; intent: string; arguments: Record<string, unknown>; recovery: boolean };

export interface ThreadState {
  status: ThreadStatus;
  pending?: PendingRequest;
  next?: NextAction;
  /** Reason for `failed` / `done` when known. */
  reason?: string;
}

export { stepArguments } from "./builtin.js";

/** An annotation (`meta.annotation`: a delivery, a reminder, a note) never changes what a thread is doing. */
export function isAnnotation(event: Event | undefined): boolean {
  return event?.meta?.annotation === true;
}

/** The last event that is not an annotation: the one a thread's state derives from. */
export function lastSubstantive(events: readonly Event[]): Event | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (!isAnnotation(events[i])) return events[i];
  return undefined;
}

function findEvent(thread: Thread, id: string | undefined): Event | undefined {
  if (!id) return undefined;
  for (let i = thread.events.length - 1; i >= 0; i--) if (thread.events[i]?.id === id) return thread.events[i];
  return undefined;
}

/**
 * Derives status, the pending request and the next action from the events.
 * Only the tail matters: the thread is a log, and each event type says what
 * the thread is waiting for once it is last.
 */
export function threadState(thread: Thread): ThreadState {
  const last = lastSubstantive(thread.events);
  if (!last) return { status: "running", next: { kind: "call_model" } };
  const meta = last.meta ?? {};

  if (meta.kind === "step") {
    const intent = meta.intent ?? last.type;
    const args = stepArguments(last);
    switch (meta.policy) {
      case "approve":
        return {
          status: "awaiting_approval",
          pending: { kind: "approval", stepId: last.id, intent, arguments: args, at: last.at },
        };
      case "human": {
        const question = questionStepSchema.safeParse(last.data);
        const data = question.success ? question.data : {};
        const pending: PendingRequest = {
          kind: "question",
          stepId: last.id,
          question: String(data.question ?? ""),
          format: data.options?.format ?? "free_text",
          intent,
          at: last.at,
        };
        if (data.options?.choices) pending.choices = data.options.choices.map(String);
        return { status: "awaiting_human", pending };
      }
      case "async":
        return {
          status: "waiting",
          pending: { kind: "async", stepId: last.id, intent, resultType: resultType(intent), at: last.at },
        };
      case "done":
        return { status: "done", reason: intent };
      default:
        // A run-policy step with nothing after it: the handler has not started yet.
        return {
          status: "running",
          next: { kind: "execute", stepId: last.id, intent, arguments: args, recovery: false },
        };
    }
  }

  if (meta.kind === "started") {
    const step = findEvent(thread, meta.stepId);
    const intent = meta.intent ?? intentOfStarted(last.type) ?? last.type;
    const args = startedArguments(last) ?? (step ? stepArguments(step) : {});
    if (meta.idempotent) {
      return {
        status: "running",
        next: { kind: "execute", stepId: meta.stepId ?? last.id, intent, arguments: args, recovery: true },
      };
    }
    return {
      status: "awaiting_human",
      pending: {
        kind: "uncertain",
        stepId: meta.stepId ?? last.id,
        startedId: last.id,
        intent,
        arguments: args,
        at: last.at,
      },
    };
  }

  switch (last.type) {
    case "failed":
      return { status: "failed", reason: failedEvent.read(last)?.reason ?? "failed" };
    case "cancelled":
      return { status: "cancelled", reason: cancelledEvent.read(last)?.reason ?? "cancelled" };
    case "escalation":
      return {
        status: "awaiting_human",
        pending: {
          kind: "question",
          stepId: last.id,
          question: escalationEvent.read(last)?.question ?? "",
          format: "free_text",
          at: last.at,
        },
      };
    case "approval": {
      const data = approvalEvent.read(last);
      const step = findEvent(thread, meta.stepId);
      if (data?.approved === true && step) {
        const edited = data.arguments;
        return {
          status: "running",
          next: {
            kind: "execute",
            stepId: step.id,
            intent: step.meta?.intent ?? step.type,
            arguments: edited ?? stepArguments(step),
            recovery: false,
          },
        };
      }
      return { status: "running", next: { kind: "call_model" } };
    }
    default:
      return { status: "running", next: { kind: "call_model" } };
  }
}

export function threadStatus(thread: Thread): ThreadStatus {
  return threadState(thread).status;
}

export function pendingRequest(thread: Thread): PendingRequest | undefined {
  return threadState(thread).pending;
}

/** Model steps taken so far (each parsed or failed model answer counts once). */
export function stepCount(thread: Thread): number {
  let n = 0;
  for (const e of thread.events) if (e.meta?.kind === "step" || (e.type === "error" && e.meta?.phase === "model")) n++;
  return n;
}

export interface ErrorCounts {
  /** Errors since the last success of any kind. */
  overall: number;
  /** Errors per intent since that intent last succeeded. */
  byIntent: Record<string, number>;
}

/**
 * Consecutive errors, walking back from the end. A result, a human answer,
 * an approval decision or a new trigger resets the overall count; an
 * intent's result resets its own count.
 */
export function consecutiveErrors(thread: Thread): ErrorCounts {
  const counts: ErrorCounts = { overall: 0, byIntent: {} };
  const closedIntents = new Set<string>();
  let overallOpen = true;
  for (let i = thread.events.length - 1; i >= 0; i--) {
    const e = thread.events[i] as Event;
    if (isAnnotation(e)) continue;
    if (e.type === "error") {
      const intent = errorEvent.read(e)?.intent;
      if (overallOpen) counts.overall++;
      if (typeof intent === "string" && !closedIntents.has(intent)) {
        counts.byIntent[intent] = (counts.byIntent[intent] ?? 0) + 1;
      }
      continue;
    }
    const kind = e.meta?.kind;
    if (kind === "step" || kind === "started") continue;
    if (kind === "result") {
      const intent = e.meta?.intent ?? intentOfResult(e.type) ?? e.type;
      closedIntents.add(intent);
      overallOpen = false;
      continue;
    }
    // human_response, approval, escalation, triggers: a person or the world spoke.
    overallOpen = false;
    break;
  }
  return counts;
}
