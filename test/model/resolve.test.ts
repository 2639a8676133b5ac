import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordModel } from "../../src/model/cassette.js";
import { DEFAULT_LOCAL_MODEL } from "../../src/model/local/index.js";
import { resolveModel } from "../../src/model/resolve.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { buildTinyModel } from "../support/gguf/tiny-model.js";
import { FakeProvider } from "./fake-server.js";

const none = {};

describe("resolveModel: one string picks the model", () => {
  let dir: string;
  const server = new FakeProvider();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-resolve-"));
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("openai:<model> needs OPENAI_API_KEY, and says so in one sentence", async () => {
    await expect(resolveModel("openai:gpt-4.1-mini", { env: none })).rejects.toMatchObject({
      code: "model_config",
      message:
        'model "openai:gpt-4.1-mini" needs an API key: set OPENAI_API_KEY (or use openai-compatible:<baseURL>#<model> for a server without one)',
    });
    const model = await resolveModel("openai:gpt-4.1-mini", { env: { OPENAI_API_KEY: "sk-x" } });
    expect(model.id).toBe("openai:gpt-4.1-mini");
  });

  it("anthropic:<model> needs ANTHROPIC_API_KEY", async () => {
    await expect(resolveModel("anthropic:claude-sonnet-4-5", { env: none })).rejects.toMatchObject({
      code: "model_config",
      message: expect.stringContaining("set ANTHROPIC_API_KEY"),
    });
    expect((await resolveModel("anthropic:claude-sonnet-4-5", { env: { ANTHROPIC_API_KEY: "k" } })).id).toBe(
      "anthropic:claude-sonnet-4-5",
    );
  });

  it("openai-compatible:<baseURL>#<model> talks to that server without a key (model names may contain colons)", async () => {
    server.reply({
      json: {
        id: "c",
        object: "chat.completion",
        created: 1,
        model: "qwen3:4b",
        choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
      },
    });
    const model = await resolveModel(`openai-compatible:${server.url}/v1#qwen3:4b`, { env: none });
    expect(model.id).toBe(`openai-compatible:${server.url}/v1#qwen3:4b`);
    expect((await model.generate({ messages: [{ role: "user", content: "hi" }] })).text).toBe("hello");
    expect(server.requests[0]!.body).toMatchObject({ model: "qwen3:4b" });
    await expect(resolveModel("openai-compatible:localhost:11434#qwen", { env: none })).rejects.toMatchObject({
      code: "model_config",
      message: expect.stringContaining("openai-compatible:<http(s) base URL>#<model>"),
    });
  });

  it("replay:, script: and local: files", async () => {
    const cassette = join(dir, "c.json");
    await recordModel(scriptedModel(["recorded"]), cassette).generate({ messages: [{ role: "user", content: "q" }] });
    const replay = await resolveModel(`replay:${cassette}`, { env: none });
    expect((await replay.generate({ messages: [{ role: "user", content: "q" }] })).text).toBe("recorded");

    const script = join(dir, "steps.json");
    await writeFile(script, JSON.stringify([{ intent: "done_for_now", message: "ok" }]));
    const scripted = await resolveModel(`script:${script}`, { env: none });
    expect((await scripted.generate({ messages: [] })).text).toBe('{"intent":"done_for_now","message":"ok"}');

    const gguf = join(dir, "tiny.gguf");
    await writeFile(gguf, buildTinyModel());
    const local = await resolveModel(`local:${gguf}`, { env: none, local: { gpu: false, threads: 1 } });
    expect(local.id).toBe(`local:${gguf}`);
    await expect(resolveModel("replay:", { env: none })).rejects.toMatchObject({
      code: "model_config",
      message: expect.stringContaining("replay:<cassette.json>"),
    });
  });

  it("TWELVE_RECORD (or options.record) records the resolved model into a cassette, appending across processes", async () => {
    const script = join(dir, "rec-steps.json");
    await writeFile(script, JSON.stringify(["first", "second"]));
    const cassette = join(dir, "recorded.json");
    const first = await resolveModel(`script:${script}`, { env: { TWELVE_RECORD: cassette } });
    await first.generate({ messages: [{ role: "user", content: "one" }] });
    // A second process resuming the same run appends to the same cassette.
    const second = await resolveModel(`script:${script}`, { env: none, record: cassette });
    await second.generate({ messages: [{ role: "user", content: "two" }] });
    const replay = await resolveModel(`replay:${cassette}`, { env: none });
    expect((await replay.generate({ messages: [{ role: "user", content: "one" }] })).text).toBe("first");
    expect((await replay.generate({ messages: [{ role: "user", content: "two" }] })).text).toBe("first");
    await expect(resolveModel(`replay:${cassette}`, { env: { TWELVE_RECORD: cassette } })).rejects.toMatchObject({
      code: "model_config",
      message: expect.stringContaining("cannot record a replayed model"),
    });
  });

  it("unknown schemes list the known ones", async () => {
    await expect(resolveModel("gemini:pro", { env: none })).rejects.toMatchObject({
      code: "unknown_model_scheme",
      message: expect.stringMatching(/unknown model scheme "gemini".*openai:<model>.*anthropic:<model>.*local:/),
    });
  });

  it("order: explicit spec → TWELVE_MODEL → API keys → embedded local default", async () => {
    const env = { TWELVE_MODEL: "anthropic:claude-opus-4-6", ANTHROPIC_API_KEY: "k", OPENAI_API_KEY: "sk" };
    expect((await resolveModel("openai:gpt-5", { env })).id).toBe("openai:gpt-5");
    expect((await resolveModel(undefined, { env })).id).toBe("anthropic:claude-opus-4-6");
    expect((await resolveModel(undefined, { env: { OPENAI_API_KEY: "sk" } })).id).toBe("openai:gpt-4.1-mini");
    expect((await resolveModel(undefined, { env: { OPENAI_API_KEY: "sk", OPENAI_MODEL: "gpt-5-mini" } })).id).toBe(
      "openai:gpt-5-mini",
    );
    expect((await resolveModel(undefined, { env: { ANTHROPIC_API_KEY: "k" } })).id).toBe("anthropic:claude-sonnet-4-6");
    expect(
      (
        await resolveModel(undefined, {
          env: { OPENAI_BASE_URL: "http://localhost:11434/v1", OPENAI_MODEL: "qwen3:4b" },
        })
      ).id,
    ).toBe("openai-compatible:http://localhost:11434/v1#qwen3:4b");
    const fallback = await resolveModel(undefined, { env: none });
    expect(fallback.id).toBe(`local:${DEFAULT_LOCAL_MODEL}`);
    expect(DEFAULT_LOCAL_MODEL).toMatch(/^hf:[^/]+\/[^/]+\/.+\.gguf$/);
  });

  it("the default local model fails with a typed network error when it cannot be downloaded", async () => {
    const cache = join(dir, "cache");
    const model = await resolveModel(undefined, {
      env: none,
      local: { cacheDir: cache, gpu: false, progressBar: false, huggingFaceEndpoint: server.url },
    });
    server.reply(
      { status: 404, body: "Entry not found" },
      { status: 404, body: "Entry not found" },
      { status: 404, body: "Entry not found" },
    );
    await expect(model.generate({ messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      code: "network",
      message: expect.stringContaining("cannot download the model"),
    });
  }, 30_000);
});
