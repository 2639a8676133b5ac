import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculator } from "../../examples/calculator/agent.js";
import { startThread } from "../../src/agent/events.js";
import { run } from "../../src/agent/run.js";
import { step } from "../../src/agent/step.js";
import { recordModel, replayModel, requestKey } from "../../src/model/cassette.js";
import { ModelError } from "../../src/model/errors.js";
import { withFallback, withResilience } from "../../src/model/resilience.js";
import { resolveModel } from "../../src/model/resolve.js";
import { rulesModel } from "../../src/model/rules.js";
import type { GenerateRequest, Model, ModelThreadView } from "../../src/model/types.js";
import { deterministicClock } from "../../src/thread/event.js";

/** A model that remembers the thread of every request and answers from a list (errors thrown). */
function probe(answers: (string | Error)[] = ['{"intent":"done_for_now","message":"ok"}'], id = "probe") {
  const seen: (ModelThreadView | undefined)[] = [];
  let n = 0;
  const model: Model = {
    id,
    async generate(request) {
      seen.push(request.thread);
      const answer = answers[Math.min(n++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return { text: answer };
    },
  };
  return { model, seen };
}

const MARKER = "only-in-the-thread-never-in-the-messages";
const thread: ModelThreadView = Object.freeze({
  id: "thr_pass",
  agent: "calculator",
  events: Object.freeze([
    Object.freeze({ id: "e1", type: "user_message", data: MARKER, at: "2025-01-01T00:00:00.000Z" }),
  ]),
});
const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content: "add 1 and 2" }],
  thread,
  ...extra,
});

describe("every wrapper forwards request.thread unchanged", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-thread-pass-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("withResilience: with and without a timeout, with a rate limit, and on every retry", async () => {
    for (const options of [{}, { timeoutMs: 0 }, { rateLimit: { requestsPerSecond: 1000, burst: 5 } }]) {
      const { model, seen } = probe();
      await withResilience(model, options).generate(request());
      expect(seen).toEqual([thread]);
      expect(seen[0]).toBe(thread);
    }
    const { model, seen } = probe([new ModelError("server", "boom"), '{"intent":"done_for_now","message":"ok"}']);
    await withResilience(model, { baseDelayMs: 1 }).generate(request());
    expect(seen).toHaveLength(2);
    for (const t of seen) expect(t).toBe(thread);
  });

  it("withFallback: to the model that fails and to the one that answers", async () => {
    const failing = probe([new ModelError("server", "down")], "a");
    const answering = probe(undefined, "b");
    const result = await withFallback([failing.model, answering.model]).generate(request());
    expect(result.model).toBe("b");
    expect(failing.seen[0]).toBe(thread);
    expect(answering.seen[0]).toBe(thread);
  });

  it("recordModel forwards it but never stores it; replay matches without it", async () => {
    const cassette = join(dir, "pass.json");
    const { model, seen } = probe();
    const recorder = recordModel(model, cassette);
    await recorder.generate(request());
    expect(seen[0]).toBe(thread);
    const written = await readFile(cassette, "utf8");
    expect(written).not.toContain(MARKER);
    expect(written).not.toContain('"thread"');

    // The key ignores the thread: with, without, or another one, the same messages are the same request.
    const other: ModelThreadView = { id: "thr_other", agent: "x", events: [] };
    expect(requestKey(request())).toBe(requestKey(request({ thread: undefined })));
    expect(requestKey(request())).toBe(requestKey(request({ thread: other })));
    const replay = await replayModel(cassette);
    for (const r of [request(), request({ thread: other }), { messages: request().messages }]) {
      expect((await replay.generate(r)).text).toBe('{"intent":"done_for_now","message":"ok"}');
    }
  });

  it("resolveModel's own wrappers (record) hand the thread on to the model underneath", async () => {
    const rules = join(dir, "rules.json");
    await writeFile(rules, JSON.stringify([{ answer: "thread {{thread.id}}: {{first.data}}" }]));
    const model = await resolveModel(`rules:${rules}`, { record: join(dir, "recorded.json"), env: {} });
    // A rules model throws rules_need_thread without it, so an answer proves it arrived.
    expect((await model.generate(request())).text).toBe(`thread thr_pass: ${MARKER}`);
    const recorded = JSON.parse(await readFile(join(dir, "recorded.json"), "utf8"));
    expect(Object.keys(recorded.entries[0].request)).toEqual(["messages"]);
    expect(JSON.stringify(recorded.entries[0].request)).not.toContain(MARKER);
  });

  it("a rules model behind every wrapper at once still sees the thread", async () => {
    const inner = rulesModel([{ answer: "{{thread.id}}" }]);
    const wrapped = withFallback([withResilience(recordModel(inner, join(dir, "stack.json")))]);
    expect((await wrapped.generate(request())).text).toBe("thr_pass");
  });
});

describe("the agent loop passes the thread the prompt was rendered from", () => {
  it("step() and run() hand model.generate the current thread (id, agent, events)", async () => {
    const clock = deterministicClock();
    const start = startThread(calculator, "add 1 and 2", { id: "thr_loop", clock });
    const { model, seen } = probe(['{"intent":"add","a":1,"b":2}', '{"intent":"done_for_now","message":"3"}']);
    const afterStep = await step(calculator, start, { model, runtime: clock });
    expect(seen[0]).toBe(start);
    expect(seen[0]).toMatchObject({ id: "thr_loop", agent: "calculator", events: start.events });

    const done = await run(calculator, afterStep, { model, runtime: clock });
    expect(done.events.at(-1)?.type).toBe("done_for_now");
    // The second call saw the thread up to and including the add result, not less, not more.
    expect(seen[1]!.events.map((e) => e.type)).toEqual(["user_message", "add", "add_started", "add_result"]);
    expect(seen[1]!.id).toBe("thr_loop");
  });
});
