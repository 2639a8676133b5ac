import type { TwelveError } from "../errors/index.js";
import { isRetryable, ModelError, toFailure } from "./errors.js";
import type { GenerateRequest, GenerateResult, Model } from "./types.js";

export interface RetryOptions {
  /** Extra attempts after the first. Default 3. */
  retries?: number;
  /** First backoff delay in ms. Default 500. */
  baseDelayMs?: number;
  /** Upper bound for one delay (also caps Retry-After). Default 30 000. */
  maxDelayMs?: number;
  /** Called before each wait; handy for logs and tests. */
  onRetry?: (info: { attempt: number; delayMs: number; error: ModelError }) => void;
  /** Random source for jitter, [0, 1). Default Math.random. */
  random?: () => number;
}

export interface ResilienceOptions extends RetryOptions {
  /** Per-attempt timeout in ms. Default 120 000; 0 disables it. */
  timeoutMs?: number;
  /** Client-side rate limit shared by every call through this wrapper. */
  rateLimit?: RateLimiter | RateLimitOptions;
}

/**
 * Backoff for attempt n (1-based): "full jitter" over an exponential
 * ceiling, so many clients hitting the same 429 do not retry in lockstep.
 * A Retry-After from the provider wins when it is longer.
 */
export function backoffDelay(attempt: number, error: ModelError, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  const jittered = ceiling / 2 + (options.random ?? Math.random)() * (ceiling / 2);
  const asked = error.retryAfterMs;
  return Math.round(Math.min(max, asked !== undefined ? Math.max(asked, jittered) : jittered));
}

/** Resolves after `ms`, or rejects with an `aborted` ModelError as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal, model = "model"): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new ModelError("aborted", `${model}: the call was aborted`, { model });
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RateLimitOptions {
  /** Sustained requests per second. */
  requestsPerSecond: number;
  /** Requests allowed at once before the rate applies. Default 1. */
  burst?: number;
}

/** A token bucket: callers wait their turn instead of provoking 429s. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  readonly perSecond: number;
  readonly burst: number;
  constructor(options: RateLimitOptions) {
    if (!(options.requestsPerSecond > 0)) throw new RangeError("rateLimit.requestsPerSecond must be a positive number");
    this.perSecond = options.requestsPerSecond;
    this.burst = Math.max(1, options.burst ?? 1);
    this.tokens = this.burst;
  }
  /** Waits until a request may start. Calls are served in arrival order. */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }
  private async take(signal?: AbortSignal): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000), signal);
      this.refill();
    }
    this.tokens -= 1;
  }
  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}

/**
 * Wraps a model with timeouts, retries (exponential backoff + jitter,
 * honouring Retry-After) on rate_limited / timeout / server / network
 * errors, abort signals and an optional client-side rate limit. Adapters
 * turn the SDKs' own retries off, so these are the only ones.
 */
export function withResilience(model: Model, options: ResilienceOptions = {}): Model {
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const limiter =
    options.rateLimit instanceof RateLimiter
      ? options.rateLimit
      : options.rateLimit
        ? new RateLimiter(options.rateLimit)
        : undefined;
  return {
    id: model.id,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        try {
          // What a failed attempt streamed is void: the next attempt streams a new answer.
          if (attempt > 1) request.onStreamReset?.();
          if (limiter) await limiter.acquire(request.signal);
          const result = await attemptWithTimeout(model, request, timeoutMs);
          return { ...result, latencyMs: result.latencyMs ?? Date.now() - started };
        } catch (error) {
          const failure = toFailure(error, model.id, request.signal);
          if (
            !(failure instanceof ModelError) ||
            !isRetryable(failure) ||
            attempt > retries ||
            request.signal?.aborted
          ) {
            throw failure;
          }
          const delayMs = backoffDelay(attempt, failure, options);
          options.onRetry?.({ attempt, delayMs, error: failure });
          await sleep(delayMs, request.signal, model.id);
        }
      }
    },
  };
}

async function attemptWithTimeout(model: Model, request: GenerateRequest, timeoutMs: number): Promise<GenerateResult> {
  if (!timeoutMs) return model.generate(request);
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
  try {
    return await model.generate({ ...request, signal });
  } catch (error) {
    if (timer.signal.aborted && !request.signal?.aborted) {
      throw new ModelError(
        "timeout",
        `${model.id}: no answer within ${timeoutMs} ms`,
        { model: model.id },
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(handle);
  }
}

export interface FallbackOptions {
  /** Whether to try the next model after this error. Default: any error except `aborted`. */
  shouldFallback?: (error: TwelveError) => boolean;
  onFallback?: (info: { from: string; to: string; error: TwelveError }) => void;
}

/**
 * Tries each model in order until one answers. The result's `raw` keeps
 * its shape; which model answered is reported in `GenerateResult.model`.
 */
export function withFallback(models: readonly Model[], options: FallbackOptions = {}): Model {
  if (models.length === 0) throw new RangeError("withFallback needs at least one model");
  const shouldFallback = options.shouldFallback ?? ((error: TwelveError) => error.code !== "aborted");
  return {
    id: models.map((m) => m.id).join(" | "),
    async generate(request) {
      const failures: TwelveError[] = [];
      for (const [index, model] of models.entries()) {
        try {
          if (index > 0) request.onStreamReset?.();
          const result = await model.generate(request);
          return { ...result, model: model.id };
        } catch (error) {
          const failure = toFailure(error, model.id, request.signal);
          failures.push(failure);
          const next = models[index + 1];
          if (!next || !shouldFallback(failure)) break;
          options.onFallback?.({ from: model.id, to: next.id, error: failure });
        }
      }
      const last = failures[failures.length - 1]!;
      if (failures.length === 1) throw last;
      const message = `all ${failures.length} models failed: ${failures.map((f) => f.message).join("; ")}`;
      if (!(last instanceof ModelError)) throw last;
      throw new ModelError(last.code, message, { model: last.model, status: last.status }, { cause: last });
    },
  };
}
