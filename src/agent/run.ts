import { defaultRuntime, makeEvent, type Runtime } from "../thread/event.js";
import { threadState } from "../thread/status.js";
import { appendEvents, type Thread } from "../thread/thread.js";
import type { Agent } from "./agent.js";
import { IN_LOOP, type StepOptions, step } from "./step.js";

export interface RunOptions extends StepOptions {
  /** Overrides the agent's step budget for this run. */
  maxSteps?: number;
}

/**
 * The for loop (factor 8): step while the thread is runnable, within the
 * step budget. Running out of budget is a terminal `failed` event with
 * reason `step_budget`, never an exception or an endless loop.
 */
export async function run(agent: Agent, thread: Thread, options: RunOptions): Promise<Thread> {
  const runtime: Runtime = options.runtime ?? defaultRuntime;
  const budget = options.maxSteps ?? agent.maxSteps;
  let current = thread;
  let steps = 0;
  while (threadState(current).status === "running") {
    options.signal?.throwIfAborted();
    if (steps >= budget) {
      const failed = makeEvent(runtime, "failed", {
        reason: "step_budget",
        message: `stopped after ${budget} steps without finishing (step budget)`,
      });
      const next = appendEvents(current, [failed]);
      // Control returns to the caller: durable.
      current = options.commit ? await options.commit(next, [failed], true) : next;
      options.onEvent?.(failed, current);
      break;
    }
    current = await step(agent, current, { ...options, runtime, [IN_LOOP]: true });
    steps++;
  }
  return current;
}
