import { RequestError } from "../errors/index.js";
import { resultType } from "../thread/builtin.js";
import { type By, type Clock, defaultClock, makeEvent } from "../thread/event.js";
import type { Answer, HumanRequest } from "../thread/request.js";
import { createThread, type Thread } from "../thread/thread.js";
import type { NewEvent } from "./agent.js";

/** Small constructors for the events people send most. */
export const userMessage = (text: string, meta?: NewEvent["meta"]): NewEvent => ({
  type: "user_message",
  data: text,
  meta,
});

/**
 * The request an answer names: the request itself (its id and the digest of
 * the arguments shown), or just its id. `undefined` answers whatever single
 * request is pending, which only the pure `resume()` accepts.
 */
export type RequestRef = Pick<HumanRequest, "id"> & Partial<Pick<HumanRequest, "argsDigest">>;

export interface AnswerOptions {
  by?: By;
  idempotencyKey?: string;
}

function bind(request: RequestRef | string | undefined, options: AnswerOptions): Omit<Answer, "decision"> {
  const out: Record<string, unknown> = {};
  if (typeof request === "string") out.requestId = request;
  else if (request) {
    // An object without an id is not a request (e.g. the old `approve({arguments})`): never guess what it meant.
    if (typeof request.id !== "string") {
      throw new RequestError(
        "invalid_decision",
        "the first argument must be the request (or its id); to approve with other arguments use edit(request, args)",
      );
    }
    out.requestId = request.id;
    if (request.argsDigest !== undefined) out.digest = request.argsDigest;
  }
  if (options.by) out.by = options.by;
  if (options.idempotencyKey !== undefined) out.idempotencyKey = options.idempotencyKey;
  return out;
}

/** Approve the step (approval request). */
export const approve = (request?: RequestRef | string, options: AnswerOptions & { comment?: string } = {}): Answer => ({
  ...bind(request, options),
  decision: "approve",
  ...(options.comment !== undefined && { comment: options.comment }),
});

/** Approve with other arguments (checked against the intent's schema). */
export const edit = (
  request: RequestRef | string | undefined,
  args: Record<string, unknown>,
  options: AnswerOptions & { comment?: string } = {},
): Answer => ({
  ...bind(request, options),
  decision: "edit",
  args,
  ...(options.comment !== undefined && { comment: options.comment }),
});

/** Reject the step; the feedback is what the model sees next. */
export const reject = (
  request: RequestRef | string | undefined,
  feedback: string,
  options: AnswerOptions = {},
): Answer => ({
  ...bind(request, options),
  decision: "reject",
  feedback,
});

/** Answer a question (yes/no accepts booleans and yes/no words). */
export const respond = (
  request: RequestRef | string | undefined,
  text: string | boolean,
  options: AnswerOptions = {},
): Answer => ({ ...bind(request, options), decision: "respond", text });

/** Deliver the outcome an async step waits for. */
export const result = (
  request: RequestRef | string | undefined,
  value: unknown,
  options: AnswerOptions = {},
): Answer => ({
  ...bind(request, options),
  decision: "result",
  value,
});

/** Uncertain step: it did run; record `result` (or a note saying so) as its outcome. */
export const markDone = (
  request: RequestRef | string | undefined,
  value?: unknown,
  options: AnswerOptions = {},
): Answer => ({
  ...bind(request, options),
  decision: "mark_done",
  ...(value !== undefined && { result: value }),
});

/** Uncertain step: run it again. */
export const runAgain = (request: RequestRef | string | undefined, options: AnswerOptions = {}): Answer => ({
  ...bind(request, options),
  decision: "run_again",
});

/** Uncertain step: it did not run and will not; the model sees a result saying so. */
export const abandon = (
  request: RequestRef | string | undefined,
  reason: string,
  options: AnswerOptions = {},
): Answer => ({
  ...bind(request, options),
  decision: "abandon",
  reason,
});

/** @deprecated use `respond(request, text)`: a raw event names no request. */
export const humanResponse = (response: string | boolean, options: { by?: By } = {}): NewEvent => ({
  type: "human_response",
  data: { response },
  meta: options.by ? { by: options.by } : undefined,
});

/** @deprecated use `result(request, value)`: a raw event names no request. */
export const externalResult = (intent: string, data: unknown): NewEvent => ({ type: resultType(intent), data });

/** A new thread whose first event is the given message (a string becomes a `user_message`). */
export function startThread(
  agent: string | { name: string },
  first: string | NewEvent,
  options: { id?: string; runtime?: Clock; clock?: Clock } = {},
): Thread {
  const clock = options.clock ?? options.runtime ?? defaultClock;
  const event = typeof first === "string" ? userMessage(first) : first;
  const name = typeof agent === "string" ? agent : agent.name;
  const id = options.id !== undefined ? { id: options.id } : {};
  return createThread(name, [makeEvent(clock, event.type, event.data ?? null, event.meta)], { ...id, runtime: clock });
}
