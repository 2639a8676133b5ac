import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordModel, replayModel } from "../../src/model/cassette.js";
import { withFallback, withResilience } from "../../src/model/resilience.js";
import { resolveModel } from "../../src/model/resolve.js";
import { rulesModel } from "../../src/model/rules.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { split } from "../../src/model/stream.js";
import type { GenerateRequest, Model } from "../../src/model/types.js";
import { calculatorOutput } from "./calculator.js";
import { FakeProvider, sseData } from "./fake-server.js";

/** Every wrapper passes the streaming callbacks through to the model it wraps. */
const toolAnswer = { toolCalls: [{ id: "call_1", name: "divide", arguments: { a: 12, b: 4 } }] };
const request = (deltas: string[][]): GenerateRequest => ({
  messages: [{ role: "user", content: "divide 12 by 4" }],
  output: calculatorOutput("tools"),
  onToolArguments: (id, name, delta) => deltas.push([id, name, delta]),
});
const joined = (deltas: string[][]) => deltas.map((d) => d[2]).join("");

async function streams(model: Model): Promise<string[][]> {
  const deltas: string[][] = [];
  const result = await model.generate(request(deltas));
  expect(result.toolCalls?.[0]?.arguments).toEqual({ a: 12, b: 4 });
  return deltas;
}

describe("streaming callbacks through every wrapper", () => {
  const dir = mkdtempSync(join(tmpdir(), "twelve-forward-"));

  it("the scripted model plays tool-call arguments back in pieces; withResilience and withFallback pass them on", async () => {
    for (const model of [
      scriptedModel([toolAnswer]),
      withResilience(scriptedModel([toolAnswer])),
      withFallback([scriptedModel([{ error: "down", code: "server" }]), scriptedModel([toolAnswer])]),
    ]) {
      const deltas = await streams(model);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.every(([id, name]) => id === "call_1" && name === "divide")).toBe(true);
      expect(JSON.parse(joined(deltas))).toEqual({ a: 12, b: 4 });
    }
  });

  it("recordModel passes them to the recorded model; replayModel plays the recorded arguments back", async () => {
    const path = join(dir, "tools.json");
    const recorded = await streams(recordModel(scriptedModel([toolAnswer]), path));
    expect(JSON.parse(joined(recorded))).toEqual({ a: 12, b: 4 });
    const replayed = await streams(await replayModel(path));
    expect(replayed).toEqual(recorded);
  });

  it("the rules model streams its text answer through onText", async () => {
    const model = rulesModel([{ answer: { intent: "done_for_now", message: "hello there" } }]);
    const deltas: string[] = [];
    const result = await model.generate({
      messages: [],
      thread: { id: "thr_1", agent: "a", events: [] },
      onText: (d) => deltas.push(d),
    });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(result.text);
  });

  it("split never cuts a surrogate pair and keeps every character", () => {
    expect(split("a🎉b🎉", 4)).toEqual(["a", "🎉", "b", "🎉"]);
    expect(split("", 4)).toEqual([]);
    expect(split("abcdefghij", 4).join("")).toBe("abcdefghij");
  });

  describe("models resolveModel builds (resilience, recording) against a local server", () => {
    const server = new FakeProvider();
    beforeAll(() => server.start());
    afterAll(() => server.stop());

    it("openai-compatible + TWELVE_RECORD: argument deltas reach the caller through both wrappers", async () => {
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });
      server.reply({
        sse: [
          sseData(
            chunk({
              role: "assistant",
              tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "divide", arguments: "" } }],
            }),
          ),
          sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":12,' } }] })),
          sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '"b":4}' } }] })),
          sseData(chunk({}, "tool_calls")),
          sseData("[DONE]"),
        ],
      });
      const record = join(dir, "resolved.json");
      writeFileSync(record, JSON.stringify({ version: 1, model: "x", entries: [] }));
      const model = await resolveModel(`openai-compatible:${server.url}/v1#m`, { env: {}, record });
      const deltas = await streams(model);
      expect(deltas).toEqual([
        ["call_1", "divide", '{"a":12,'],
        ["call_1", "divide", '"b":4}'],
      ]);
    });
  });
});
