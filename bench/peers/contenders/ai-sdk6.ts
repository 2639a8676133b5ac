// Vercel AI SDK v6 (also runs on Node 20): generateText with tools and MockLanguageModelV3.
// "resume" uses v6's built-in tool approval: `needsApproval: true` stops the loop with a
// tool-approval-request; the messages leave the process as JSON, come back, get a
// tool-approval-response appended, and generateText runs the approved tool and continues.
import { generateText, type ModelMessage, stepCountIs, type ToolSet, tool } from "ai6";
import { MockLanguageModelV3 } from "ai6/test";
import { z } from "zod";
import { type Contender, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, WORKLOADS, type WorkloadName } from "../workload.js";

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

function scriptModel(meter: Meter): MockLanguageModelV3 {
  let calls = 0;
  const model: MockLanguageModelV3 = new MockLanguageModelV3({
    doGenerate: async (options) => {
      const step = meter.modelStart(() => JSON.stringify(options.prompt.at(-1)));
      model.doGenerateCalls.length = 0; // the mock records every call; keep memory flat
      calls++;
      const result =
        step.kind === "tool"
          ? {
              content: [
                {
                  type: "tool-call" as const,
                  toolCallId: `call_${calls}`,
                  toolName: step.tool,
                  input: JSON.stringify({ a: step.a, b: step.b }),
                },
              ],
              finishReason: { unified: "tool-calls" as const, raw: "tool_calls" },
              usage,
              warnings: [],
            }
          : {
              content: [{ type: "text" as const, text: step.message }],
              finishReason: { unified: "stop" as const, raw: "stop" },
              usage,
              warnings: [],
            };
      meter.modelEnd();
      return result;
    },
  });
  return model;
}

const operands = z.object({ a: z.number(), b: z.number() });

export const aiSdk6: Contender = {
  id: "ai-sdk6",
  label: "Vercel AI SDK v6",
  workloads: ["calc", "long", "resume"],
  async prepare(name: WorkloadName, meter: Meter) {
    const workload = WORKLOADS[name];
    const model = scriptModel(meter);
    const system = "You are a careful calculator. Do one operation per step, then report the final result.";
    const stopWhen = stepCountIs(workload.toolSteps + 5);
    const needsApproval = workload.approval;
    const tools: ToolSet = {
      add: tool({
        description: "Add a and b",
        inputSchema: operands,
        needsApproval,
        execute: async ({ a, b }) => meter.tool("add", a, b),
      }),
      multiply: tool({
        description: "Multiply a by b",
        inputSchema: operands,
        needsApproval,
        execute: async ({ a, b }) => meter.tool("multiply", a, b),
      }),
    };

    return {
      async run(): Promise<RunOutcome> {
        let messages: ModelMessage[] = [{ role: "user", content: TASK }];
        let result = await generateText({ model, system, messages, tools, stopWhen });
        messages = [...messages, ...result.response.messages];
        let written = 0;
        for (;;) {
          const requests = result.content.filter((part) => part.type === "tool-approval-request");
          if (requests.length === 0) break;
          const saved = JSON.stringify(messages);
          written += utf8Bytes(saved);
          messages = JSON.parse(saved) as ModelMessage[];
          messages.push({
            role: "tool",
            content: requests.map((r) => ({
              type: "tool-approval-response",
              approvalId: r.approvalId,
              approved: true,
            })),
          });
          result = await generateText({ model, system, messages, tools, stopWhen });
          messages = [...messages, ...result.response.messages];
        }
        const done = messages;
        const outcome: RunOutcome = { finalText: result.text, stateBytes: () => utf8Bytes(JSON.stringify(done)) };
        if (workload.approval) outcome.writtenBytes = () => written;
        return outcome;
      },
    };
  },
};
