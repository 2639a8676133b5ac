/**
 * The model layer's light half: choosing a model from one string, typed
 * errors, retries / rate limits / fallback, and record / replay. Nothing
 * here loads a provider SDK or node-llama-cpp; the adapters live in their
 * own modules (`./openai.js`, `./anthropic.js`, `./local/index.js`,
 * `./ai-sdk.js`) and resolveModel imports them only when chosen.
 */
export type { Cassette, CassetteEntry, RecordOptions, ReplayOptions } from "./cassette.js";
export { ReplayMissError, readCassette, recordModel, replayModel, requestKey } from "./cassette.js";
export type { ModelErrorCode, ModelErrorDetails } from "./errors.js";
export { isModelError, ModelError, parseRetryAfter } from "./errors.js";
export { DEFAULT_LOCAL_MODEL } from "./local/default.js";
export type { FallbackOptions, RateLimitOptions, ResilienceOptions, RetryOptions } from "./resilience.js";
export { backoffDelay, RateLimiter, withFallback, withResilience } from "./resilience.js";
export type { ResolveOptions } from "./resolve.js";
export { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_MODEL, resolveModel } from "./resolve.js";
export type * from "./types.js";
export type { ThreadUsage } from "./usage.js";
export { threadUsage } from "./usage.js";
