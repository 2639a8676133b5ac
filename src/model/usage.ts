import type { Thread } from "../thread/thread.js";
import type { Usage } from "./types.js";

export interface ThreadUsage extends Usage {
  /** Model calls that reported usage (steps and model-side errors). */
  calls: number;
  /** Sum of `latencyMs` over those calls. */
  latencyMs: number;
  /** Per model id, for threads that switched or fell back. */
  byModel: Record<string, Usage & { calls: number }>;
}

/**
 * Per-thread token totals, derived from the `usage` each model call left in
 * its event's meta (factor 5: nothing stored twice).
 */
export function threadUsage(thread: Pick<Thread, "events">): ThreadUsage {
  const total: ThreadUsage = { inputTokens: 0, outputTokens: 0, calls: 0, latencyMs: 0, byModel: {} };
  for (const event of thread.events) {
    const usage = event.meta?.usage as Partial<Usage> | undefined;
    if (!usage || typeof usage !== "object") continue;
    const input = Number(usage.inputTokens) || 0;
    const output = Number(usage.outputTokens) || 0;
    total.inputTokens += input;
    total.outputTokens += output;
    total.calls += 1;
    total.latencyMs += Number(event.meta?.latencyMs) || 0;
    const id = typeof event.meta?.model === "string" ? event.meta.model : "unknown";
    const entry = total.byModel[id] ?? { inputTokens: 0, outputTokens: 0, calls: 0 };
    total.byModel[id] = entry;
    entry.inputTokens += input;
    entry.outputTokens += output;
    entry.calls += 1;
  }
  return total;
}
