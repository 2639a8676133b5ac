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
