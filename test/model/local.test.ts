import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStep } from "../../src/intent/parse/index.js";
import { type LocalModel, localModel } from "../../src/model/local/index.js";
import { buildTinyModel } from "../../src/model/local/tiny-model.js";
import { calculatorIntents, calculatorOutput } from "./calculator.js";

// The real node-llama-cpp path (load GGUF → chat template → grammar-constrained
// sampling) on a tiny random model generated here, since no weights can be downloaded.
describe("embedded local model (node-llama-cpp) on a generated tiny GGUF", () => {
  let dir: string;
  let model: LocalModel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-gguf-"));
    const path = join(dir, "tiny.gguf");
    await writeFile(path, buildTinyModel({ seed: 12 }));
    model = localModel({ model: path, gpu: false, threads: 1, contextSize: 2048 });
  }, 30_000);

  afterAll(async () => {
    await model?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const tasks = ["add 3 and 4", "multiply 6 by 7, then divide by 2", "what is 10 minus 4?", "say hello and stop"];

  it("every answer is a valid calculator step (json mode, grammar from the step schema)", async () => {
    const seen = new Set<string>();
    for (const task of tasks) {
      const result = await model.generate({
        messages: [
          { role: "system", content: "You are a calculator agent. Answer with one JSON step." },
          { role: "user", content: task },
        ],
        output: calculatorOutput("json"),
      });
      expect(typeof result.text).toBe("string");
      const step = parseStep(result.text!, calculatorIntents);
      seen.add(step.value.intent);
      expect(result.usage!.outputTokens).toBeGreaterThan(0);
      expect(result.usage!.inputTokens).toBeGreaterThan(0);
      expect((result.raw as { chatWrapper: string }).chatWrapper).toBe("ChatML");
    }
    expect(seen.size).toBeGreaterThan(0);
  }, 60_000);

  it("streams text deltas that add up to the answer, also in prompt and tools modes", async () => {
    for (const mode of ["prompt", "tools"] as const) {
      const deltas: string[] = [];
      const result = await model.generate({
        messages: [
          { role: "user", content: "add 1 and 2" },
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "add", arguments: { a: 1, b: 2 } }] },
          { role: "tool", content: "3", toolCallId: "c1", name: "add" },
        ],
        output: calculatorOutput(mode),
        temperature: 0.8,
        onText: (delta) => deltas.push(delta),
      });
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.join("")).toBe(result.text);
      expect(() => parseStep(result.text!, calculatorIntents)).not.toThrow();
    }
  }, 60_000);

  it("an aborted call fails with code aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      model.generate({
        messages: [{ role: "user", content: "add 1 and 2" }],
        output: calculatorOutput("json"),
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: "aborted" });
  });

  it("a missing file and a non-GGUF file give config errors", async () => {
    await expect(
      localModel({ model: join(dir, "nope.gguf"), gpu: false }).generate({
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ code: "config_error", message: expect.stringContaining("does not exist") });
    const junk = join(dir, "junk.gguf");
    await writeFile(junk, "not a model");
    await expect(
      localModel({ model: junk, gpu: false }).generate({ messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ code: "config_error", message: expect.stringContaining("cannot load") });
  }, 30_000);
});
