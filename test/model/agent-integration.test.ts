import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculator } from "../../examples/calculator/agent.js";
import { approve, startThread } from "../../src/agent/events.js";
import { resume } from "../../src/agent/resume.js";
import { run } from "../../src/agent/run.js";
import { recordModel, replayModel } from "../../src/model/cassette.js";
import { localModel } from "../../src/model/local/index.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { threadUsage } from "../../src/model/usage.js";
import type { Thread } from "../../src/thread/thread.js";
import { buildTinyModel } from "../support/gguf/tiny-model.js";

const story = (thread: Thread) => thread.events.map((e) => [e.type, e.data]);
const task = "multiply 3 and 4, then divide by 2, then add 12";

describe("models inside the agent loop (calculator example)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-agent-models-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a recorded run replays offline to the same thread, across a pause for approval", async () => {
    const cassette = join(dir, "calculator.json");
    const recorder = recordModel(
      scriptedModel([
        { intent: "multiply", a: 3, b: 4 },
        { intent: "divide", a: 12, b: 2 },
        { text: '{"intent": "add", "a": 6, "b": 12}', usage: { inputTokens: 300, outputTokens: 20 } },
        { intent: "done_for_now", message: "The answer is 18." },
      ]),
      cassette,
    );
    const paused = await run(calculator, startThread(calculator, task), { model: recorder });
    const recorded = await resume(calculator, paused, approve(), { model: recorder });

    const replay = await replayModel(cassette);
    const replayPaused = await run(calculator, startThread(calculator, task), { model: replay });
    const replayed = await resume(calculator, replayPaused, approve(), { model: replay });
    expect(story(replayed)).toEqual(story(recorded));
    expect(replayed.events.at(-1)).toMatchObject({ type: "done_for_now", data: { message: "The answer is 18." } });
    expect(threadUsage(replayed)).toMatchObject({ inputTokens: 300, outputTokens: 20, calls: 4 });

    // A different task is a different request: the loop records a model error naming the difference.
    const other = await run(calculator, startThread(calculator, "multiply 3 and 5"), { model: replay, maxSteps: 1 });
    const error = other.events.find((e) => e.type === "error");
    expect(error?.data).toMatchObject({ kind: "model", message: expect.stringContaining("replay_miss") });
    expect((error!.data as { message: string }).message).toContain(
      'got "<user_message>multiply 3 and 5</user_message>", recorded "<user_message>multiply 3 and 4, then divide',
    );
  });

  it("the embedded model drives the real loop: every model call yields a valid step, none a parse error", async () => {
    const gguf = join(dir, "tiny.gguf");
    await writeFile(gguf, buildTinyModel({ seed: 12 }));
    const model = localModel({ model: gguf, gpu: false, threads: 1, contextSize: 4096 });
    try {
      const thread = await run(calculator, startThread(calculator, task), { model, maxSteps: 4 });
      const steps = thread.events.filter((e) => e.meta?.kind === "step");
      expect(steps.length).toBeGreaterThan(0);
      expect(thread.events.filter((e) => e.type === "error")).toEqual([]);
      for (const step of steps) {
        expect(step.meta?.model).toBe(`local:${gguf}`);
        expect(step.meta?.usage).toMatchObject({ outputTokens: expect.any(Number) });
      }
    } finally {
      await model.dispose();
    }
  }, 60_000);
});
