// The floor: the loop exactly as the essay writes it. An array of events, the
// whole thread JSON.stringify'd into the prompt each turn, the answer parsed
// with zod, a switch on the intent. No library.
import { z } from "zod";
import { type Contender, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, WORKLOADS, type WorkloadName } from "../workload.js";

interface HandEvent {
  type: string;
  data: unknown;
}
interface HandThread {
  events: HandEvent[];
}

const operands = { a: z.number(), b: z.number() };
const nextStep = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("add"), ...operands }),
  z.object({ intent: z.literal("multiply"), ...operands }),
  z.object({ intent: z.literal("done_for_now"), message: z.string() }),
]);
type NextStep = z.infer<typeof nextStep>;

export const handRolled: Contender = {
  id: "handrolled",
  label: "hand-rolled loop (essay)",
  workloads: ["calc", "long", "resume"],
  async prepare(name: WorkloadName, meter: Meter) {
    const workload = WORKLOADS[name];

    // The LLM call: the prompt is the thread as JSON; the answer is JSON text.
    const determineNextStep = async (prompt: string): Promise<string> => {
      const step = meter.modelStart(() => prompt);
      const answer =
        step.kind === "tool"
          ? JSON.stringify({ intent: step.tool, a: step.a, b: step.b })
          : JSON.stringify({ intent: "done_for_now", message: step.message });
      meter.modelEnd();
      return answer;
    };

    const execute = (step: NextStep, thread: HandThread): void => {
      switch (step.intent) {
        case "add":
          thread.events.push({ type: "add_result", data: meter.tool("add", step.a, step.b) });
          return;
        case "multiply":
          thread.events.push({ type: "multiply_result", data: meter.tool("multiply", step.a, step.b) });
          return;
        case "done_for_now":
          return;
      }
    };

    // Returns the final message, or undefined when the loop paused for approval.
    const loop = async (thread: HandThread): Promise<string | undefined> => {
      while (true) {
        const step = nextStep.parse(JSON.parse(await determineNextStep(JSON.stringify(thread))));
        thread.events.push({ type: step.intent, data: step });
        if (step.intent === "done_for_now") return step.message;
        if (workload.approval) return undefined;
        execute(step, thread);
      }
    };

    return {
      async run(): Promise<RunOutcome> {
        let thread: HandThread = { events: [{ type: "user_message", data: TASK }] };
        let final = await loop(thread);
        let written = 0;
        while (final === undefined) {
          const saved = JSON.stringify(thread); // db.save_thread(thread)
          written += utf8Bytes(saved);
          thread = JSON.parse(saved) as HandThread; // later, from the approval webhook
          thread.events.push({ type: "approval", data: { approved: true } });
          const pending = nextStep.parse(thread.events.at(-2)?.data);
          execute(pending, thread);
          final = await loop(thread);
        }
        const done = thread;
        const outcome: RunOutcome = { finalText: final, stateBytes: () => utf8Bytes(JSON.stringify(done)) };
        if (workload.approval) outcome.writtenBytes = () => written;
        return outcome;
      },
    };
  },
};
