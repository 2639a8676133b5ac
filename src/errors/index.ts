/**
 * Typed errors with stable machine-readable codes. Every error twelve throws
 * on purpose is a TwelveError, so callers can branch on `code` instead of
 * matching message text.
 */
export type TwelveErrorCode =
  | "parse_error"
  | "resume_mismatch"
  | "not_runnable"
  | "unknown_intent"
  | "invalid_agent"
  | "invalid_thread"
  | "invalid_event"
  | "thread_not_found"
  | "version_conflict"
  | "script_exhausted"
  | "script_unused"
  | "model_error"
  | "config_error"
  | (string & {});

export class TwelveError extends Error {
  readonly code: TwelveErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    code: TwelveErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TwelveError";
    this.code = code;
    this.details = details;
  }
}

/** The thread is paused for something else than the event offered to `resume`. */
export class ResumeMismatchError extends TwelveError {
  constructor(message: string, details: Record<string, unknown>) {
    super("resume_mismatch", message, details);
    this.name = "ResumeMismatchError";
  }
}

export class InvalidThreadError extends TwelveError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("invalid_thread", message, details);
    this.name = "InvalidThreadError";
  }
}

export class InvalidAgentError extends TwelveError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("invalid_agent", message, details);
    this.name = "InvalidAgentError";
  }
}

export function isTwelveError(value: unknown): value is TwelveError {
  return value instanceof TwelveError;
}

/**
 * An answer to a human request that cannot be applied. Every such answer
 * fails closed: nothing is appended and nothing runs.
 * - `already_answered`: the request is no longer pending (details name who answered, when, via what);
 * - `request_changed`: the digest does not match the arguments now awaiting a decision;
 * - `invalid_decision`: the request does not allow this decision, or its payload is wrong;
 * - `request_not_found`: no such request (malformed id, unknown thread or event);
 * - `request_required`: an entry point that must name the request got an answer without an id;
 * - `responder_refused`: the responders policy does not allow this person to answer.
 */
export type RequestErrorCode =
  | "already_answered"
  | "request_changed"
  | "invalid_decision"
  | "request_not_found"
  | "request_required"
  | "responder_refused";

export class RequestError extends TwelveError {
  declare readonly code: RequestErrorCode;
  constructor(code: RequestErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "RequestError";
  }
}

/** The request was answered before (by another process, person or delivery). */
export class AlreadyAnsweredError extends RequestError {
  constructor(threadId: string, message: string, details: Record<string, unknown> = {}) {
    super("already_answered", `thread ${threadId}: ${message}`, { threadId, ...details });
    this.name = "AlreadyAnsweredError";
  }
}
