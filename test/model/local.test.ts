import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestHumanInput } from "../../src/intent/intent.js";
import { parseStep } from "../../src/intent/parse/index.js";
import { stepJsonSchema, toolSpecs } from "../../src/intent/schema-text.js";
import { type LocalModel, localModel } from "../../src/model/local/index.js";
import { buildTinyModel } from "../support/gguf/tiny-model.js";
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

  const tasks = ["add 3 and 4", "multiply 6 by 7, then divide by 2", "say hello and stop"];

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

  it("the built-in intents (nested optional object, enums, string arrays) decode into valid steps too", async () => {
    const intents = [...calculatorIntents, requestHumanInput];
    const output = { mode: "json" as const, tools: toolSpecs(intents), jsonSchema: stepJsonSchema(intents) };
    const seen = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) {
      const result = await model.generate({
        messages: [{ role: "user", content: `ask me something, or add ${seed} and ${seed}` }],
        output,
        temperature: 1.5,
        maxTokens: 400,
      });
      seen.add(parseStep(result.text!, intents).value.intent);
    }
    expect(seen.size).toBeGreaterThan(0);
  }, 60_000);

  it("aborting mid-generation stops decoding with code aborted", async () => {
    const controller = new AbortController();
    const deltas: string[] = [];
    await expect(
      model.generate({
        messages: [{ role: "user", content: "add 1 and 2" }],
        output: calculatorOutput("json"),
        signal: controller.signal,
        onText: (delta) => {
          deltas.push(delta);
          controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: "aborted" });
    expect(deltas.length).toBeGreaterThan(0);
  });

  it("hf: URIs download once into the cache dir (from a local Hugging Face stand-in), then load from it", async () => {
    const bytes = await readFile(join(dir, "tiny.gguf"));
    const hits: string[] = [];
    const hub = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith("/twelve/tiny-GGUF/resolve/main/tiny-q.gguf")) {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.length) });
        res.end(req.method === "HEAD" ? undefined : bytes);
      } else {
        res.writeHead(404).end("Entry not found");
      }
    });
    await new Promise<void>((ready) => hub.listen(0, "127.0.0.1", ready));
    const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    const cacheDir = join(dir, "cache");
    try {
      const progress: number[] = [];
      const remote = localModel({
        model: "hf:twelve/tiny-GGUF/tiny-q.gguf",
        cacheDir,
        huggingFaceEndpoint: endpoint,
        progressBar: false,
        onDownloadProgress: ({ downloadedSize }) => progress.push(downloadedSize),
        gpu: false,
        threads: 1,
      });
      const path = await remote.load();
      expect(path.startsWith(cacheDir)).toBe(true);
      expect((await stat(path)).size).toBe(bytes.length);
      expect(progress.at(-1)).toBe(bytes.length);
      const result = await remote.generate({
        messages: [{ role: "user", content: "add 2 and 2" }],
        output: calculatorOutput("json"),
      });
      expect(() => parseStep(result.text!, calculatorIntents)).not.toThrow();
      await remote.dispose();

      const downloads = hits.filter((h) => h.startsWith("GET")).length;
      const again = localModel({
        model: "hf:twelve/tiny-GGUF/tiny-q.gguf",
        cacheDir,
        huggingFaceEndpoint: endpoint,
        progressBar: false,
        gpu: false,
      });
      expect(await again.load()).toBe(path);
      expect(hits.filter((h) => h.startsWith("GET")).length).toBe(downloads);
      await again.dispose();
    } finally {
      hub.closeAllConnections();
      await new Promise((done) => hub.close(done));
    }
  }, 60_000);

  it("a missing file and a non-GGUF file give model_config errors", async () => {
    await expect(
      localModel({ model: join(dir, "nope.gguf"), gpu: false }).generate({
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ code: "model_config", message: expect.stringContaining("does not exist") });
    const junk = join(dir, "junk.gguf");
    await writeFile(junk, "not a model");
    await expect(
      localModel({ model: junk, gpu: false }).generate({ messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ code: "model_config", message: expect.stringContaining("cannot load") });
  }, 30_000);
});
