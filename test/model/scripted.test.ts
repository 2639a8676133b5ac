import { describe, expect, it } from "vitest";
import { TwelveError } from "../../src/index.js";
import { scriptedModel } from "../../src/testing.js";

describe("scriptedModel", () => {
  it("answers in order, records requests, and turns steps into JSON text", async () => {
    const model = scriptedModel([
      "plain text",
      { intent: "add", a: 1, b: 2 },
      { toolCalls: [{ id: "c1", name: "add", arguments: { a: 1, b: 2 } }] },
    ]);
    const messages = [{ role: "user" as const, content: "hi" }];
    expect((await model.generate({ messages })).text).toBe("plain text");
    expect((await model.generate({ messages })).text).toBe('{"intent":"add","a":1,"b":2}');
    expect((await model.generate({ messages })).toolCalls?.[0]?.name).toBe("add");
    expect(model.calls).toHaveLength(3);
    expect(model.calls[0]?.messages).toEqual(messages);
    model.assertDone();
  });

  it("throws scripted errors like a failing provider", async () => {
    const model = scriptedModel([new Error("socket hang up"), { error: "slow down", code: "rate_limited" }]);
    await expect(model.generate({ messages: [] })).rejects.toThrow("socket hang up");
    const error = await model.generate({ messages: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(TwelveError);
    expect(error.code).toBe("rate_limited");
  });

  it("calls function answers with the request", async () => {
    const model = scriptedModel([(req) => `you said ${req.messages.at(-1)?.content}`]);
    expect((await model.generate({ messages: [{ role: "user", content: "x" }] })).text).toBe("you said x");
  });

  it("fails loudly when exhausted and when answers are left unused", async () => {
    const model = scriptedModel([{ intent: "done_for_now", message: "a" }, "left over"]);
    await model.generate({ messages: [] });
    expect(() => model.assertDone()).toThrow(
      /1 scripted answer\(s\) left unused after 1 call\(s\); next unused: left over/,
    );
    await model.generate({ messages: [] });
    const error = await model.generate({ messages: [] }).catch((e) => e);
    expect(error.code).toBe("script_exhausted");
  });
});
