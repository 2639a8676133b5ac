import { ANSWER_EVENT_TYPES } from "./builtin.js";
import { type By, type Event, readBy } from "./event.js";
import { digestOf } from "./json-safe.js";
import { type HumanInputFormat, type PendingRequest, type RequestKind, threadState } from "./status.js";
import type { Thread } from "./thread.js";

/**
 * What a human can decide, one vocabulary for every entry point (library,
 * CLI, HTTP, inbox, Slack, email, timers):
 * - approval: `approve`, `edit` (approve with other arguments), `reject` (with feedback);
 * - question: `respond`;
 * - async: `result` (the external system's outcome);
 * - uncertain (a handler started, no result recorded): `mark_done` (it ran),
 *   `run_again`, `abandon` (it did not run, and will not).
 */
export const DECISION_TYPES = [
  "approve",
  "edit",
  "reject",
  "respond",
  "result",
  "mark_done",
  "run_again",
  "abandon",
] as const;
export type DecisionType = (typeof DECISION_TYPES)[number];

export const DECISIONS: Readonly<Record<RequestKind, readonly DecisionType[]>> = {
  approval: ["approve", "edit", "reject"],
  question: ["respond"],
  async: ["result"],
  uncertain: ["mark_done", "run_again", "abandon"],
};

/** Decisions that let a side effect run: they must name the digest of the arguments the human saw. */
export const DIGEST_DECISIONS: ReadonlySet<DecisionType> = new Set(["approve", "edit", "run_again"]);

export type Decision =
  | { decision: "approve"; comment?: string }
  | { decision: "edit"; args: Record<string, unknown>; comment?: string }
  | { decision: "reject"; feedback: string }
  | { decision: "respond"; text: string | boolean }
  | { decision: "result"; value: unknown }
  | { decision: "mark_done"; result?: unknown }
  | { decision: "run_again" }
  | { decision: "abandon"; reason: string };

/**
 * An answer to a human request. `requestId` names the request; `digest` is
 * the `argsDigest` the human was shown (approve, edit, run_again). The pure
 * `resume()` accepts an answer without an id when its caller holds the
 * thread; `runtime/` never does.
 */
export type Answer = Decision & {
  requestId?: string;
  digest?: string;
  by?: By;
  /** A repeated answer with the same key is a no-op that returns the current state. */
  idempotencyKey?: string;
};

/**
 * A paused thread waits on one human request. It is derived from the
 * thread's events, never stored beside them: the same thread always gives
 * the same request, in any process.
 */
export interface HumanRequest {
  /** Globally unique and opaque; encodes the thread id and the event the request derives from. */
  id: string;
  threadId: string;
  kind: RequestKind;
  /** The intent asked about; absent for the loop's escalation question. */
  intent?: string;
  /** The arguments shown to the human (approval, uncertain). */
  args?: Record<string, unknown>;
  /** Digest of `args` as canonical JSON; an approve/edit/run_again must carry it back. */
  argsDigest?: string;
  question?: { text: string; format: HumanInputFormat; choices?: string[] };
  /** The decisions this request accepts. */
  decisions: readonly DecisionType[];
  /** The step event this request is about (for uncertain: the step that started). */
  stepId: string;
  /** The event the id derives from: the step, the escalation, or for uncertain the `_started` marker. */
  eventId: string;
  /** For async: the event type that carries the result. */
  resultType?: string;
  createdAt: string;
  /** When the request expires (filled in by timers). */
  expiresAt?: string;
}

const PREFIX = "rq_";

/** The request id of an event in a thread: `rq_` + base64url of `[threadId, eventId]` (reversible, URL-safe). */
export function requestId(threadId: string, eventId: string): string {
  return PREFIX + Buffer.from(JSON.stringify([threadId, eventId]), "utf8").toString("base64url");
}

/** The thread and event a request id names, or undefined when the text is not a request id. */
export function parseRequestId(id: unknown): { threadId: string; eventId: string } | undefined {
  if (typeof id !== "string" || !id.startsWith(PREFIX) || id.length > 4096) return undefined;
  const body = id.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [threadId, eventId] = value;
    if (typeof threadId !== "string" || typeof eventId !== "string" || threadId === "" || eventId === "") {
      return undefined;
    }
    return { threadId, eventId };
  } catch {
    return undefined;
  }
}

/** Builds the request from a pending request (as derived by threadState or kept in a store's summary). */
export function requestFromPending(threadId: string, pending: PendingRequest, fallbackAt?: string): HumanRequest {
  const eventId = pending.kind === "uncertain" ? pending.startedId : pending.stepId;
  const base = {
    id: requestId(threadId, eventId),
    threadId,
    kind: pending.kind,
    decisions: DECISIONS[pending.kind],
    stepId: pending.stepId,
    eventId,
    createdAt: pending.at ?? fallbackAt ?? new Date(0).toISOString(),
  };
  switch (pending.kind) {
    case "approval":
    case "uncertain":
      return { ...base, intent: pending.intent, args: pending.arguments, argsDigest: digestOf(pending.arguments) };
    case "question": {
      const question: HumanRequest["question"] = { text: pending.question, format: pending.format };
      if (pending.choices) question.choices = pending.choices;
      return pending.intent ? { ...base, intent: pending.intent, question } : { ...base, question };
    }
    case "async":
      return { ...base, intent: pending.intent, resultType: pending.resultType };
  }
}

/** The request the thread waits on now, if it is paused for a human. */
export function humanRequest(thread: Thread): HumanRequest | undefined {
  const pending = threadState(thread).pending;
  return pending ? requestFromPending(thread.id, pending) : undefined;
}

/** Who answered a request, when, and with which event. */
export interface AnsweredBy {
  eventId: string;
  type: string;
  at: string;
  by?: By;
  decision?: string;
}

/**
 * The event that answered a request which is no longer pending: the first
 * later event naming it (`meta.requestId`), or, for events written before
 * request ids existed, the first answer or result for the same step.
 * Undefined when the thread has no such event or nothing answered it yet.
 */
export function findAnswer(thread: Thread, id: string): AnsweredBy | undefined {
  const ref = parseRequestId(id);
  if (!ref || ref.threadId !== thread.id) return undefined;
  const index = thread.events.findIndex((e) => e.id === ref.eventId);
  if (index < 0) return undefined;
  const source = thread.events[index] as Event;
  const stepId = source.meta?.kind === "started" ? source.meta.stepId : source.id;
  // Annotations (a reminder, a refused answer) may name the request; they never answer it.
  const later = thread.events.slice(index + 1).filter((e) => e.meta?.annotation !== true);
  const answer =
    later.find((e) => e.meta?.requestId === id) ??
    later.find(
      (e) =>
        e.meta?.stepId === stepId &&
        e.meta?.requestId === undefined &&
        (ANSWER_EVENT_TYPES.has(e.type) || e.meta?.kind === "result"),
    ) ??
    // A request the thread moved past without an answer event naming it (e.g. an uncertain step
    // that a later successful re-run resolved): the first result for the step settles it.
    later.find((e) => e.meta?.stepId === stepId && e.meta?.kind === "result");
  if (!answer) return undefined;
  const out: AnsweredBy = { eventId: answer.id, type: answer.type, at: answer.at };
  const by = readBy(answer.meta?.by);
  if (by) out.by = by;
  if (typeof answer.meta?.decision === "string") out.decision = answer.meta.decision;
  return out;
}
