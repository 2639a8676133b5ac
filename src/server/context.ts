import type { ResolvedConfig } from "../config/index.js";
import type { AgentRuntime } from "../runtime/runtime.js";
import type { Worker } from "../runtime/worker.js";
import type { ThreadStore } from "../store/types.js";

/** One line per event, with fields; the default writes JSON lines to stderr. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Everything a route, a stream or a background task of the server needs.
 * Built once by `startServer` (server/serve.ts); plug-ins (streams,
 * webhooks, channels) receive it in their `register…(app, ctx)` /
 * `start…(ctx)` functions.
 */
export interface ServerContext {
  /** The runtime: the one way threads are started, answered and continued. */
  readonly runtime: AgentRuntime;
  /** Runs the runtime's calls in the background (launch → 202); `worker.runtime === runtime`. */
  readonly worker: Worker;
  /** The store the runtime writes to (read freely; never append to it from a route). */
  readonly store: ThreadStore;
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  /** Aborted when the server starts draining: long-lived work (streams, dispatch loops) ends. */
  readonly signal: AbortSignal;
  /** True once a shutdown began: /readyz answers 503 and /v1 writes answer 503 `draining`. */
  draining(): boolean;
  /**
   * Registers work to finish during a graceful shutdown, after running
   * threads finished or released their leases and before the store closes
   * (e.g. flush the webhook outbox). Hooks run in the order registered.
   */
  onShutdown(hook: () => void | Promise<void>): void;
}

export const consoleLogger = (write: (line: string) => void = (l) => process.stderr.write(l)): Logger => {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields })}\n`);
  return {
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
};
