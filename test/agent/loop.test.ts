import { describe, expect, it } from "vitest";
import {
  approve,
  consecutiveErrors,
  edit,
  humanRequest,
  humanResponse,
  RequestError,
  ResumeMismatchError,
  respond,
  result,
  resume,
  run,
  runAgain,
  step,
  type Thread,
  threadState,
  userMessage,
} from "../../src/index.js";
import { deterministicRuntime, scriptedModel } from "../../src/testing.js";
import { newThread, testAgent, types } from "./fixtures.js";

describe("errors become compact events (factor 9)", () => {
  it("an unknown intent is an error event the model sees next turn, not a crash", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "teleport", to: "mars" },
      { intent: "done_for_now", message: "ok" },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    expect(types(t)).toEqual(["user_message", "error", "done_for_now"]);
    expect(t.events[1]?.data).toMatchObject({ kind: "unknown_intent", intent: "teleport" });
    expect((t.events[1]!.data as { message: string }).message).toContain("add");
    expect(model.calls[1]?.messages.at(-1)?.content).toContain("<error>");
  });

  it("arguments of the wrong type are reported with the field that failed", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "add", a: "three", b: 4 },
      { intent: "done_for_now", message: "x" },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    const error = t.events[1];
    expect(error?.type).toBe("error");
    expect(error?.data).toMatchObject({ intent: "add" });
    expect((error!.data as { message: string }).message).toMatch(/a:/);
  });

  it("unparseable text keeps the raw answer in meta, out of the model's sight", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel(["I think we should add them", { intent: "done_for_now", message: "x" }]);
    const t = await run(testAgent(), thread, { model, runtime });
    expect(t.events[1]?.type).toBe("error");
    expect(t.events[1]?.meta?.raw).toBe("I think we should add them");
    expect(JSON.stringify(model.calls[1]?.messages)).not.toContain("I think we should add them");
  });

  it("a thrown handler becomes an error event without a stack trace by default", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "flaky", n: 1 },
      { intent: "done_for_now", message: "gave up" },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    expect(types(t)).toEqual(["user_message", "flaky", "flaky_started", "error", "done_for_now"]);
    expect(t.events[3]?.data).toEqual({ kind: "handler", intent: "flaky", message: "service unavailable" });
    expect(t.events[3]?.meta?.stack).toBeUndefined();
    const withStack = await run(
      testAgent({ errors: { keepStack: true, format: (e) => `boom: ${(e as Error).message}` } }),
      thread,
      {
        model: scriptedModel([
          { intent: "flaky", n: 1 },
          { intent: "done_for_now", message: "x" },
        ]),
        runtime,
      },
    );
    expect(withStack.events[3]?.meta?.stack).toContain("service unavailable");
    expect((withStack.events[3]!.data as { message: string }).message).toBe("boom: service unavailable");
  });

  it("three consecutive errors escalate to a human instead of spinning", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "flaky", n: 1 },
      { intent: "flaky", n: 2 },
      { intent: "flaky", n: 3 },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    model.assertDone();
    expect(types(t).at(-1)).toBe("escalation");
    const state = threadState(t);
    expect(state.status).toBe("awaiting_human");
    expect(state.pending).toMatchObject({ kind: "question" });
    expect((t.events.at(-1)!.data as { errors: string[] }).errors).toHaveLength(3);
    // The human's answer resets the counters and the agent continues.
    const next = await resume(testAgent(), t, respond(humanRequest(t), "skip it"), {
      model: scriptedModel([{ intent: "done_for_now", message: "skipped" }]),
      runtime,
    });
    expect(threadState(next).status).toBe("done");
    expect(consecutiveErrors(next).overall).toBe(0);
  });

  it("onThreshold 'fail' stops the thread as failed", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel(["nonsense", "more nonsense", "still nonsense"]);
    const t = await run(testAgent({ errors: { onThreshold: "fail", threshold: 3 } }), thread, { model, runtime });
    expect(threadState(t)).toMatchObject({ status: "failed", reason: "too_many_errors" });
  });

  it("counts errors per intent even when other intents succeed in between", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "flaky", n: 1 },
      { intent: "add", a: 1, b: 1 },
      { intent: "flaky", n: 2 },
      { intent: "add", a: 1, b: 1 },
      { intent: "flaky", n: 3 },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    model.assertDone();
    expect(consecutiveErrors({ ...t, events: t.events.slice(0, -1) }).byIntent.flaky).toBe(3);
    expect(t.events.at(-1)?.type).toBe("escalation");
    expect((t.events.at(-1)!.data as { question: string }).question).toContain('"flaky" failed 3 times');
  });

  it("a failing model call becomes an error event and escalates after the threshold", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      new Error("ECONNRESET"),
      { error: "rate limited", code: "rate_limited" },
      new Error("boom"),
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    expect(types(t)).toEqual(["user_message", "error", "error", "error", "escalation"]);
    expect(t.events[2]?.data).toMatchObject({ kind: "model", message: expect.stringContaining("rate_limited") });
  });
});

describe("the loop never spins forever", () => {
  it("a step budget ends in a clear failed state", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel(Array.from({ length: 30 }, () => ({ intent: "add", a: 1, b: 1 })));
    const t = await run(testAgent({ maxSteps: 5 }), thread, { model, runtime });
    expect(model.remaining).toBe(25);
    expect(threadState(t)).toMatchObject({ status: "failed", reason: "step_budget" });
    // A new message continues a failed thread.
    const more = await resume(testAgent(), t, userMessage("finish please"), {
      model: scriptedModel([{ intent: "done_for_now", message: "ok" }]),
      runtime,
    });
    expect(threadState(more).status).toBe("done");
  });
});

describe("policies (factor 8)", () => {
  it("async: waits for an external result and rejects anything else", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const t = await run(agent, thread, { model: scriptedModel([{ intent: "lookup", id: "42" }]), runtime });
    expect(threadState(t)).toMatchObject({
      status: "waiting",
      pending: { kind: "async", resultType: "lookup_result" },
    });
    // An answer: only the result decision fits an async request.
    const wrong = await resume(agent, t, approve(), { model: scriptedModel([]), runtime }).catch((e) => e);
    expect(wrong).toBeInstanceOf(RequestError);
    expect(wrong.code).toBe("invalid_decision");
    expect(wrong.message).toMatch(/"approve" is not allowed here; allowed: result/);
    expect(wrong.details).toMatchObject({ kind: "async", allowed: ["result"] });
    // A raw event: only the awaited result type fits.
    await expect(
      resume(agent, t, { type: "approval", data: { approved: true } }, { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/awaits "lookup_result"/);
    const done = await resume(agent, t, result(humanRequest(t), { name: "Ada" }), {
      model: scriptedModel([{ intent: "done_for_now", message: "Ada" }]),
      runtime,
    });
    expect(types(done)).toEqual(["user_message", "lookup", "lookup_result", "done_for_now"]);
    expect(done.events[2]?.meta).toMatchObject({ kind: "result", stepId: done.events[1]?.id });
  });

  it("a policy function decides per step (approve only large charges)", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const model = scriptedModel([
      { intent: "charge", cents: 500 },
      { intent: "charge", cents: 5000 },
    ]);
    const t = await run(agent, thread, { model, runtime });
    expect(types(t)).toEqual(["user_message", "charge", "charge_started", "charge_result", "charge"]);
    expect(threadState(t).status).toBe("awaiting_approval");
  });

  it("resume names what is awaited when the event does not fit", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const t = await run(agent, thread, { model: scriptedModel([{ intent: "charge", cents: 5000 }]), runtime });
    const error = await resume(agent, t, humanResponse("yes"), { model: scriptedModel([]), runtime }).catch((e) => e);
    expect(error).toBeInstanceOf(ResumeMismatchError);
    expect(error.code).toBe("resume_mismatch");
    expect(error.details).toMatchObject({
      status: "awaiting_approval",
      awaiting: "approval of charge",
      received: "human_response",
    });
    // An answer that does not fit names the decisions the request allows.
    const wrong = await resume(agent, t, respond(humanRequest(t), "yes"), { model: scriptedModel([]), runtime }).catch(
      (e) => e,
    );
    expect(wrong).toBeInstanceOf(RequestError);
    expect(wrong.code).toBe("invalid_decision");
    expect(wrong.details).toMatchObject({
      kind: "approval",
      decision: "respond",
      allowed: ["approve", "edit", "reject"],
    });
    await expect(
      resume(agent, t, edit(humanRequest(t), { cents: "lots" }), { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/edited arguments for "charge" are invalid/);
    await expect(
      resume(
        agent,
        t,
        { type: "approval", data: { approved: true, arguments: { cents: "lots" } } },
        {
          model: scriptedModel([]),
          runtime,
        },
      ),
    ).rejects.toThrow(/edited arguments for "charge" are invalid/);
    await expect(
      resume(agent, t, { type: "approval", data: { ok: 1 } }, { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/"approved"/);
  });

  it("a running thread cannot be resumed; a done one accepts a new message only", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    await expect(resume(agent, thread, approve(), { model: scriptedModel([]), runtime })).rejects.toThrow(/running/);
    await expect(
      resume(agent, thread, { type: "approval", data: { approved: true } }, { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/it is running, not paused/);
    const done = await run(agent, thread, {
      model: scriptedModel([{ intent: "done_for_now", message: "hi" }]),
      runtime,
    });
    await expect(resume(agent, done, approve(), { model: scriptedModel([]), runtime })).rejects.toThrow(
      /awaits no answer \(done\)/,
    );
    await expect(
      resume(agent, done, { type: "approval", data: { approved: true } }, { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/awaits nothing/);
  });

  it("yes/no and multiple-choice answers are checked against the question", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const ask = (format: string, choices?: string[]) =>
      run(agent, thread, {
        model: scriptedModel([{ intent: "request_human_input", question: "Proceed?", options: { format, choices } }]),
        runtime,
      });
    const yesNo = await ask("yes_no");
    await expect(
      resume(agent, yesNo, respond(undefined, "maybe"), { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/yes or no/);
    // The deprecated raw event is checked the same way.
    await expect(resume(agent, yesNo, humanResponse("maybe"), { model: scriptedModel([]), runtime })).rejects.toThrow(
      /yes or no/,
    );
    const answered = await resume(agent, yesNo, respond(humanRequest(yesNo), "Yes"), {
      model: scriptedModel([{ intent: "done_for_now", message: "ok" }]),
      runtime,
    });
    expect(answered.events.find((e) => e.type === "human_response")?.data).toEqual({ response: true });
    const choice = await ask("multiple_choice", ["staging", "production"]);
    await expect(
      resume(agent, choice, respond(humanRequest(choice), "dev"), { model: scriptedModel([]), runtime }),
    ).rejects.toThrow(/one of: staging, production/);
    await expect(resume(agent, choice, humanResponse("dev"), { model: scriptedModel([]), runtime })).rejects.toThrow(
      /one of: staging, production/,
    );
  });

  it("a duplicate delivery (same idempotency key) adds nothing", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const t = await run(agent, thread, { model: scriptedModel([{ intent: "charge", cents: 5000 }]), runtime });
    const answer = approve(humanRequest(t), { idempotencyKey: "slack-action-1" });
    const model = scriptedModel([{ intent: "done_for_now", message: "charged" }]);
    const once = await resume(agent, t, answer, { model, runtime });
    const twice = await resume(agent, once, answer, { model, runtime });
    expect(twice).toBe(once);
    expect(types(twice).filter((x) => x === "charge_result")).toHaveLength(1);
    // A raw event carrying the key in its meta is deduplicated the same way.
    const event = { type: "approval", data: { approved: true }, meta: { idempotencyKey: "slack-action-2" } };
    const rawOnce = await resume(agent, t, event, {
      model: scriptedModel([{ intent: "done_for_now", message: "charged" }]),
      runtime,
    });
    expect(await resume(agent, rawOnce, event, { model: scriptedModel([]), runtime })).toBe(rawOnce);
  });
});

describe("exactly-once bookkeeping and recovery", () => {
  it("commits the step and its _started marker before the handler runs", async () => {
    const { thread, runtime } = newThread();
    const committed: string[][] = [];
    let seenAtHandler: string[] = [];
    const agent = testAgent({
      intents: [
        // A handler that records what was durable when it ran.
        {
          ...testAgent().intents[0]!,
          handler: () => {
            seenAtHandler = committed.flat();
            return 2;
          },
        },
      ],
    });
    await run(agent, thread, {
      model: scriptedModel([
        { intent: "add", a: 1, b: 1 },
        { intent: "done_for_now", message: "2" },
      ]),
      runtime,
      commit: async (t, added) => {
        committed.push(added.map((e) => e.type));
        return t;
      },
    });
    expect(committed).toEqual([["add", "add_started"], ["add_result"], ["done_for_now"]]);
    expect(seenAtHandler).toEqual(["add", "add_started"]);
  });

  it("a started-without-result step pauses for a human unless the intent is idempotent", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const t = await run(agent, thread, {
      model: scriptedModel([
        { intent: "add", a: 2, b: 2 },
        { intent: "done_for_now", message: "4" },
      ]),
      runtime,
    });
    // Simulate a crash right after `add_started` was committed.
    const crashed: Thread = { ...t, events: t.events.slice(0, 3), version: 3 };
    expect(threadState(crashed)).toMatchObject({
      status: "awaiting_human",
      pending: { kind: "uncertain", intent: "add", arguments: { a: 2, b: 2 } },
    });
    const untouched = await run(agent, crashed, { model: scriptedModel([]), runtime });
    expect(untouched).toBe(crashed);
    // Approving is not a decision on an uncertain step: a human checks, then decides.
    await expect(resume(agent, crashed, approve(), { model: scriptedModel([]), runtime })).rejects.toMatchObject({
      code: "invalid_decision",
    });
    // A human says: run it again.
    const rerun = await resume(agent, crashed, runAgain(humanRequest(crashed)), {
      model: scriptedModel([{ intent: "done_for_now", message: "4" }]),
      runtime,
    });
    expect(types(rerun)).toEqual([
      "user_message",
      "add",
      "add_started",
      "approval",
      "add_started",
      "add_result",
      "done_for_now",
    ]);
    // Idempotent intents are simply re-run.
    const idempotent: Thread = {
      ...crashed,
      events: crashed.events.map((e) =>
        e.type === "add_started" ? { ...e, meta: { ...e.meta, idempotent: true } } : e,
      ),
    };
    const recovered = await run(agent, idempotent, {
      model: scriptedModel([{ intent: "done_for_now", message: "4" }]),
      runtime,
    });
    expect(types(recovered)).toEqual(["user_message", "add", "add_started", "add_result", "done_for_now"]);
  });
});

describe("stateless reducer (factor 12)", () => {
  it("same thread + same model answers → the same new thread", async () => {
    const script = () =>
      scriptedModel([
        { intent: "add", a: 1, b: 2 },
        { intent: "charge", cents: 5000 },
      ]);
    const a = await run(testAgent(), newThread().thread, {
      model: script(),
      runtime: deterministicRuntime("2025-01-01T00:00:00.000Z", "x"),
    });
    const b = await run(testAgent(), newThread().thread, {
      model: script(),
      runtime: deterministicRuntime("2025-01-01T00:00:00.000Z", "x"),
    });
    expect(a).toEqual(b);
  });

  it("step on a paused or finished thread returns it unchanged", async () => {
    const { thread, runtime } = newThread();
    const t = await run(testAgent(), thread, { model: scriptedModel([{ intent: "charge", cents: 5000 }]), runtime });
    expect(await step(testAgent(), t, { model: scriptedModel([]), runtime })).toBe(t);
  });
});

describe("hooks", () => {
  it("prefetch runs once before the first model call; before/after hooks append events", async () => {
    const { thread, runtime } = newThread();
    let prefetches = 0;
    const seen: string[] = [];
    const agent = testAgent({
      hooks: {
        prefetch: () => {
          prefetches++;
          return [{ type: "account", data: { plan: "pro" } }];
        },
        beforeStep: (t) => (t.events.length > 6 ? [{ type: "summary", data: "long thread" }] : undefined),
        afterStep: (_t, added) => {
          seen.push(added.map((e) => e.type).join(","));
          return undefined;
        },
      },
    });
    const model = scriptedModel([
      { intent: "add", a: 1, b: 1 },
      { intent: "add", a: 2, b: 2 },
      { intent: "done_for_now", message: "ok" },
    ]);
    const t = await run(agent, thread, { model, runtime });
    expect(prefetches).toBe(1);
    expect(types(t)).toEqual([
      "user_message",
      "account",
      "add",
      "add_started",
      "add_result",
      "add",
      "add_started",
      "add_result",
      "summary",
      "done_for_now",
    ]);
    expect(t.events[1]?.meta?.prefetch).toBe(true);
    expect(model.calls[0]?.messages.at(-1)?.content).toContain("<account>plan: pro</account>");
    expect(seen).toEqual(["add,add_started,add_result", "add,add_started,add_result", "done_for_now"]);
  });
});

describe("hooks and agent definitions fail clearly", () => {
  it("a throwing hook becomes an error event, not an exception out of run()", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent({
      hooks: {
        prefetch: () => {
          throw new Error("db down");
        },
      },
    });
    const t = await run(agent, thread, { model: scriptedModel([{ intent: "done_for_now", message: "ok" }]), runtime });
    expect(types(t)).toEqual(["user_message", "error", "done_for_now"]);
    expect(t.events[1]?.data).toEqual({ kind: "hook", hook: "prefetch", message: "the prefetch hook failed: db down" });
    // A hook that keeps failing escalates like any repeated error.
    const stuck = await run(
      testAgent({
        hooks: {
          beforeStep: () => {
            throw new Error("rate limiter offline");
          },
        },
      }),
      thread,
      { model: scriptedModel([]), runtime },
    );
    expect(types(stuck)).toEqual(["user_message", "error", "error", "error", "escalation"]);
  });

  it("an intent that may execute must have a handler", async () => {
    const { defineAgent, defineIntent } = await import("../../src/index.js");
    const { z } = await import("zod");
    const launch = defineIntent("launch", z.object({}), { description: "Launch", policy: "approve" });
    expect(() => defineAgent({ name: "x", intents: [launch] })).toThrow(/"launch" has policy "approve" but no handler/);
    const dynamic = defineIntent("maybe", z.object({}), { description: "Maybe", policy: () => "run" });
    expect(() => defineAgent({ name: "x", intents: [dynamic] })).toThrow(/chosen per step/);
    const asks = defineIntent("ask", z.object({}), { description: "Ask", policy: "human" });
    expect(defineAgent({ name: "x", intents: [asks] }).intents.map((i) => i.name)).toContain("ask");
  });
});

describe("output mode per run and per model", () => {
  it("a run's output option overrides the model's preference, which overrides the agent's", async () => {
    const { thread, runtime } = newThread();
    const answer = { toolCalls: [{ id: "c1", name: "done_for_now", arguments: { message: "ok" } }] };
    const prefersTools = Object.assign(scriptedModel([answer]), { outputMode: "tools" as const });
    const t = await run(testAgent(), thread, { model: prefersTools, runtime });
    expect(prefersTools.calls[0]?.output?.mode).toBe("tools");
    expect(prefersTools.calls[0]?.messages[0]?.content).toContain("calling exactly one of the tools");
    expect(t.events.at(-1)?.meta).toMatchObject({ mode: "tools", answer: "tool_calls" });
    const forced = Object.assign(scriptedModel(['{"intent": "done_for_now", "message": "ok"}']), {
      outputMode: "tools" as const,
    });
    const j = await run(testAgent(), thread, { model: forced, runtime, output: "json" });
    expect(forced.calls[0]?.output?.mode).toBe("json");
    expect(j.events.at(-1)?.meta).toMatchObject({ mode: "json", answer: "text" });
  });

  it("a parse error keeps what the parser tried and zod's issues in meta", async () => {
    const { thread, runtime } = newThread();
    const t = await run(testAgent(), thread, {
      model: scriptedModel([
        { intent: "add", a: "x", b: 1 },
        { intent: "done_for_now", message: "x" },
      ]),
      runtime,
    });
    expect(t.events[1]?.meta?.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^a: /)]));
  });
});

describe("streaming", () => {
  it("passes the run's onText to the model so answers can stream", async () => {
    const { thread, runtime } = newThread();
    const deltas: string[] = [];
    const model = scriptedModel([
      (request) => {
        for (const piece of ['{"intent": "done_for_now", ', '"message": "hi"}']) request.onText?.(piece);
        return '{"intent": "done_for_now", "message": "hi"}';
      },
    ]);
    const t = await run(testAgent(), thread, { model, runtime, onText: (d) => deltas.push(d) });
    expect(deltas.join("")).toBe('{"intent": "done_for_now", "message": "hi"}');
    expect(threadState(t).status).toBe("done");
  });
});
