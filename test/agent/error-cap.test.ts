import { describe, expect, it } from "vitest";
import { z } from "zod";
import { capMessage, DEFAULT_MAX_MESSAGE_CHARS, META_MESSAGE_FACTOR } from "../../src/agent/agent.js";
import { defineIntent, InvalidAgentError, makeEvent, run, type Thread, threadState } from "../../src/index.js";
import { scriptedModel } from "../../src/testing.js";
import { newThread, testAgent, types } from "./fixtures.js";

const HUGE = 2_000_000;
/** A message whose start and end can be recognized after a cut. */
const huge = (n = HUGE) => `START ${"x".repeat(n - 10)} END`;
/** The marker: ` … [truncated N characters] … `. */
const MARKER_SLACK = 40;

const shouting = defineIntent("shout", z.object({}), {
  description: "Fails with a huge message",
  handler: () => {
    throw new Error(huge());
  },
});

const promptSize = (model: ReturnType<typeof scriptedModel>, call: number) =>
  JSON.stringify(model.calls[call]?.messages ?? null).length;

const errorData = (t: Thread, i = t.events.findIndex((e) => e.type === "error")) =>
  t.events[i]!.data as { message: string; intent?: string };

describe("error messages the model sees are capped (factor 9)", () => {
  it("a handler throwing a 2 MB message: the next prompt stays small, meta keeps a bounded copy", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([{ intent: "shout" }, { intent: "done_for_now", message: "gave up" }]);
    const t = await run(testAgent({ intents: [shouting] }), thread, { model, runtime });
    model.assertDone();
    expect(types(t)).toEqual(["user_message", "shout", "shout_started", "error", "done_for_now"]);
    const error = t.events[3]!;
    const message = errorData(t).message;
    expect(message.length).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_CHARS + MARKER_SLACK);
    expect(message.startsWith("START x")).toBe(true);
    expect(message.endsWith("x END")).toBe(true);
    expect(message).toMatch(/ … \[truncated \d+ characters\] … /);
    const dropped = Number(/truncated (\d+) characters/.exec(message)?.[1]);
    expect(dropped).toBe(HUGE - DEFAULT_MAX_MESSAGE_CHARS);
    // The next prompt shows the cut message, not 2 MB (nor 4 MB).
    expect(promptSize(model, 1)).toBeLessThan(20_000);
    expect(JSON.stringify(model.calls[1]?.messages)).toContain("truncated");
    // Meta: the original length and a longer copy, still bounded.
    expect(error.meta?.messageChars).toBe(HUGE);
    const copy = error.meta?.message as string;
    expect(copy.length).toBeGreaterThan(message.length);
    expect(copy.length).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_CHARS * META_MESSAGE_FACTOR + MARKER_SLACK);
    expect(JSON.stringify(error).length).toBeLessThan(50_000);
  });

  it("the cap is configurable through errors.maxMessageChars; 0 never cuts", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([{ intent: "shout" }, { intent: "done_for_now", message: "x" }]);
    const t = await run(testAgent({ intents: [shouting], errors: { maxMessageChars: 100 } }), thread, {
      model,
      runtime,
    });
    const message = errorData(t).message;
    expect(message.length).toBeLessThanOrEqual(100 + MARKER_SLACK);
    expect(message.length).toBeGreaterThan(100);
    expect(message).toContain(`truncated ${HUGE - 100} characters`);
    expect(promptSize(model, 1)).toBeLessThan(5_000);
    expect(String(t.events[3]!.meta?.message ?? "").length).toBeLessThanOrEqual(
      100 * META_MESSAGE_FACTOR + MARKER_SLACK,
    );

    const long = defineIntent("long", z.object({}), {
      description: "Fails with a long message",
      handler: () => {
        throw new Error(huge(30_000));
      },
    });
    const uncut = await run(
      testAgent({ intents: [long], errors: { maxMessageChars: 0 } }),
      newThread(undefined, runtime).thread,
      { model: scriptedModel([{ intent: "long" }, { intent: "done_for_now", message: "x" }]), runtime },
    );
    expect(errorData(uncut).message).toBe(huge(30_000));
    expect(() => testAgent({ errors: { maxMessageChars: -1 } })).toThrow(InvalidAgentError);
    expect(() => testAgent({ errors: { maxMessageChars: 1.5 } })).toThrow(InvalidAgentError);
  });

  it("short messages are untouched and meta gets nothing extra", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([
      { intent: "flaky", n: 1 },
      { intent: "done_for_now", message: "x" },
    ]);
    const t = await run(testAgent(), thread, { model, runtime });
    expect(t.events[3]?.data).toEqual({ kind: "handler", intent: "flaky", message: "service unavailable" });
    expect(t.events[3]?.meta).toEqual({ stepId: t.events[1]!.id });
    // Exactly at the cap: untouched too.
    const exact = "y".repeat(DEFAULT_MAX_MESSAGE_CHARS);
    expect(capMessage(exact, DEFAULT_MAX_MESSAGE_CHARS)).toBe(exact);
  });

  it("a custom format's huge output and a kept stack are bounded as well", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent({ errors: { keepStack: true, maxMessageChars: 500, format: () => huge() } });
    const model = scriptedModel([{ intent: "shout" }, { intent: "done_for_now", message: "x" }]);
    const t = await run({ ...agent, intents: [...agent.intents, shouting] }, thread, { model, runtime });
    const error = t.events.find((e) => e.type === "error")!;
    expect((error.data as { message: string }).message.length).toBeLessThanOrEqual(500 + MARKER_SLACK);
    expect(String(error.meta?.stack ?? "").length).toBeLessThanOrEqual(500 * META_MESSAGE_FACTOR + MARKER_SLACK);
    expect(error.meta?.stack).toContain("START");
  });

  it("a hook throwing a huge message", async () => {
    const { thread, runtime } = newThread();
    let thrown = false;
    const agent = testAgent({
      hooks: {
        beforeStep: () => {
          if (thrown) return undefined;
          thrown = true;
          throw new Error(huge());
        },
      },
    });
    const model = scriptedModel([{ intent: "done_for_now", message: "x" }]);
    const t = await run(agent, thread, { model, runtime });
    model.assertDone();
    const error = t.events.find((e) => e.type === "error")!;
    expect(error.data).toMatchObject({ kind: "hook", hook: "beforeStep" });
    const message = (error.data as { message: string }).message;
    expect(message.startsWith("the beforeStep hook failed: START")).toBe(true);
    expect(message.length).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_CHARS + MARKER_SLACK);
    expect(error.meta).toMatchObject({ phase: "hook", messageChars: HUGE + "the beforeStep hook failed: ".length });
    expect(promptSize(model, 0)).toBeLessThan(20_000);
  });

  it("a model call failing with a huge body", async () => {
    const { thread, runtime } = newThread();
    const model = scriptedModel([new Error(huge()), { intent: "done_for_now", message: "x" }]);
    const t = await run(testAgent(), thread, { model, runtime });
    const error = t.events.find((e) => e.type === "error")!;
    expect(error.data).toMatchObject({ kind: "model" });
    const message = (error.data as { message: string }).message;
    expect(message.startsWith("the model call failed (model_error): START")).toBe(true);
    expect(message.length).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_CHARS + MARKER_SLACK);
    expect(error.meta).toMatchObject({ phase: "model", model: model.id });
    expect(promptSize(model, 1)).toBeLessThan(20_000);
  });

  it("parse failures: the message and a huge intent name the model made up", async () => {
    const { thread, runtime } = newThread();
    // Under the parser's 1 MB answer limit, so it is read as a step naming an unknown intent.
    const name = `n${"a".repeat(200_000)}`;
    const model = scriptedModel([
      { intent: name },
      "I will not answer in JSON",
      { intent: "done_for_now", message: "x" },
    ]);
    const t = await run(testAgent({ errors: { maxMessageChars: 100 } }), thread, { model, runtime });
    model.assertDone();
    const [first, second] = t.events.filter((e) => e.type === "error");
    expect(first?.data).toMatchObject({ kind: "unknown_intent" });
    const data = first!.data as { message: string; intent: string };
    expect(data.intent.length).toBeLessThanOrEqual(100 + MARKER_SLACK);
    expect(data.message.length).toBeLessThanOrEqual(100 + MARKER_SLACK);
    // The parser's own message (~190 characters here) is cut at this small cap too.
    expect((second!.data as { message: string }).message).toContain("truncated");
    expect(second!.meta?.raw).toBe("I will not answer in JSON");
    expect(promptSize(model, 1)).toBeLessThan(20_000);
    expect(promptSize(model, 2)).toBeLessThan(20_000);
  });

  it("escalation and failure summaries list capped messages, even of errors recorded uncapped", async () => {
    for (const onThreshold of ["escalate", "fail"] as const) {
      const { thread, runtime } = newThread();
      // Two errors from elsewhere (an older version, a hook's own events) with huge messages.
      const old = [1, 2].map(() =>
        makeEvent(runtime, "error", { kind: "handler", intent: "shout", message: huge() }, {}),
      );
      const seeded: Thread = { ...thread, events: [...thread.events, ...old] };
      const model = scriptedModel([{ intent: "shout" }]);
      const agent = testAgent({ intents: [shouting], errors: { onThreshold, maxMessageChars: 300 } });
      const t = await run(agent, seeded, { model, runtime });
      const last = t.events.at(-1)!;
      expect(last.type).toBe(onThreshold === "fail" ? "failed" : "escalation");
      expect(threadState(t).status).toBe(onThreshold === "fail" ? "failed" : "awaiting_human");
      const errors = (last.data as { errors: string[] }).errors;
      expect(errors).toHaveLength(3);
      for (const m of errors) {
        expect(m.length).toBeLessThanOrEqual(300 + MARKER_SLACK);
        expect(m).toContain("truncated");
      }
      expect(JSON.stringify(last.data).length).toBeLessThan(5_000);
    }
  });
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("capMessage", () => {
  it("keeps the first two thirds and the last third, counting what it cut", () => {
    const text = "abcdefghij".repeat(10); // 100 characters
    const cut = capMessage(text, 30);
    expect(cut).toBe(`${text.slice(0, 20)} … [truncated 70 characters] … ${text.slice(90)}`);
    expect(capMessage(text, 100)).toBe(text);
    expect(capMessage(text, 0)).toBe(text);
  });

  it("never splits a surrogate pair", () => {
    const text = "😀".repeat(50); // 100 UTF-16 code units
    for (const max of [9, 10, 11, 30, 31]) {
      const cut = capMessage(text, max);
      expect(cut).not.toMatch(LONE_SURROGATE);
      const [head = "", tail = ""] = cut.split(/ … \[truncated \d+ characters\] … /);
      const dropped = Number(/truncated (\d+)/.exec(cut)?.[1]);
      expect(head.length + dropped + tail.length).toBe(text.length);
      expect(head.length + tail.length).toBeLessThanOrEqual(max);
    }
  });
});
