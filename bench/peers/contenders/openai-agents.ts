// OpenAI Agents SDK: a custom Model (its public interface) returning the scripted steps;
// "resume" uses needsApproval and the RunState string round trip (toString / fromString).
import {
  Agent,
  type AgentOutputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  RunState,
  run,
  setTracingDisabled,
  tool,
  Usage,
} from "@openai/agents";
import { z } from "zod";
import { type Contender, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, WORKLOADS, type WorkloadName } from "../workload.js";

class ScriptModel implements Model {
  private calls = 0;
  constructor(private readonly meter: Meter) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const step = this.meter.modelStart(() => {
      const input = request.input;
      return typeof input === "string" ? input : JSON.stringify(input.at(-1));
    });
    this.calls++;
    const output: AgentOutputItem[] =
      step.kind === "tool"
        ? [
            {
              type: "function_call",
              callId: `call_${this.calls}`,
              name: step.tool,
              arguments: JSON.stringify({ a: step.a, b: step.b }),
              status: "completed",
            },
          ]
        : [
            {
              type: "message",
              role: "assistant",
              status: "completed",
              content: [{ type: "output_text", text: step.message }],
            },
          ];
    const response: ModelResponse = { usage: new Usage(), output };
    this.meter.modelEnd();
    return response;
  }

  // biome-ignore lint/correctness/useYield: the benchmark never streams; failing loudly beats a silent fallback.
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error("streaming is not part of this benchmark");
  }
}

export const openaiAgents: Contender = {
  id: "openai-agents",
  label: "OpenAI Agents SDK",
  workloads: ["calc", "long", "resume"],
  async prepare(name: WorkloadName, meter: Meter) {
    const workload = WORKLOADS[name];
    setTracingDisabled(true); // no exporter: nothing leaves the process
    const operands = z.object({ a: z.number(), b: z.number() });
    const needsApproval = workload.approval;
    const agent = new Agent({
      name: "bench",
      instructions: "You are a careful calculator. Do one operation per step, then report the final result.",
      model: new ScriptModel(meter),
      tools: [
        tool({
          name: "add",
          description: "Add a and b",
          parameters: operands,
          needsApproval,
          execute: async ({ a, b }) => meter.tool("add", a, b),
        }),
        tool({
          name: "multiply",
          description: "Multiply a by b",
          parameters: operands,
          needsApproval,
          execute: async ({ a, b }) => meter.tool("multiply", a, b),
        }),
      ],
    });
    const maxTurns = workload.toolSteps + 5;
    return {
      async run(): Promise<RunOutcome> {
        let result = await run<typeof agent, unknown>(agent, TASK, { maxTurns });
        let written = 0;
        while (result.interruptions.length > 0) {
          // The state leaves the process as a string and comes back.
          const saved = result.state.toString();
          written += utf8Bytes(saved);
          const state = await RunState.fromString(agent, saved);
          for (const item of state.getInterruptions()) state.approve(item);
          result = await run(agent, state, { maxTurns });
        }
        const done = result;
        const outcome: RunOutcome = {
          finalText: typeof done.finalOutput === "string" ? done.finalOutput : undefined,
          stateBytes: () => utf8Bytes(done.state.toString()),
        };
        if (workload.approval) outcome.writtenBytes = () => written;
        return outcome;
      },
    };
  },
};
