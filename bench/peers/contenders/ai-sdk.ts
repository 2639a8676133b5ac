// Vercel AI SDK v5: generateText with tools and its MockLanguageModelV2 returning the
// scripted steps. "resume" follows the SDK's human-in-the-loop pattern: tools without
// `execute` stop the loop, the messages leave the process as JSON, the caller runs the
// approved tool, appends its tool-result message and calls generateText again.
import { generateText, type ModelMessage, stepCountIs, type ToolSet, tool } from "ai";
import { MockLanguageModelV2 } from "ai/test";
import { z } from "zod";
import { type Contender, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, type ToolName, WORKLOADS, type WorkloadName } from "../workload.js";

const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

function scriptModel(meter: Meter): MockLanguageModelV2 {
  let calls = 0;
  const model: MockLanguageModelV2 = new MockLanguageModelV2({
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
              finishReason: "tool-calls" as const,
              usage,
              warnings: [],
            }
          : {
              content: [{ type: "text" as const, text: step.message }],
              finishReason: "stop" as const,
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

export const aiSdk: Contender = {
  id: "ai-sdk",
  label: "Vercel AI SDK v5",
  workloads: ["calc", "long", "resume"],
  async prepare(name: WorkloadName, meter: Meter) {
    const workload = WORKLOADS[name];
    const model = scriptModel(meter);
    const system = "You are a careful calculator. Do one operation per step, then report the final result.";
    const stopWhen = stepCountIs(workload.toolSteps + 5);
    const tools: ToolSet = workload.approval
      ? {
          add: tool({ description: "Add a and b", inputSchema: operands }),
          multiply: tool({ description: "Multiply a by b", inputSchema: operands }),
        }
      : {
          add: tool({
            description: "Add a and b",
            inputSchema: operands,
            execute: async ({ a, b }) => meter.tool("add", a, b),
          }),
          multiply: tool({
            description: "Multiply a by b",
            inputSchema: operands,
            execute: async ({ a, b }) => meter.tool("multiply", a, b),
          }),
        };

    return {
      async run(): Promise<RunOutcome> {
        let messages: ModelMessage[] = [{ role: "user", content: TASK }];
        let result = await generateText({ model, system, messages, tools, stopWhen });
        messages = [...messages, ...result.response.messages];
        let written = 0;
        while (result.finishReason === "tool-calls") {
          const saved = JSON.stringify(messages);
          written += utf8Bytes(saved);
          messages = JSON.parse(saved) as ModelMessage[];
          // Approved: run each pending call and answer it with a tool-result message.
          for (const call of result.toolCalls) {
            const { a, b } = operands.parse(call.input);
            const value = meter.tool(call.toolName as ToolName, a, b);
            messages.push({
              role: "tool",
              content: [
                {
                  type: "tool-result",
                  toolCallId: call.toolCallId,
                  toolName: call.toolName,
                  output: { type: "json", value },
                },
              ],
            });
          }
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
