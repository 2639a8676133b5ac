import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculator } from "../../examples/calculator/agent.js";
import { approve, reject, startThread } from "../../src/agent/events.js";
import { resume } from "../../src/agent/resume.js";
import { run } from "../../src/agent/run.js";
import type { TwelveError } from "../../src/errors/index.js";
import { resolveModel } from "../../src/model/resolve.js";
import { parseRules, type Rule, rulesModel } from "../../src/model/rules.js";
import { scriptedModel } from "../../src/model/scripted.js";
import type { GenerateRequest, Model } from "../../src/model/types.js";
import { deterministicClock, type Event, makeEvent } from "../../src/thread/event.js";
import type { Thread } from "../../src/thread/thread.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A thread view built from (type, data, meta) triples. */
function view(...events: [type: string, data: unknown, meta?: Event["meta"]][]) {
  const clock = deterministicClock();
  return { id: "thr_test", agent: "calculator", events: events.map(([t, d, m]) => makeEvent(clock, t, d, m)) };
}

const ask = (model: Model, thread: GenerateRequest["thread"], extra: Partial<GenerateRequest> = {}) =>
  model.generate({ messages: [{ role: "user", content: "ignored" }], ...(thread && { thread }), ...extra });

const text = async (model: Model, thread: GenerateRequest["thread"]) => (await ask(model, thread)).text;

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<TwelveError> {
  try {
    await promise;
  } catch (error) {
    return error as TwelveError;
  }
  throw new Error("expected a rejection");
}

const step = { kind: "step" as const, policy: "run" as const };

describe("rulesModel: matching", () => {
  const thread = view(
    ["user_message", "add 1 and 2, then double it"],
    ["add", { intent: "add", a: 1, b: 2 }, { ...step, intent: "add" }],
    ["add_started", { arguments: { a: 1, b: 2 } }, { kind: "started" }],
    ["add_result", 3, { kind: "result" }],
    ["error", { kind: "model", message: "bad" }, { phase: "model" }],
    ["note", { value: 7, tags: ["x", "y"] }],
  );

  it("checks rules in order; the first match wins; a rule without `when` matches anything", async () => {
    const model = rulesModel([
      { when: { lastType: "nope" }, answer: "first" },
      { when: { lastType: "note" }, answer: "second" },
      { when: { lastType: "note" }, answer: "third" },
      { answer: "catch-all" },
    ]);
    expect(await text(model, thread)).toBe("second");
    expect(await text(model, view(["user_message", "hi"]))).toBe("catch-all");
    expect((await ask(model, thread)).raw).toEqual({ rule: 1 });
  });

  // Each condition, alone, against the thread above: [condition, matches].
  const cases: [Rule["when"], boolean][] = [
    [{ lastType: "note" }, true],
    [{ lastType: "add_result" }, false],
    [{ lastTypeIn: ["add_result", "note"] }, true],
    [{ lastTypeIn: ["add_result"] }, false],
    [{ lastContains: '"value":7' }, true], // object data as compact JSON
    [{ lastContains: '"value": 7' }, false],
    [{ firstContains: "double it" }, true], // string data as is
    [{ firstContains: "triple" }, false],
    [{ steps: 2 }, true], // one step + one model error
    [{ steps: 1 }, false],
    [{ stepsAtLeast: 2 }, true],
    [{ stepsAtLeast: 3 }, false],
    [{ count: { type: "add_result" } }, true], // default: at least one
    [{ count: { type: "subtract_result" } }, false],
    [{ count: { type: "add_result", equals: 1 } }, true],
    [{ count: { type: "add_result", equals: 2 } }, false],
    [{ count: { type: "subtract_result", equals: 0 } }, true],
    [{ count: { type: "add_result", atLeast: 2 } }, false],
    [{ lastType: "note", steps: 2, firstContains: "add" }, true], // all must hold
    [{ lastType: "note", steps: 3 }, false],
    [{}, true],
  ];
  it.each(cases)("condition %j → matches: %s", async (when, expected) => {
    const model = rulesModel([{ when, answer: "matched" }, { answer: "fallthrough" }]);
    expect(await text(model, thread)).toBe(expected ? "matched" : "fallthrough");
  });

  it("conditions on the last or first event fail on an empty thread", async () => {
    const model = rulesModel([
      { when: { lastContains: "" }, answer: "a" },
      { when: { firstContains: "" }, answer: "b" },
      { when: { lastTypeIn: ["x"] }, answer: "c" },
      { when: { steps: 0 }, answer: "empty" },
    ]);
    expect(await text(model, view())).toBe("empty");
  });

  it("answers a step object as JSON text, a string verbatim, and throws an error answer", async () => {
    const model = rulesModel([
      { when: { lastType: "user_message" }, answer: { intent: "add", a: 1, b: 2 } },
      { when: { lastType: "add_result" }, answer: "not json at all" },
      { when: { lastType: "note" }, answer: { error: "provider down", code: "server" } },
      { answer: { error: "plain" } },
    ]);
    expect(JSON.parse((await text(model, view(["user_message", "x"])))!)).toEqual({ intent: "add", a: 1, b: 2 });
    expect(await text(model, view(["add_result", 3]))).toBe("not json at all");
    const thrown = await failure(ask(model, view(["note", 1])));
    expect(thrown).toMatchObject({ code: "server", message: "provider down" });
    expect(await failure(ask(model, view(["other", 1])))).toMatchObject({ code: "model_error", message: "plain" });
  });
});

describe("rulesModel: templating", () => {
  const thread = view(
    ["user_message", "add 1 and 2"],
    ["multiply_result", 12, { kind: "result" }],
    ["add", { intent: "add", a: 1, b: 2 }, { ...step, intent: "add" }],
    ["add_result", { value: 3, list: [10, 20], label: "three" }, { kind: "result" }],
  );

  it("replaces placeholders; a string that is one placeholder keeps the value's type", async () => {
    const model = rulesModel([
      {
        answer: {
          intent: "report",
          value: "{{last.data.value}}",
          spaced: "{{ last.data.value }}",
          second: "{{last.data.list.1}}",
          whole: "{{last.data}}",
          sentence: "got {{last.data.value}} ({{last.data.label}}) after {{steps}} step(s) for {{first.data}}",
          embeddedObject: "list={{last.data.list}}",
          earlier: "{{lastOf.multiply_result.data}}",
          nested: { ids: ["{{thread.id}}", "{{thread.agent}}", "{{thread.length}}"], type: "{{last.type}}" },
          untouched: 5,
        },
      },
    ]);
    expect(JSON.parse((await text(model, thread))!)).toEqual({
      intent: "report",
      value: 3,
      spaced: 3,
      second: 20,
      whole: { value: 3, list: [10, 20], label: "three" },
      sentence: "got 3 (three) after 1 step(s) for add 1 and 2",
      embeddedObject: "list=[10,20]",
      earlier: 12,
      nested: { ids: ["thr_test", "calculator", 4], type: "add_result" },
      untouched: 5,
    });
  });

  it("templates raw string answers and error messages too", async () => {
    const model = rulesModel([
      { when: { lastType: "add_result" }, answer: "The answer is {{last.data.value}}." },
      { answer: { error: "cannot handle {{last.type}}" } },
    ]);
    expect(await text(model, thread)).toBe("The answer is 3.");
    expect((await failure(ask(model, view(["odd", null])))).message).toBe("cannot handle odd");
  });

  it("a placeholder with no value in this thread is a model error naming the rule and the placeholder", async () => {
    const model = rulesModel([
      { when: { lastType: "user_message" }, answer: "x" },
      { answer: "{{last.data.missing}}" },
    ]);
    const thrown = await failure(ask(model, thread));
    expect(thrown.code).toBe("rules_template");
    expect(thrown.message).toContain(
      'rules[1] uses {{last.data.missing}}, which has no value in this thread (last event "add_result"',
    );
    const absent = rulesModel([{ answer: "{{lastOf.divide_result.data}}" }]);
    expect((await failure(ask(absent, thread))).code).toBe("rules_template");
  });
});

describe("rulesModel: errors", () => {
  it("no matching rule → rules_no_match naming the last event type and the step count", async () => {
    const model = rulesModel([{ when: { lastType: "user_message" }, answer: "x" }], { id: "rules:calc" });
    const thread = view(
      ["user_message", "hi"],
      ["add", { intent: "add", a: 1, b: 2 }, { ...step, intent: "add" }],
      ["add_result", 3, { kind: "result" }],
    );
    const thrown = await failure(ask(model, thread));
    expect(thrown.code).toBe("rules_no_match");
    expect(thrown.message).toBe(
      'rules model "rules:calc": no rule matches the thread (last event "add_result", 1 step(s) taken); add a rule for it, or end with a rule without "when" as a catch-all',
    );
    expect(thrown.details).toMatchObject({ lastType: "add_result", steps: 1, rules: 1 });
  });

  it("inside the loop, no match is a model error event like any failing provider call", async () => {
    const model = rulesModel([{ when: { lastType: "nothing" }, answer: "x" }]);
    const done = await run(calculator, startThread(calculator, "hi", { clock: deterministicClock() }), {
      model,
      maxSteps: 1,
    });
    expect(done.events[1]).toMatchObject({ type: "error", data: { kind: "model" }, meta: { phase: "model" } });
    expect((done.events[1]!.data as { message: string }).message).toContain(
      'the model call failed (rules_no_match): rules model "rules:inline": no rule matches the thread (last event "user_message", 0 step(s) taken)',
    );
  });

  it("a request without a thread (a caller that is not the loop) → rules_need_thread", async () => {
    const thrown = await failure(ask(rulesModel([{ answer: "x" }]), undefined));
    expect(thrown.code).toBe("rules_need_thread");
    expect(thrown.message).toMatch(/rules model "rules:inline": the request carries no thread/);
  });

  // Inline rules get the same checks as a file, prefixed "rules model".
  const invalid: [unknown, string][] = [
    [[], "rules model: has no rules; every call would fail with rules_no_match"],
    [[{ when: { lastType: "a" } }], 'rules model: rules[0] has no "answer"'],
    [
      [{ answer: "ok" }, { when: { lastTyp: "a" }, answer: "x" }],
      'rules model: rules[1].when has unknown condition "lastTyp"',
    ],
    [[{ when: { steps: -1 }, answer: "x" }], "rules model: rules[0].when.steps must be a whole number >= 0, got -1"],
    [[{ when: { stepsAtLeast: 1.5 }, answer: "x" }], "rules[0].when.stepsAtLeast must be a whole number >= 0, got 1.5"],
    [[{ when: { lastType: 3 }, answer: "x" }], "rules[0].when.lastType must be a string, got 3"],
    [[{ when: { lastTypeIn: [] }, answer: "x" }], "rules[0].when.lastTypeIn must be a non-empty array of strings"],
    [[{ when: { count: { atLeast: 1 } }, answer: "x" }], 'rules[0].when.count must be {"type": "<event type>"'],
    [[{ when: { count: { type: "a", most: 1 } }, answer: "x" }], 'rules[0].when.count has unknown key "most"'],
    [[{ when: "always", answer: "x" }], 'rules[0].when must be an object of conditions, got "always"'],
    [
      [{ answer: 42 }],
      'rules[0].answer must be a string, a step {"intent": "<name>", ...arguments} or {"error": "<message>"}, got 42',
    ],
    [[{ answer: { a: 1 } }], "rules[0].answer must be a string, a step"],
    [[{ answer: { intent: "" } }], "rules[0].answer.intent must be a non-empty string"],
    [[{ answer: { error: "x", retry: true } }], 'rules[0].answer has unknown key "retry" next to "error"'],
    [[{ answer: "x", otherwise: "y" }], 'rules[0] has unknown key "otherwise"'],
    [["x"], 'rules[0] must be an object {"when": {...}, "answer": ...}, got "x"'],
    [
      [{ answer: { intent: "add", a: "{{lats.data}}" } }],
      "rules[0].answer.a uses {{lats.data}}: a placeholder starts with one of last, first, lastOf, thread, steps",
    ],
    [[{ answer: ["{{lastOf}}"] }], "rules[0].answer must be a string"],
    [[{ answer: "{{lastOf}}" }], "rules[0].answer uses {{lastOf}}: write {{lastOf.<event type>.data}}"],
    [[{ answer: "{{last..data}}" }], "rules[0].answer uses {{last..data}}: an empty path segment"],
  ];
  it.each(invalid)("invalid rules %j → rules_invalid %s", (rules, message) => {
    expect(() => rulesModel(rules as Rule[])).toThrow(message);
  });

  it("rejects a bad latencyMs option", () => {
    expect(() => rulesModel([{ answer: "x" }], { latencyMs: -5 })).toThrow(
      "rules model: latencyMs must be a whole number >= 0, got -5",
    );
  });
});

describe("rules:<file> model strings", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-rules-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const file = async (name: string, content: unknown) => {
    const path = join(dir, name);
    await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };

  it("loads a bare array or the {latencyMs, rules} form, with id rules:<file>", async () => {
    const bare = await file("bare.json", [{ answer: { intent: "done_for_now", message: "ok" } }]);
    const model = await resolveModel(`rules:${bare}`);
    expect(model.id).toBe(`rules:${bare}`);
    expect(JSON.parse((await text(model, view(["user_message", "hi"])))!)).toMatchObject({ intent: "done_for_now" });
    const wrapped = await file("wrapped.json", { latencyMs: 1, rules: [{ answer: "x" }] });
    expect(await text(await resolveModel(`rules:${wrapped}`), view(["user_message", "hi"]))).toBe("x");
  });

  it.each([
    ["missing", undefined, /cannot read rules file ".*missing\.json": ENOENT/],
    ["broken", "[{", /rules file ".*broken\.json" is not valid JSON: /],
    [
      "object",
      { answer: "x" },
      /rules file ".*object\.json": unknown top-level key "answer"; expected "rules" and "latencyMs"/,
    ],
    [
      "number",
      42,
      /rules file ".*number\.json": must be a JSON array of rules, or \{"latencyMs": <ms>, "rules": \[\.\.\.\]\}/,
    ],
    [
      "latency",
      { latencyMs: "slow", rules: [{ answer: "x" }] },
      /rules file ".*latency\.json": latencyMs must be a whole number >= 0, got "slow"/,
    ],
    ["empty", [], /rules file ".*empty\.json": has no rules/],
    [
      "shape",
      [{ answer: "ok" }, { answer: "ok" }, { when: { steps: "two" }, answer: "x" }],
      /rules file ".*shape\.json": rules\[2\]\.when\.steps must be a whole number >= 0, got "two"/,
    ],
  ])("%s file → rules_invalid with a specific message", async (name, content, message) => {
    const path = content === undefined ? join(dir, `${name}.json`) : await file(`${name}.json`, content);
    const thrown = await failure(resolveModel(`rules:${path}`));
    expect(thrown.code).toBe("rules_invalid");
    expect(thrown.message).toMatch(message);
  });

  it("rules: without a file says what to write, and the scheme is listed for unknown ones", async () => {
    expect((await failure(resolveModel("rules:"))).message).toBe(
      'model "rules:" is missing its file.json; write rules:<file.json>',
    );
    expect((await failure(resolveModel("rulez:x.json"))).message).toContain("rules:<rules.json>");
  });

  it("waits latencyMs per call (file form), and an abort cuts the wait short", async () => {
    const slow = await file("slow.json", { latencyMs: 150, rules: [{ answer: "late" }] });
    const model = await resolveModel(`rules:${slow}`);
    const started = Date.now();
    expect(await text(model, view(["user_message", "hi"]))).toBe("late");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const stuck = rulesModel([{ answer: "never" }], { latencyMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const began = Date.now();
    const thrown = await failure(ask(stuck, view(["user_message", "hi"]), { signal: controller.signal }));
    expect(thrown.code).toBe("aborted");
    expect(Date.now() - began).toBeLessThan(2_000);
    // Already aborted: no answer even without latency.
    const aborted = AbortSignal.abort();
    expect((await failure(ask(rulesModel([{ answer: "x" }]), view(["a", 1]), { signal: aborted }))).code).toBe(
      "aborted",
    );
  });
});

// ---------------------------------------------------------------- end to end: several "processes"

const task = "multiply 3 and 4, then divide by 2, then add 12";

/** The calculator, answered from the thread: every step follows from the last event. */
const calculatorRules: Rule[] = [
  { when: { lastType: "user_message" }, answer: { intent: "multiply", a: 3, b: 4 } },
  { when: { lastType: "multiply_result" }, answer: { intent: "divide", a: "{{last.data}}", b: 2 } },
  { when: { lastType: "divide_result" }, answer: { intent: "add", a: "{{last.data}}", b: 12 } },
  {
    when: { lastType: "add_result" },
    answer: { intent: "done_for_now", message: "The answer is {{last.data}}." },
  },
];

const steps = (thread: Thread) => thread.events.filter((e) => e.meta?.kind === "step").map((e) => e.data);

describe("rules model across processes (agent loop)", () => {
  it("two separate run() calls on one thread, with two different model instances, take the same steps as one", async () => {
    // One "process" doing everything.
    const single = rulesModel(calculatorRules);
    const clockA = deterministicClock();
    const pausedA = await run(calculator, startThread(calculator, task, { id: "thr_a", clock: clockA }), {
      model: single,
      runtime: clockA,
    });
    const reference = await resume(calculator, pausedA, approve(), { model: single, runtime: clockA });

    // Process 1 runs until the approval pause and exits; process 2 starts fresh with its own model instance.
    const clockB = deterministicClock();
    const first = rulesModel(calculatorRules);
    const paused = await run(calculator, startThread(calculator, task, { id: "thr_a", clock: clockB }), {
      model: first,
      runtime: clockB,
    });
    expect(paused.events.at(-1)).toMatchObject({ type: "divide", data: { a: 12, b: 2 } });
    const second = rulesModel(calculatorRules);
    const finished = await resume(calculator, structuredClone(paused), approve(), { model: second, runtime: clockB });

    expect(steps(finished)).toEqual([
      { intent: "multiply", a: 3, b: 4 },
      { intent: "divide", a: 12, b: 2 },
      { intent: "add", a: 6, b: 12 },
      { intent: "done_for_now", message: "The answer is 18." },
    ]);
    expect(finished.events).toEqual(reference.events);

    // A queue-based script in the second process starts over from its first answer: the problem rules solve.
    const script = calculatorRules.map((r) => r.answer) as never[];
    const restarted = await resume(calculator, paused, approve(), { model: scriptedModel(script), maxSteps: 2 });
    expect(steps(restarted)[2]).toEqual({ intent: "multiply", a: 3, b: 4 });
  });

  it("the same through rules:<file> resolved twice, as two processes would", async () => {
    const dir = await mkdtemp(join(tmpdir(), "twelve-rules-e2e-"));
    try {
      const path = join(dir, "rules.json");
      await writeFile(path, JSON.stringify({ rules: calculatorRules }));
      const paused = await run(calculator, startThread(calculator, task), {
        model: await resolveModel(`rules:${path}`),
      });
      const done = await resume(calculator, paused, approve(), { model: await resolveModel(`rules:${path}`) });
      expect(done.events.at(-1)).toMatchObject({ type: "done_for_now", data: { message: "The answer is 18." } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("rules model across processes (built CLI)", () => {
  const bin = join(root, "dist/cli/main.js");
  const agent = join(root, "examples/calculator/agent.ts");
  const twelve = (args: string[], cwd: string) => {
    const result = spawnSync(process.execPath, [bin, ...args], {
      cwd,
      input: "",
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_USER: "tester" },
      timeout: 20_000,
    });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };

  it("one process pauses for approval, a second process approves and continues with the same rules file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-rules-cli-"));
    await mkdir(dir, { recursive: true });
    writeFileSync(join(dir, "rules.json"), JSON.stringify({ rules: calculatorRules }));
    const first = twelve(["run", agent, task, "--model", "rules:rules.json", "--no-input"], dir);
    expect(first.err).toBe("");
    expect(first.code).toBe(3);
    expect(first.out).toContain("✓ multiply_result: 12");
    expect(first.out).toContain("paused: awaiting_approval");
    const line = first.out.split("\n").find((l) => l.startsWith("resume with:") || l.startsWith("decide with:")) ?? "";
    const request = /--request (\S+)/.exec(line)?.[1] ?? "";
    const digest = /--digest (\S+)/.exec(line)?.[1] ?? "";
    expect(request).not.toBe("");

    const second = twelve(
      ["run", agent, "--model", "rules:rules.json", "--request", request, "--digest", digest, "--approve"],
      dir,
    );
    expect(second.err).toBe("");
    expect(second.code).toBe(0);
    expect(second.out).toContain("✓ divide_result: 6");
    expect(second.out).toContain("✓ add_result: 18");

    const threadId = /thread (thr_\w+)/.exec(first.out)?.[1] ?? "";
    const exported = JSON.parse(twelve(["threads", "export", threadId], dir).out) as Thread;
    expect(steps(exported)).toEqual([
      { intent: "multiply", a: 3, b: 4 },
      { intent: "divide", a: 12, b: 2 },
      { intent: "add", a: 6, b: 12 },
      { intent: "done_for_now", message: "The answer is 18." },
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("docs/testing.md examples", () => {
  const markdown = readFileSync(join(root, "docs/testing.md"), "utf8");
  const blocks = (lang: string) =>
    [...markdown.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

  it("the annotated format (jsonc, comments stripped) is a valid rules file", () => {
    const [annotated] = blocks("jsonc");
    const json = annotated!.replace(/\s*\/\/ .*$/gm, "");
    expect(parseRules(JSON.parse(json), "docs").rules[0]!.when).toMatchObject({ lastType: "add_result" });
  });

  it("the worked examples do what the text says", async () => {
    const [addThenDone, divide, slow] = blocks("json").map((b) => JSON.parse(b!));
    const added = await run(calculator, startThread(calculator, "add 1 and 2"), { model: rulesModel(addThenDone) });
    expect(steps(added)).toEqual([
      { intent: "add", a: 1, b: 2 },
      { intent: "done_for_now", message: "1 + 2 = 3" },
    ]);

    const paused = await run(calculator, startThread(calculator, task), { model: rulesModel(divide) });
    const approved = await resume(calculator, paused, approve(), { model: rulesModel(divide) });
    expect(approved.events.at(-1)?.data).toEqual({ intent: "done_for_now", message: "The answer is 18." });
    const rejected = await resume(calculator, paused, reject(undefined, "no"), { model: rulesModel(divide) });
    expect(rejected.events.at(-1)?.data).toEqual({ intent: "done_for_now", message: "cancelled" });

    expect(parseRules(slow, "docs")).toMatchObject({ latencyMs: 200 });
  });
});
