import { ResumeMismatchError } from "../errors/index.js";
import { formatIssues } from "../intent/parse/index.js";
import { type BuiltinEventData, humanResponseEvent, intentOfResult, resultType } from "../thread/builtin.js";
import { defaultRuntime, type Event, type EventMeta, makeEvent, SYSTEM_EVENT_TYPES } from "../thread/event.js";
import type { Answer } from "../thread/request.js";
import { type PendingRequest, threadState } from "../thread/status.js";
import { appendEvents, type Thread } from "../thread/thread.js";
import { type Agent, findIntent, type NewEvent } from "./agent.js";
import { acceptAnswer, isAnswer, questionResponse } from "./answer.js";
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
    if (SYSTEM_EVENT_TYPES.has(incoming.type) || intentOfResult(incoming.type) !== undefined) {
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
    case "uncertain":
      if (incoming.type === "approval") {
        return makeEvent(runtime, "approval", approvalData(agent, pending.intent, data, mismatch), meta);
      }
      if (incoming.type === resultType(pending.intent)) {
        return makeEvent(runtime, incoming.type, data, { ...meta, kind: "result", intent: pending.intent });
      }
      if (incoming.type === "human_response") {
        const answer = humanResponseEvent.schema.safeParse(data);
        return makeEvent(runtime, "human_response", answer.success ? answer.data : { response: data }, meta);
      }
      return mismatch(
        `"${pending.intent}" may or may not have run; send approval (re-run it), ${pending.intent}_result (its outcome) or human_response`,
      );
    case "question": {
      if (incoming.type !== "human_response")
        mismatch(`it awaits a human_response to "${pending.question}", got "${incoming.type}"`);
      return makeEvent(runtime, "human_response", humanResponseData(pending, data, mismatch), meta);
    }
    case "async":
      if (incoming.type !== pending.resultType) mismatch(`it awaits "${pending.resultType}", got "${incoming.type}"`);
      return makeEvent(runtime, incoming.type, data, { ...meta, kind: "result", intent: pending.intent });
  }
}

function describe(pending: PendingRequest): string {
  switch (pending.kind) {
    case "approval":
      return `approval of ${pending.intent}`;
    case "question":
      return `human_response (${pending.format})`;
    case "async":
      return pending.resultType;
    case "uncertain":
      return `a decision on ${pending.intent}, which may or may not have run`;
  }
}

function approvalData(agent: Agent, intentName: string, data: unknown, mismatch: (why: string) => never) {
  if (typeof data !== "object" || data === null)
    return mismatch("approval data must be {approved, feedback?, arguments?}");
  const d = data as Record<string, unknown>;
  if (typeof d.approved !== "boolean") return mismatch('approval data needs "approved": true or false');
  if (d.feedback !== undefined && typeof d.feedback !== "string") return mismatch('"feedback" must be a string');
  const out: BuiltinEventData<"approval"> = { approved: d.approved };
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
    out.arguments = parsed.data as Record<string, unknown>;
  }
  return out;
}

function humanResponseData(
  pending: Extract<PendingRequest, { kind: "question" }>,
  data: unknown,
  mismatch: (why: string) => never,
) {
  const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : { response: data };
  const question = {
    text: pending.question,
    format: pending.format,
    ...(pending.choices && { choices: pending.choices }),
  };
  return { ...record, response: questionResponse({ question }, record.response, mismatch) };
}

/**
 * Resume (factor 6) for callers who hold the thread themselves: check the
 * answer (or a raw event, e.g. a new user message) against what the thread
 * awaits, append it, and run. An answer may leave out its request id here,
 * because the caller holds the thread: it then answers the one pending
 * request. A duplicate delivery (same idempotency key) is a no-op that
 * returns the thread as it is. Entry points that share threads go through
 * `runtime/`, which also takes the lease and requires the request id.
 */
export async function resume(
  agent: Agent,
  thread: Thread,
  incoming: Answer | NewEvent,
  options: RunOptions,
): Promise<Thread> {
  const key = isAnswer(incoming) ? incoming.idempotencyKey : incoming?.meta?.idempotencyKey;
  if (key && thread.events.some((e) => e.meta?.idempotencyKey === key)) return thread;
  const clock = options.runtime ?? defaultRuntime;
  const event = isAnswer(incoming)
    ? acceptAnswer(agent, thread, incoming, { clock }).event
    : acceptEvent(agent, thread, incoming, options);
  const next = appendEvents(thread, [event]);
  // An answer from outside is acknowledged to whoever sent it: durable.
  const stored = options.commit ? await options.commit(next, [event], true) : next;
  options.onEvent?.(event, stored);
  return run(agent, stored, options);
}
