/**
 * Typed errors with stable machine-readable codes. Every error twelve throws
 * on purpose is a TwelveError, so callers can branch on `code` instead of
 * matching message text. The codes, and what each means to a CLI (exit code)
 * and a server (HTTP status), are one table: ERROR_CODES (./codes.ts,
 * docs/errors.md).
 */
import { ERROR_CODES, EXIT_CODES, errorCodeInfo, type TwelveErrorCode, UNLISTED_CODE } from "./codes.js";

export {
  ERROR_CODES,
  type ErrorCodeInfo,
  EXIT_CODES,
  errorCodeInfo,
  isErrorCode,
  type TwelveErrorCode,
} from "./codes.js";

/**
 * The brand every TwelveError carries (on the prototype), shared by every
 * copy of twelve loaded in one process: `Symbol.for` returns the same symbol
 * to all of them, so a global CLI recognises the errors of a project's own copy.
 */
const BRAND: unique symbol = Symbol.for("twelve.error") as never;

export class TwelveError extends Error {
  /**
   * One of ERROR_CODES. The constructor also takes other strings (an
   * application's own codes); they map to exit 2 / HTTP 500, and
   * test/errors/table.test.ts keeps twelve's own throws inside the table.
   */
  readonly code: TwelveErrorCode | (string & {});
  readonly details: Record<string, unknown> | undefined;
  constructor(
    code: TwelveErrorCode | (string & {}),
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TwelveError";
    this.code = code;
    this.details = details;
  }

  /**
   * True for a TwelveError from any copy of twelve (another version, a
   * project's own copy next to a global CLI): it carries the shared brand
   * and a string code. `instanceof TwelveError` answers the same.
   */
  static is(value: unknown): value is TwelveError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [BRAND]?: unknown })[BRAND] === true &&
      typeof (value as { code?: unknown }).code === "string"
    );
  }

  /**
   * `x instanceof TwelveError` is TwelveError.is(x), so it holds across
   * copies too; subclasses (`instanceof ModelError`) keep the ordinary
   * prototype-chain check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about (a subclass, or TwelveError).
    return this === TwelveError ? TwelveError.is(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }
}
Object.defineProperty(TwelveError.prototype, BRAND, { value: true, enumerable: false, writable: false });

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
  return TwelveError.is(value);
}

function infoOf(error: unknown) {
  return TwelveError.is(error) ? (errorCodeInfo(error.code) ?? UNLISTED_CODE) : undefined;
}

/**
 * The `twelve` CLI's exit code for an error: the table's (2 bad input,
 * 4 retryable, 130 interrupted, …); 2 for a TwelveError with a code the
 * table does not list; 70 for anything else (a bug).
 */
export function exitCodeOf(error: unknown): number {
  return infoOf(error)?.exit ?? EXIT_CODES.bug;
}

/** The HTTP status a server answers for an error: the table's; 500 for anything it does not list. */
export function httpStatusOf(error: unknown): number {
  return infoOf(error)?.http ?? 500;
}

/** Whether trying again later can succeed, by the table; false for anything it does not list. */
export function isRetryable(error: unknown): boolean {
  return infoOf(error)?.retryable ?? false;
}

/** The table's code for an error, or undefined when it is not a TwelveError with a listed code. */
export function errorCodeOf(error: unknown): TwelveErrorCode | undefined {
  return TwelveError.is(error) && Object.hasOwn(ERROR_CODES, error.code) ? (error.code as TwelveErrorCode) : undefined;
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
