import { TwelveError } from "../errors/index.js";

/**
 * Why a model call failed, as a stable code callers can branch on.
 * `rate_limited`, `timeout`, `server` and `network` are worth retrying;
 * `auth` and `bad_request` are not (the same request fails again);
 * `aborted` means the caller's signal fired.
 */
export type ModelErrorCode = "rate_limited" | "timeout" | "auth" | "bad_request" | "server" | "network" | "aborted";

const RETRYABLE: ReadonlySet<ModelErrorCode> = new Set(["rate_limited", "timeout", "server", "network"]);
const MODEL_CODES: ReadonlySet<string> = new Set([...RETRYABLE, "auth", "bad_request", "aborted"]);

export interface ModelErrorDetails {
  /** Model id, e.g. `openai:gpt-4.1-mini`. */
  model?: string;
  /** HTTP status when the provider answered. */
  status?: number;
  /** How long the provider asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number;
  /** The provider's request id, for support tickets. */
  requestId?: string;
}

export class ModelError extends TwelveError {
  declare readonly code: ModelErrorCode;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly model: string | undefined;
  constructor(code: ModelErrorCode, message: string, details: ModelErrorDetails = {}, options?: { cause?: unknown }) {
    super(code, message, { ...details }, options);
    this.name = "ModelError";
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.model = details.model;
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function isModelError(value: unknown): value is ModelError {
  return value instanceof ModelError;
}

/** Status code → error code, as providers document them. */
export function codeForStatus(status: number): ModelErrorCode {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status === 408) return "timeout";
  if (status >= 500) return "server";
  return "bad_request";
}

/**
 * Reads `retry-after-ms` (OpenAI), then `retry-after` as seconds or an
 * HTTP date. Returns milliseconds, or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  headers: Headers | Record<string, string | string[] | undefined> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, string | string[] | undefined>)[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const ms = Number(get("retry-after-ms"));
  if (get("retry-after-ms") !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = get("retry-after");
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface SdkErrorShape {
  name?: string;
  status?: number;
  /** AI SDK's APICallError. */
  statusCode?: number;
  responseHeaders?: Record<string, string>;
  headers?: Headers | Record<string, string>;
  message?: string;
  request_id?: string;
  requestID?: string;
  error?: unknown;
}

/**
 * Turns whatever an SDK threw into a ModelError. Both official SDKs share
 * the same error family (APIError with `status` and `headers`,
 * APIConnectionError, APIConnectionTimeoutError, APIUserAbortError), so one
 * duck-typed mapping serves both without importing either.
 */
export function toModelError(error: unknown, model: string, signal?: AbortSignal): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof TwelveError && MODEL_CODES.has(error.code)) {
    return new ModelError(error.code as ModelErrorCode, error.message, { model }, { cause: error });
  }
  const e = (error ?? {}) as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  const ctor = (error as { constructor?: { name?: string } })?.constructor?.name ?? "";
  const detail = e.message ?? String(error);
  if (signal?.aborted || name === "AbortError" || ctor === "APIUserAbortError") {
    return new ModelError("aborted", `${model}: the call was aborted`, { model }, { cause: error });
  }
  if (ctor === "APIConnectionTimeoutError") {
    return new ModelError("timeout", `${model}: the request timed out`, { model }, { cause: error });
  }
  if (
    ctor === "APIConnectionError" ||
    name === "FetchError" ||
    (error instanceof TypeError && detail.includes("fetch"))
  ) {
    return new ModelError(
      "network",
      `${model}: cannot reach the provider (${causeText(error)})`,
      { model },
      { cause: error },
    );
  }
  const status = typeof e.status === "number" ? e.status : e.statusCode;
  if (typeof status === "number") {
    const code = codeForStatus(status);
    const retryAfterMs = parseRetryAfter(e.headers ?? e.responseHeaders);
    const requestId = e.requestID ?? e.request_id;
    const hint = code === "auth" ? " (check the API key)" : "";
    return new ModelError(
      code,
      `${model}: ${status} ${detail}${hint}`,
      { model, status, ...(retryAfterMs !== undefined && { retryAfterMs }), ...(requestId && { requestId }) },
      { cause: error },
    );
  }
  if (error instanceof SyntaxError) {
    return new ModelError(
      "server",
      `${model}: the provider sent a malformed response (${detail})`,
      { model },
      { cause: error },
    );
  }
  return new ModelError("server", `${model}: ${detail}`, { model }, { cause: error });
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}

/**
 * For wrappers (retry, fallback): model failures become ModelErrors; other
 * TwelveErrors (model_config, replay_miss, …) keep their own code and are
 * never retried.
 */
export function toFailure(error: unknown, model: string, signal?: AbortSignal): TwelveError {
  if (error instanceof TwelveError && !(error instanceof ModelError) && !MODEL_CODES.has(error.code)) return error;
  return toModelError(error, model, signal);
}

export function isRetryable(error: TwelveError): boolean {
  return error instanceof ModelError && error.retryable;
}
