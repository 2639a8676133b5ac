import { ResumeMismatchError } from "../errors/index.js";
import { formatIssues } from "../intent/parse/index.js";
import { defaultRuntime, type Event, type EventMeta, makeEvent, SYSTEM_EVENT_TYPES } from "../thread/event.js";
import { type PendingRequest, threadState } from "../thread/status.js";
import { appendEvents, type Thread } from "../thread/thread.js";
import { type Agent, findIntent, type NewEvent } from "./agent.js";
import { type RunOptions, run } from "./run.js";

/**
 * Checks an incoming event against what the thread awaits and returns the
 * event to append (with `meta.stepId` filled in). Throws ResumeMismatchError
 * naming what is awaited when it does not fit.
 */
export function acceptEvent(
  agent: Agent,
  thread: Thread,
  incoming: NewEvent,
  options: RunOptions | { runtime?: RunOptions["runtime"] } = {},
): Event {
  const runtime = options.runtime ?? defaultRuntime;
  const state = threadState(thread);
  const pending = state.pending;
  const mismatch = (why: string): never => {
    throw new ResumeMismatchError(`cannot resume thread ${thread.id}: ${why}`, {
      threadId: thread.id,
      status: state.status,
      awaiting: pending ? describe(pending) : null,
      received: incoming?.type,
    });
  };
  if (!incoming || typeof incoming.type !== "string" || incoming.type === "") mismatch("the event needs a type");
  const meta: EventMeta = { ...(incoming.meta ?? {}) };
  const data = incoming.data ?? null;

  if (!pending) {
    if (state.status === "running") mismatch("it is running, not paused; call run() to continue it");
    // done or failed: a new trigger (e.g. a user message) continues the conversation.
    if (SYSTEM_EVENT_TYPES.has(incoming.type) || incoming.type.endsWith("_result")) {
      mismatch(`it is ${state.status} and awaits nothing; send a new message (e.g. user_message) to continue it`);
    }
    return makeEvent(runtime, incoming.type, data, meta);
  }

  meta.stepId = pending.stepId;
  switch (pending.kind) {
    case "approval":
      if (incoming.type !== "approval")
        mismatch(`it awaits an approval of "${pending.intent}", got "${incoming.type}"`);
      return makeEvent(runtime, "approval", approvalData(agent, pending.intent, data, mismatch), meta);
    case "uncertain_execution":
      if (incoming.type === "approval") {
        return makeEvent(runtime, "approval", approvalData(agent, pending.intent, data, mismatch), meta);
      }
      if (incoming.type === `${pending.intent}_result`) {
        return makeEvent(runtime, incoming.type, data, { ...meta, kind: "result", intent: pending.intent });
      }
      if (incoming.type === "human_response") return makeEvent(runtime, incoming.type, data, meta);
      return mismatch(
        `"${pending.intent}" may or may not have run; send approval (re-run it), ${pending.intent}_result (its outcome) or human_response`,
      );
    case "human_input": {
      if (incoming.type !== "human_response")
        mismatch(`it awaits a human_response to "${pending.question}", got "${incoming.type}"`);
      return makeEvent(runtime, "human_response", humanResponseData(pending, data, mismatch), meta);
    }
    case "external_result":
      if (incoming.type !== pending.resultType) mismatch(`it awaits "${pending.resultType}", got "${incoming.type}"`);
      return makeEvent(runtime, incoming.type, data, { ...meta, kind: "result", intent: pending.intent });
  }
}

function describe(pending: PendingRequest): string {
  switch (pending.kind) {
    case "approval":
      return `approval of ${pending.intent}`;
    case "human_input":
      return `human_response (${pending.format})`;
    case "external_result":
      return pending.resultType;
    case "uncertain_execution":
      return `a decision on ${pending.intent}, which may or may not have run`;
  }
}

function approvalData(agent: Agent, intentName: string, data: unknown, mismatch: (why: string) => never) {
  if (typeof data !== "object" || data === null)
    return mismatch("approval data must be {approved, feedback?, arguments?}");
  const d = data as Record<string, unknown>;
  if (typeof d.approved !== "boolean") return mismatch('approval data needs "approved": true or false');
  if (d.feedback !== undefined && typeof d.feedback !== "string") return mismatch('"feedback" must be a string');
  const out: Record<string, unknown> = { approved: d.approved };
  if (d.feedback) out.feedback = d.feedback;
  if (d.arguments !== undefined) {
    if (!d.approved) return mismatch("edited arguments only make sense with approved: true");
    const intent = findIntent(agent, intentName);
    const parsed = intent?.schema.safeParse(d.arguments);
    if (!parsed?.success) {
      return mismatch(
        `edited arguments for "${intentName}" are invalid: ${parsed ? formatIssues(parsed.error).join("; ") : "unknown intent"}`,
      );
    }
    out.arguments = parsed.data;
  }
  return out;
}

const YES = new Set(["yes", "y", "true", "approve", "approved", "ok"]);
const NO = new Set(["no", "n", "false", "reject", "rejected"]);

function humanResponseData(
  pending: Extract<PendingRequest, { kind: "human_input" }>,
  data: unknown,
  mismatch: (why: string) => never,
) {
  const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : { response: data };
  const response = record.response;
  if (response === undefined || response === null || response === "")
    return mismatch('human_response needs a "response"');
  if (pending.format === "yes_no") {
    const word = String(response).trim().toLowerCase();
    if (typeof response !== "boolean" && !YES.has(word) && !NO.has(word)) {
      return mismatch(`the question wants yes or no, got "${String(response)}"`);
    }
    return { ...record, response: typeof response === "boolean" ? response : YES.has(word) };
  }
  if (pending.format === "multiple_choice" && pending.choices?.length) {
    const match = pending.choices.find((c) => c.toLowerCase() === String(response).trim().toLowerCase());
    if (!match) return mismatch(`the answer must be one of: ${pending.choices.join(", ")}`);
    return { ...record, response: match };
  }
  if (typeof response !== "string") return mismatch('"response" must be text');
  return record;
}

/**
 * Resume (factor 6): validate the event against what the thread awaits,
 * append it, and run. A duplicate delivery (same `meta.idempotencyKey`) is
 * a no-op that returns the thread as it is.
 */
export async function resume(agent: Agent, thread: Thread, incoming: NewEvent, options: RunOptions): Promise<Thread> {
  const key = incoming?.meta?.idempotencyKey;
  if (key && thread.events.some((e) => e.meta?.idempotencyKey === key)) return thread;
  const event = acceptEvent(agent, thread, incoming, options);
  const next = appendEvents(thread, [event]);
  // An answer from outside is acknowledged to whoever sent it: durable.
  const stored = options.commit ? await options.commit(next, [event], true) : next;
  options.onEvent?.(event, stored);
  return run(agent, stored, options);
}
