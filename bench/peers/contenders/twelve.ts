// twelve: the agent loop in memory, or with every event committed to its SQLite store.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  approve,
  createThread,
  defineAgent,
  defineIntent,
  type Event,
  parseThread,
  resume,
  run,
  type Thread,
  threadState,
} from "../../../src/index.js";
import type { Model } from "../../../src/model/index.js";
import { type Contender, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, WORKLOADS, type WorkloadName } from "../workload.js";

/** A fake model through twelve's public Model interface: answers with the scripted step as JSON text. */
export function benchModel(meter: Meter): Model {
  return {
    id: "bench:script",
    async generate(request) {
      const step = meter.modelStart(() => request.messages.at(-1)?.content ?? "");
      const text =
        step.kind === "tool"
          ? JSON.stringify({ intent: step.tool, a: step.a, b: step.b })
          : JSON.stringify({ intent: "done_for_now", message: step.message });
      meter.modelEnd();
      return { text };
    },
  };
}

export function benchAgent(meter: Meter, approval: boolean) {
  const operands = z.object({ a: z.number(), b: z.number() });
  const policy = approval ? "approve" : "run";
  return defineAgent({
    name: "bench",
    instructions: "You are a careful calculator. Do one operation per step, then report the final result.",
    intents: [
      defineIntent("add", operands, {
        description: "Add a and b",
        policy,
        handler: ({ a, b }) => meter.tool("add", a, b),
      }),
      defineIntent("multiply", operands, {
        description: "Multiply a by b",
        policy,
        handler: ({ a, b }) => meter.tool("multiply", a, b),
      }),
    ],
    maxSteps: 100,
  });
}

export function finalText(thread: Thread): string | undefined {
  const last = thread.events.at(-1);
  return last?.type === "done_for_now" ? String((last.data as { message?: unknown }).message) : undefined;
}

export function newThread(): Thread {
  const trigger: Event = { id: `evt_${randomUUID()}`, type: "user_message", data: TASK, at: new Date().toISOString() };
  return createThread("bench", [trigger]);
}

export const twelveMemory: Contender = {
  id: "twelve",
  label: "twelve (in memory)",
  workloads: ["calc", "long", "resume"],
  async prepare(name: WorkloadName, meter: Meter) {
    const workload = WORKLOADS[name];
    const agent = benchAgent(meter, workload.approval);
    const model = benchModel(meter);
    return {
      async run(): Promise<RunOutcome> {
        let thread = await run(agent, newThread(), { model });
        let written = 0;
        while (threadState(thread).status === "awaiting_approval") {
          // The state leaves the process as a string and comes back.
          const saved = JSON.stringify(thread);
          written += utf8Bytes(saved);
          const restored = parseThread(JSON.parse(saved));
          thread = await resume(agent, restored, approve(), { model });
        }
        const done = thread;
        const outcome: RunOutcome = { finalText: finalText(done), stateBytes: () => utf8Bytes(JSON.stringify(done)) };
        if (workload.approval) outcome.writtenBytes = () => written;
        return outcome;
      },
    };
  },
};
