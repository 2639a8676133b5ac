import { describe, expect, it } from "vitest";
import {
  chatMessages,
  createThread,
  deterministicRuntime,
  json,
  makeEvent,
  redactValue,
  type Thread,
  xmlYaml,
} from "../../src/index.js";

function sample(): Thread {
  const rt = deterministicRuntime();
  const step = (intent: string, args: object, policy = "run") =>
    makeEvent(rt, intent, { intent, ...args }, { kind: "step", intent, policy: policy as "run" });
  const s1 = step("list_git_tags", {});
  const s2 = step("deploy_backend", { tag: "v1.2.3" }, "approve");
  return createThread(
    "deploybot",
    [
      makeEvent(rt, "slack_message", { from: "@alex", channel: "#deployments", text: "deploy the backend" }),
      s1,
      makeEvent(
        rt,
        "list_git_tags_started",
        { arguments: {} },
        { kind: "started", stepId: s1.id, intent: "list_git_tags" },
      ),
      makeEvent(
        rt,
        "list_git_tags_result",
        { tags: [{ name: "v1.2.3", commit: "abc123" }] },
        {
          kind: "result",
          stepId: s1.id,
          intent: "list_git_tags",
        },
      ),
      s2,
      makeEvent(rt, "approval", { approved: false, feedback: "frontend first" }, { stepId: s2.id }),
    ],
    { runtime: rt },
  );
}

describe("xmlYaml (the essay's format)", () => {
  it("renders each visible event as <type> + YAML + </type>", () => {
    expect(xmlYaml()(sample())).toBe(
      [
        '<slack_message>\nfrom: "@alex"\nchannel: "#deployments"\ntext: deploy the backend\n</slack_message>',
        "<list_git_tags></list_git_tags>",
        "<list_git_tags_result>\ntags:\n  - name: v1.2.3\n    commit: abc123\n</list_git_tags_result>",
        "<deploy_backend>tag: v1.2.3</deploy_backend>",
        "<approval>\napproved: false\nfeedback: frontend first\n</approval>",
      ].join("\n"),
    );
    // The essay's longer form, on request.
    expect(xmlYaml({ intentField: true, separator: "\n\n" })(sample())).toContain(
      "</list_git_tags_result>\n\n<deploy_backend>\nintent: deploy_backend\ntag: v1.2.3\n</deploy_backend>",
    );
  });

  it("redacts secrets by key name and by pattern, leaving the stored thread intact", () => {
    const rt = deterministicRuntime();
    const thread = createThread("x", [
      makeEvent(rt, "config", {
        api_key: "abc",
        password: "hunter2",
        note: "token sk-proj-ABCDEFGHIJKLMNOPQRSTUV here",
        nested: { Authorization: "Basic x" },
      }),
    ]);
    const text = xmlYaml()(thread);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("sk-proj-ABCDEFGHIJKLMNOPQRSTUV");
    expect(text).not.toContain("Basic x");
    expect(text).toContain("note: token [REDACTED] here");
    expect((thread.events[0]!.data as { password: string }).password).toBe("hunter2");
    expect(xmlYaml({ redact: false })(thread)).toContain("hunter2");
    expect(redactValue({ mine: "x", ok: "y" }, { keys: /^mine$/ })).toEqual({ mine: "[REDACTED]", ok: "y" });
  });

  it("hides an error once the same intent later succeeds (unless told not to)", () => {
    const rt = deterministicRuntime();
    const thread = createThread("x", [
      makeEvent(rt, "error", { kind: "handler", intent: "add", message: "timeout" }),
      makeEvent(rt, "error", { kind: "handler", intent: "sub", message: "still broken" }),
      makeEvent(rt, "add_result", 3, { kind: "result", intent: "add" }),
    ]);
    const shown = xmlYaml()(thread);
    expect(shown).not.toContain("timeout");
    expect(shown).toContain("still broken");
    expect(xmlYaml({ hideResolvedErrors: false })(thread)).toContain("timeout");
  });

  it("uses per-type custom renderers (null hides), truncates long results, and renders each event once", () => {
    const rt = deterministicRuntime();
    let calls = 0;
    const thread = createThread("x", [
      makeEvent(rt, "secret_note", "hidden"),
      makeEvent(rt, "search_result", "x".repeat(100), { kind: "result", intent: "search" }),
      makeEvent(rt, "user_message", "hi"),
    ]);
    const render = xmlYaml({
      maxResultChars: 10,
      renderers: {
        secret_note: () => null,
        user_message: (e) => {
          calls++;
          return `said: ${e.data}`;
        },
      },
    });
    const text = render(thread);
    expect(text).not.toContain("hidden");
    expect(text).toContain("xxxxxxxxxx\n… [truncated 90 characters]");
    expect(text).toContain("<user_message>said: hi</user_message>");
    render(thread);
    render({ ...thread, events: [...thread.events] });
    expect(calls).toBe(1);
  });
});

describe("json and chatMessages renderers", () => {
  it("json lists {type, data} of visible events", () => {
    const items = JSON.parse(json()(sample()) as string);
    expect(items.map((i: { type: string }) => i.type)).toEqual([
      "slack_message",
      "list_git_tags",
      "list_git_tags_result",
      "deploy_backend",
      "approval",
    ]);
  });

  it("chatMessages pairs every tool call with a tool message", () => {
    const messages = chatMessages()(sample());
    expect(Array.isArray(messages)).toBe(true);
    const m = messages as Exclude<typeof messages, string>;
    expect(m.map((x) => x.role)).toEqual(["user", "assistant", "tool", "assistant", "tool"]);
    expect(m[1]?.toolCalls?.[0]).toMatchObject({ name: "list_git_tags", arguments: {} });
    expect(m[2]).toMatchObject({ role: "tool", toolCallId: m[1]?.toolCalls?.[0]?.id });
    expect(m[4]?.content).toBe('approval: {"approved":false,"feedback":"frontend first"}');
  });
});

describe("incremental rendering", () => {
  it("a growing thread renders exactly as a fresh render of the same events", async () => {
    const fc = (await import("fast-check")).default;
    const intents = ["add", "divide"];
    const eventArb = fc.oneof(
      fc.record({ kind: fc.constant("message"), text: fc.string({ maxLength: 10 }) }),
      fc.record({ kind: fc.constant("step"), intent: fc.constantFrom(...intents) }),
      fc.record({ kind: fc.constant("started"), intent: fc.constantFrom(...intents) }),
      fc.record({ kind: fc.constant("result"), intent: fc.constantFrom(...intents), value: fc.integer() }),
      fc.record({ kind: fc.constant("error"), intent: fc.option(fc.constantFrom(...intents), { nil: undefined }) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(eventArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (batches, hide) => {
          const rt = deterministicRuntime();
          const incremental = xmlYaml({ hideResolvedErrors: hide });
          let thread = createThread("x", [makeEvent(rt, "user_message", "start")]);
          for (const batch of batches) {
            const added = batch.map((e) => {
              switch (e.kind) {
                case "message":
                  return makeEvent(rt, "user_message", e.text);
                case "step":
                  return makeEvent(
                    rt,
                    e.intent,
                    { intent: e.intent },
                    { kind: "step", intent: e.intent, policy: "run" },
                  );
                case "started":
                  return makeEvent(rt, `${e.intent}_started`, {}, { kind: "started", intent: e.intent });
                case "result":
                  return makeEvent(rt, `${e.intent}_result`, e.value, { kind: "result", intent: e.intent });
                default:
                  return makeEvent(
                    rt,
                    "error",
                    e.intent ? { intent: e.intent, message: "boom" } : { message: "parse" },
                  );
              }
            });
            thread = { ...thread, events: [...thread.events, ...added], version: thread.version + added.length };
            expect(incremental(thread)).toBe(xmlYaml({ hideResolvedErrors: hide })(thread));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
