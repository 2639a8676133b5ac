import { describe, expect, it } from "vitest";
import { threadUsage } from "../../src/model/usage.js";
import type { Event } from "../../src/thread/event.js";

const at = "2026-01-01T00:00:00.000Z";

describe("threadUsage", () => {
  it("sums the usage model calls left in event meta, per thread and per model", () => {
    const events: Event[] = [
      { id: "1", type: "user_message", data: "multiply 3 and 4", at },
      {
        id: "2",
        type: "multiply",
        data: { a: 3, b: 4 },
        at,
        meta: {
          kind: "step",
          model: "openai:gpt-4.1-mini",
          usage: { inputTokens: 100, outputTokens: 10 },
          latencyMs: 300,
        },
      },
      { id: "3", type: "multiply_result", data: 12, at, meta: { kind: "result" } },
      {
        id: "4",
        type: "error",
        data: { kind: "model" },
        at,
        meta: { model: "local:x.gguf", usage: { inputTokens: 50, outputTokens: 5 } },
      },
      {
        id: "5",
        type: "done_for_now",
        data: { message: "12" },
        at,
        meta: {
          kind: "step",
          model: "openai:gpt-4.1-mini",
          usage: { inputTokens: 120, outputTokens: 12 },
          latencyMs: 200,
        },
      },
    ];
    expect(threadUsage({ events })).toEqual({
      inputTokens: 270,
      outputTokens: 27,
      calls: 3,
      latencyMs: 500,
      byModel: {
        "openai:gpt-4.1-mini": { inputTokens: 220, outputTokens: 22, calls: 2 },
        "local:x.gguf": { inputTokens: 50, outputTokens: 5, calls: 1 },
      },
    });
    expect(threadUsage({ events: [] })).toMatchObject({ inputTokens: 0, outputTokens: 0, calls: 0 });
  });
});
