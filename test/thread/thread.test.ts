import { describe, expect, it } from "vitest";
import {
  appendEvents,
  createThread,
  fork,
  InvalidThreadError,
  makeEvent,
  parseThread,
  THREAD_SCHEMA_VERSION,
  threadState,
  toMarkdown,
} from "../../src/index.js";
import { deterministicRuntime } from "../../src/testing.js";

const rt = () => deterministicRuntime();

describe("thread", () => {
  it("appends without mutating and counts the version in events", () => {
    const runtime = rt();
    const t0 = createThread("a", [makeEvent(runtime, "user_message", "hi")], { runtime });
    const t1 = appendEvents(t0, [makeEvent(runtime, "note", { x: 1 })]);
    expect(t0.events).toHaveLength(1);
    expect(t0.version).toBe(1);
    expect(t1.version).toBe(2);
    expect(t1.schemaVersion).toBe(THREAD_SCHEMA_VERSION);
    expect(appendEvents(t1, [])).toBe(t1);
  });

  it("forks a prefix under a new id and remembers the parent", () => {
    const runtime = rt();
    const events = ["a", "b", "c"].map((x) => makeEvent(runtime, "user_message", x));
    const t = createThread("agent", events, { runtime, id: "thr_main" });
    const f = fork(t, events[1]!.id, { id: "thr_fork" });
    expect(f.events.map((e) => e.data)).toEqual(["a", "b"]);
    expect(f.parent).toEqual({ threadId: "thr_main", eventId: events[1]!.id });
    f.events[0]!.data = "changed";
    expect(t.events[0]!.data).toBe("a");
    expect(() => fork(t, "nope")).toThrow(InvalidThreadError);
  });

  it("parses plain JSON back into a thread and upgrades schema version 0", () => {
    const runtime = rt();
    const t = createThread("agent", [makeEvent(runtime, "user_message", "hi")], { runtime, id: "thr_1" });
    expect(parseThread(JSON.parse(JSON.stringify(t)))).toEqual(t);
    const old = {
      id: "thr_old",
      agent: "agent",
      events: [{ id: "e1", type: "user_message", data: "hi", timestamp: "2024-03-15T10:00:00Z" }],
    };
    const upgraded = parseThread(old);
    expect(upgraded.schemaVersion).toBe(THREAD_SCHEMA_VERSION);
    expect(upgraded.events[0]?.at).toBe("2024-03-15T10:00:00Z");
  });

  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    [{ agent: "a", events: [] }, /"id"/],
    [{ id: "x", agent: "a", events: {} }, /"events" must be an array/],
    [{ id: "x", agent: "a", events: [{ id: "e", type: "<bad>", at: "2024-01-01T00:00:00Z" }] }, /tag name/],
    [{ id: "x", agent: "a", events: [{ id: "e", type: "t", at: "yesterday" }] }, /ISO-8601/],
    [
      {
        id: "x",
        agent: "a",
        events: [
          { id: "e", type: "t", at: "2024-01-01T00:00:00Z" },
          { id: "e", type: "t", at: "2024-01-01T00:00:00Z" },
        ],
      },
      /duplicate event id/,
    ],
    [{ id: "x", agent: "a", events: [], schemaVersion: 99 }, /newer than this version/],
  ])("rejects %j with a specific error", (value, message) => {
    expect(() => parseThread(value)).toThrow(message);
    try {
      parseThread(value);
    } catch (error) {
      expect((error as InvalidThreadError).code).toBe("invalid_thread");
    }
  });

  it("renders a readable markdown view", () => {
    const runtime = rt();
    const t = createThread(
      "calc",
      [
        makeEvent(runtime, "user_message", "divide 3 by 4"),
        makeEvent(
          runtime,
          "divide",
          { intent: "divide", a: 3, b: 4 },
          { kind: "step", policy: "approve", intent: "divide" },
        ),
      ],
      { runtime, id: "thr_md" },
    );
    const md = toMarkdown(t);
    expect(md).toContain("# Thread thr_md");
    expect(md).toContain("- status: awaiting_approval");
    expect(md).toContain("## divide _(step, approve)_");
    expect(md).toContain("a: 3");
  });

  it("derives every status from the events alone", () => {
    const runtime = rt();
    const step = (intent: string, policy: string, data: object = {}) =>
      makeEvent(runtime, intent, { intent, ...data }, { kind: "step", policy: policy as "run", intent });
    const thread = (...events: ReturnType<typeof makeEvent>[]) => createThread("x", events, { runtime });
    const msg = makeEvent(runtime, "user_message", "hi");
    expect(threadState(thread()).status).toBe("running");
    expect(threadState(thread(msg)).next).toEqual({ kind: "call_model" });
    expect(threadState(thread(msg, step("add", "run", { a: 1 }))).next).toMatchObject({
      kind: "execute",
      arguments: { a: 1 },
    });
    expect(threadState(thread(msg, step("d", "approve"))).status).toBe("awaiting_approval");
    expect(threadState(thread(msg, step("q", "human", { question: "?" }))).status).toBe("awaiting_human");
    expect(threadState(thread(msg, step("l", "async"))).status).toBe("waiting");
    expect(threadState(thread(msg, step("done_for_now", "done"))).status).toBe("done");
    expect(threadState(thread(msg, makeEvent(runtime, "failed", { reason: "x" }))).status).toBe("failed");
    expect(threadState(thread(msg, makeEvent(runtime, "escalation", { question: "help?" }))).status).toBe(
      "awaiting_human",
    );
  });
});
