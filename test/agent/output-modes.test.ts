import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, defineIntent, type Event, type Repair, run, startThread, threadState } from "../../src/index.js";
import type { OutputMode } from "../../src/model/types.js";
import { deterministicRuntime, scriptedModel } from "../../src/testing.js";

/**
 * Every output mode through the real agent loop with the scripted model:
 * almost-right answers become steps with `meta.repairs`, wrong ones become
 * `error` events the model sees next turn, and `meta.mode` records the mode.
 */
const operands = z.object({ a: z.number(), b: z.number() });
const multiply = defineIntent("multiply", operands, { description: "Multiply a and b", handler: ({ a, b }) => a * b });
const divide = defineIntent("divide", operands, { description: "Divide a by b", handler: ({ a, b }) => a / b });

function calculator(output: OutputMode) {
  return defineAgent({ name: "calc", intents: [multiply, divide], output });
}

function start() {
  const runtime = deterministicRuntime();
  return { runtime, thread: startThread("calc", "multiply 3 and 4, then divide by 2", { runtime }) };
}

const kinds = (event: Event | undefined) => ((event?.meta?.repairs as Repair[] | undefined) ?? []).map((r) => r.kind);
const steps = (events: Event[]) => events.filter((e) => e.meta?.kind === "step");

describe("output modes through the agent loop", () => {
  it("prompt mode: a messy text answer becomes a step with its repairs; a clean one has none", async () => {
    const model = scriptedModel([
      'I need the product first, so I\'ll multiply.\n```json\n{"intent": "Multiply", "a": "3", "b": 4,}\n```',
      '{"intent": "divide", "a": 12, "b": 2, "why": "halve it"}',
      { intent: "done_for_now", message: "The answer is 6." },
    ]);
    const { runtime, thread } = start();
    const done = await run(calculator("prompt"), thread, { model, runtime });
    model.assertDone();

    expect(threadState(done).status).toBe("done");
    const [first, second, third] = steps(done.events);
    expect(first?.data).toEqual({ intent: "multiply", a: 3, b: 4 });
    expect(first?.meta).toMatchObject({ mode: "prompt", intent: "multiply", model: "script:inline" });
    expect(kinds(first).sort()).toEqual(
      ["fence_stripped", "intent_normalized", "string_to_number", "text_dropped", "trailing_comma"].sort(),
    );
    expect(first?.meta?.repairs).toContainEqual({ kind: "string_to_number", path: "a", from: "3", to: 3 });
    expect(second?.data).toEqual({ intent: "divide", a: 12, b: 2 });
    expect(second?.meta?.repairs).toEqual([{ kind: "extra_key_dropped", path: "why", from: "halve it" }]);
    expect(third?.meta?.repairs).toBeUndefined();
    expect(done.events.find((e) => e.type === "multiply_result")?.data).toBe(12);
    expect(done.events.find((e) => e.type === "divide_result")?.data).toBe(6);

    // The prompt carried the TypeScript-like schemas and no tools were offered as the mode.
    const request = model.calls[0];
    expect(request?.output?.mode).toBe("prompt");
    expect(request?.messages[0]?.content).toContain('{ intent: "multiply"; a: number; b: number }');
  });

  it("json mode: a wrong answer becomes an error event the model reads and corrects next turn", async () => {
    const model = scriptedModel([
      '{"intent": "multiply", "a": "three", "b": 4}',
      '{"intent": "multiply", "a": 3, "b": 4}',
      '{"intent": "divide", "a": 12, "b": 2}',
      '{"intent": "done_for_now", "message": "6"}',
    ]);
    const { runtime, thread } = start();
    const done = await run(calculator("json"), thread, { model, runtime });
    model.assertDone();

    expect(threadState(done).status).toBe("done");
    const error = done.events.find((e) => e.type === "error");
    expect(error?.data).toMatchObject({ kind: "invalid_arguments", intent: "multiply" });
    expect((error!.data as { message: string }).message).toContain(
      "a: Invalid input: expected number, received string",
    );
    expect((error!.data as { message: string }).message).toContain('{ intent: "multiply"; a: number; b: number }');
    expect(error?.meta).toMatchObject({ mode: "json", raw: '{"intent": "multiply", "a": "three", "b": 4}' });

    // The error is in the context of the next call, so the model can fix its answer.
    const retry = model.calls[1];
    expect(JSON.stringify(retry?.messages)).toContain("expected number, received string");
    expect(retry?.output?.mode).toBe("json");
    expect(retry?.output?.jsonSchema).toMatchObject({ anyOf: expect.any(Array) });
    for (const s of steps(done.events)) expect(s.meta?.mode).toBe("json");
  });

  it("tools mode: tool calls with broken string arguments are repaired; text answers still parse", async () => {
    const model = scriptedModel([
      { toolCalls: [{ id: "call_1", name: "multiply", arguments: '{"a": 3, "b": "4",}' }] },
      {
        toolCalls: [
          { id: "call_2", name: "lookup_weather", arguments: {} },
          { id: "call_3", name: "Divide", arguments: { a: 12, b: 2 } },
        ],
      },
      // The model answers in text even though tools were offered: parsed leniently all the same.
      'Done. {"intent": "done_for_now", "message": "6"}',
    ]);
    const { runtime, thread } = start();
    const done = await run(calculator("tools"), thread, { model, runtime });
    model.assertDone();

    expect(threadState(done).status).toBe("done");
    const [first, second, third] = steps(done.events);
    expect(first?.data).toEqual({ intent: "multiply", a: 3, b: 4 });
    expect(kinds(first).sort()).toEqual(["string_to_number", "trailing_comma"]);
    expect(first?.meta?.raw).toEqual([{ id: "call_1", name: "multiply", arguments: '{"a": 3, "b": "4",}' }]);
    expect(second?.data).toEqual({ intent: "divide", a: 12, b: 2 });
    expect(kinds(second).sort()).toEqual(["extra_tool_calls_dropped", "intent_normalized", "tool_call_skipped"]);
    expect(third?.data).toEqual({ intent: "done_for_now", message: "6" });
    expect(kinds(third)).toEqual(["text_dropped"]);
    for (const s of [first, second, third]) expect(s?.meta?.mode).toBe("tools");

    const request = model.calls[0];
    expect(request?.output?.mode).toBe("tools");
    expect(request?.output?.tools.map((t) => t.name)).toEqual([
      "multiply",
      "divide",
      "request_human_input",
      "done_for_now",
    ]);
  });

  it("tools mode: an unknown tool becomes an error event naming the tools", async () => {
    const model = scriptedModel([
      { toolCalls: [{ id: "call_1", name: "launch_rocket", arguments: '{"when": "now"}' }] },
      { toolCalls: [{ id: "call_2", name: "done_for_now", arguments: '{"message": "cannot launch"}' }] },
    ]);
    const { runtime, thread } = start();
    const done = await run(calculator("tools"), thread, { model, runtime });
    model.assertDone();

    const error = done.events.find((e) => e.type === "error");
    expect(error?.data).toMatchObject({ kind: "unknown_intent", intent: "launch_rocket" });
    expect((error!.data as { message: string }).message).toContain(
      "one of: multiply, divide, request_human_input, done_for_now",
    );
    expect(error?.meta).toMatchObject({ mode: "tools", phase: "model" });
    expect(threadState(done).status).toBe("done");
  });

  it("every mode: an answer with no JSON at all becomes a no_json error event, then the loop continues", async () => {
    for (const mode of ["prompt", "json", "tools"] as const) {
      const model = scriptedModel(["I think the answer is 12.", { intent: "done_for_now", message: "12" }]);
      const { runtime, thread } = start();
      const done = await run(calculator(mode), thread, { model, runtime });
      model.assertDone();
      const error = done.events.find((e) => e.type === "error");
      expect(error?.data, mode).toMatchObject({ kind: "no_json" });
      expect(error?.meta, mode).toMatchObject({ mode, raw: "I think the answer is 12." });
      expect(threadState(done).status, mode).toBe("done");
    }
  });
});
