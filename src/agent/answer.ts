import { AlreadyAnsweredError, RequestError } from "../errors/index.js";
import { formatIssues } from "../intent/parse/index.js";
import { resultType, stepArguments } from "../thread/builtin.js";
import { type Clock, defaultClock, type Event, type EventMeta, makeEvent } from "../thread/event.js";
import { toJsonSafe } from "../thread/json-safe.js";
import {
  type Answer,
  DIGEST_DECISIONS,
  findAnswer,
  type HumanRequest,
  humanRequest,
  parseRequestId,
} from "../thread/request.js";
import { threadState } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import { type Agent, findIntent } from "./agent.js";

export interface AcceptAnswerOptions {
  clock?: Clock;
  /** Refuse an answer that does not name its request (`runtime/` sets this; the pure `resume()` does not). */
  requireId?: boolean;
  /** Refuse approve/edit/run_again without the digest the human was shown (`runtime/` sets this). */
  requireDigest?: boolean;
}

/**
 * Checks an answer against the request the thread waits on and returns the
 * one event that records it. Fails closed with a RequestError, appending
 * and running nothing, when the request is not pending any more
 * (`already_answered`), the arguments changed (`request_changed`), the
 * decision does not fit (`invalid_decision`) or the request is unknown.
 */
export function acceptAnswer(
  agent: Agent,
  thread: Thread,
  answer: Answer,
  options: AcceptAnswerOptions = {},
): { event: Event; request: HumanRequest } {
  const request = resolveRequest(thread, answer, options);
  const invalid = (why: string): never => {
    throw new RequestError("invalid_decision", `request ${request.id} (${request.kind}): ${why}`, {
      requestId: request.id,
      kind: request.kind,
      decision: answer.decision,
      allowed: request.decisions,
    });
  };
  if (!request.decisions.includes(answer.decision)) {
    invalid(`"${String(answer.decision)}" is not allowed here; allowed: ${request.decisions.join(", ")}`);
  }
  if (DIGEST_DECISIONS.has(answer.decision) && request.argsDigest !== undefined) {
    if (answer.digest === undefined && options.requireDigest) {
      invalid(`"${answer.decision}" must carry the digest of the arguments shown (request.argsDigest)`);
    }
    if (answer.digest !== undefined && answer.digest !== request.argsDigest) {
      throw new RequestError(
        "request_changed",
        `request ${request.id}: the arguments awaiting a decision are not the ones shown (digest ${answer.digest}, now ${request.argsDigest})`,
        { requestId: request.id, digest: answer.digest, argsDigest: request.argsDigest, args: request.args },
      );
    }
  }
  const clock = options.clock ?? defaultClock;
  const meta: EventMeta = { stepId: request.stepId, requestId: request.id, decision: answer.decision };
  if (answer.by) meta.by = answer.by;
  if (answer.digest !== undefined) meta.digest = answer.digest;
  if (answer.idempotencyKey !== undefined) meta.idempotencyKey = answer.idempotencyKey;
  const event = (type: string, data: unknown, extra: EventMeta = {}) =>
    makeEvent(clock, type, data, { ...meta, ...extra });
  const text = (value: unknown, name: string): string => {
    if (typeof value !== "string" || value.trim() === "") invalid(`"${name}" must be non-empty text`);
    return value as string;
  };
  const comment = (value: unknown) => (value === undefined ? {} : { feedback: text(value, "comment") });
  const result = { kind: "result" as const, intent: request.intent };

  switch (answer.decision) {
    case "approve":
      return { request, event: event("approval", { approved: true, ...comment(answer.comment) }) };
    case "edit": {
      const intent = findIntent(agent, request.intent ?? "");
      const parsed = intent?.schema.safeParse(answer.args);
      if (!parsed?.success) {
        invalid(
          `edited arguments for "${request.intent}" are invalid: ${parsed ? formatIssues(parsed.error).join("; ") : "this agent has no such intent"}`,
        );
      }
      const args = parsed?.data as Record<string, unknown>;
      return { request, event: event("approval", { approved: true, arguments: args, ...comment(answer.comment) }) };
    }
    case "reject":
      return { request, event: event("approval", { approved: false, feedback: text(answer.feedback, "feedback") }) };
    case "respond":
      return { request, event: event("human_response", { response: questionResponse(request, answer.text, invalid) }) };
    case "result":
      // Recorded as JSON, like a handler's result: a BigInt, a Date or a cycle must not break the store or the prompt.
      return {
        request,
        event: event(request.resultType ?? resultType(request.intent ?? ""), toJsonSafe(answer.value), result),
      };
    case "mark_done": {
      const value = toJsonSafe(answer.result ?? { ran: true, note: "a human confirmed this step ran" });
      return { request, event: event(resultType(request.intent ?? ""), value, result) };
    }
    case "run_again": {
      // Re-run with the arguments that started (they include any edit approved before the crash).
      const step = thread.events.find((e) => e.id === request.stepId);
      const stepArgs = step ? stepArguments(step) : {};
      const data: Record<string, unknown> = { approved: true };
      if (JSON.stringify(stepArgs) !== JSON.stringify(request.args)) data.arguments = request.args;
      return { request, event: event("approval", data, { startedId: request.eventId }) };
    }
    case "abandon": {
      const reason = text(answer.reason, "reason");
      return {
        request,
        event: event(resultType(request.intent ?? ""), { ran: false, abandoned: true, reason }, result),
      };
    }
  }
  return invalid(`unknown decision "${String((answer as { decision?: unknown }).decision)}"`);
}

function resolveRequest(thread: Thread, answer: Answer, options: AcceptAnswerOptions): HumanRequest {
  const current = humanRequest(thread);
  if (answer.requestId === undefined) {
    if (options.requireId) {
      throw new RequestError(
        "request_required",
        `thread ${thread.id}: an answer must name the request it answers (requestId)`,
        { threadId: thread.id, pending: current?.id ?? null },
      );
    }
    if (current) return current;
    throw new RequestError(
      "request_not_found",
      `thread ${thread.id} awaits no answer (${threadState(thread).status})`,
      {
        threadId: thread.id,
        status: threadState(thread).status,
      },
    );
  }
  if (current?.id === answer.requestId) return current;
  const ref = parseRequestId(answer.requestId);
  if (!ref) {
    throw new RequestError("request_not_found", `"${String(answer.requestId)}" is not a request id`, {
      requestId: answer.requestId,
    });
  }
  if (ref.threadId !== thread.id) {
    throw new RequestError(
      "request_not_found",
      `request ${answer.requestId} belongs to thread ${ref.threadId}, not ${thread.id}`,
      {
        requestId: answer.requestId,
        threadId: thread.id,
      },
    );
  }
  const answered = findAnswer(thread, answer.requestId);
  if (answered) {
    const who = answered.by ? ` by ${answered.by.id} via ${answered.by.via}` : "";
    throw new AlreadyAnsweredError(
      thread.id,
      `request ${answer.requestId} was already answered${who} at ${answered.at} (${answered.decision ?? answered.type}, event ${answered.eventId})`,
      { requestId: answer.requestId, answeredBy: answered.by ?? null, answeredAt: answered.at, answer: answered },
    );
  }
  if (!thread.events.some((e) => e.id === ref.eventId)) {
    throw new RequestError("request_not_found", `thread ${thread.id} has no request ${answer.requestId}`, {
      requestId: answer.requestId,
      threadId: thread.id,
    });
  }
  // The event exists but nothing pending derives from it and nothing answered it: the thread moved on.
  throw new AlreadyAnsweredError(thread.id, `request ${answer.requestId} is no longer pending`, {
    requestId: answer.requestId,
    pending: current?.id ?? null,
  });
}

const YES = new Set(["yes", "y", "true", "approve", "approved", "ok"]);
const NO = new Set(["no", "n", "false", "reject", "rejected"]);

/** A question's answer, checked against its format: yes/no becomes a boolean, a choice its exact spelling. */
export function questionResponse(
  request: Pick<HumanRequest, "question">,
  response: unknown,
  invalid: (why: string) => never,
): string | boolean {
  const format = request.question?.format ?? "free_text";
  if (response === undefined || response === null || response === "") return invalid("the answer is empty");
  if (format === "yes_no") {
    if (typeof response === "boolean") return response;
    const word = String(response).trim().toLowerCase();
    if (!YES.has(word) && !NO.has(word)) return invalid(`the question wants yes or no, got "${String(response)}"`);
    return YES.has(word);
  }
  const choices = request.question?.choices;
  if (format === "multiple_choice" && choices?.length) {
    const match = choices.find((c) => c.toLowerCase() === String(response).trim().toLowerCase());
    if (!match) return invalid(`the answer must be one of: ${choices.join(", ")}`);
    return match;
  }
  if (typeof response !== "string") return invalid("the answer must be text");
  return response;
}

/** True for values shaped like an Answer (they carry a `decision`), as opposed to a raw event. */
export function isAnswer(value: unknown): value is Answer {
  return typeof value === "object" && value !== null && typeof (value as { decision?: unknown }).decision === "string";
}
