import { describe, expect, it } from "vitest";
import {
  chatMessages,
  createThread,
  json,
  makeEvent,
  type RenderOptions,
  redactValue,
  type Thread,
  xmlYaml,
} from "../../src/index.js";
import { deterministicRuntime } from "../../src/testing.js";

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

describe("xmlYaml (the default context)", () => {
  it("folds each step and what answers it into one element; other events are <type> + YAML + </type>", () => {
    expect(xmlYaml()(sample())).toBe(
      [
        '<slack_message>\nfrom: "@alex"\nchannel: "#deployments"\ntext: deploy the backend\n</slack_message>',
        "<list_git_tags>\ntags:\n  - name: v1.2.3\n    commit: abc123\n</list_git_tags>",
        '<deploy_backend tag="v1.2.3"><rejected>frontend first</rejected></deploy_backend>',
      ].join("\n"),
    );
  });

  it("gives the one-block-per-event forms back on request", () => {
    // Today's blocks before folding: YAML arguments, results and answers as their own blocks.
    expect(xmlYaml({ fold: false, args: "yaml" })(sample())).toBe(
      [
        '<slack_message>\nfrom: "@alex"\nchannel: "#deployments"\ntext: deploy the backend\n</slack_message>',
        "<list_git_tags></list_git_tags>",
        "<list_git_tags_result>\ntags:\n  - name: v1.2.3\n    commit: abc123\n</list_git_tags_result>",
        "<deploy_backend>tag: v1.2.3</deploy_backend>",
        "<approval>\napproved: false\nfeedback: frontend first\n</approval>",
      ].join("\n"),
    );
    // YAML arguments need the step's own block: args "yaml" alone unfolds too.
    expect(xmlYaml({ args: "yaml" })(sample())).toBe(xmlYaml({ fold: false, args: "yaml" })(sample()));
    // The essay's longer form.
    expect(xmlYaml({ fold: false, args: "yaml", intentField: true, separator: "\n\n" })(sample())).toContain(
      "</list_git_tags_result>\n\n<deploy_backend>\nintent: deploy_backend\ntag: v1.2.3\n</deploy_backend>",
    );
    // Unfolded, with arguments as attributes.
    expect(xmlYaml({ fold: false })(sample())).toContain(
      '<list_git_tags/>\n<list_git_tags_result>\ntags:\n  - name: v1.2.3\n    commit: abc123\n</list_git_tags_result>\n<deploy_backend tag="v1.2.3"/>\n<approval>',
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

describe("xmlYaml folding", () => {
  const rt = () => deterministicRuntime();
  const stepOf = (r: ReturnType<typeof rt>, intent: string, args: object, policy = "run") =>
    makeEvent(r, intent, { intent, ...args }, { kind: "step", intent, policy: policy as "run" });
  const resultOf = (r: ReturnType<typeof rt>, step: { id: string; type: string }, data: unknown) =>
    makeEvent(r, `${step.type}_result`, data, { kind: "result", stepId: step.id, intent: step.type });
  const render = (events: Parameters<typeof createThread>[1], options: RenderOptions = {}) =>
    xmlYaml(options)(createThread("x", events)) as string;

  it("puts a one-line result inline, a structured one as YAML on its own lines, and a pending step self-closed", () => {
    const r = rt();
    const add = stepOf(r, "add", { a: 1000, b: 17 });
    const tags = stepOf(r, "list_git_tags", {});
    const later = stepOf(r, "add", { a: 1, b: 2 });
    expect(
      render([
        add,
        makeEvent(r, "add_started", {}, { kind: "started", stepId: add.id, intent: "add" }),
        resultOf(r, add, 1017),
        tags,
        resultOf(r, tags, { tags: ["v1", "v2"] }),
        later,
      ]),
    ).toBe(
      [
        "<add a=1000 b=17>1017</add>",
        "<list_git_tags>\ntags:\n  - v1\n  - v2\n</list_git_tags>",
        "<add a=1 b=2/>",
      ].join("\n"),
    );
    expect(render([stepOf(r, "list_git_tags", {})])).toBe("<list_git_tags/>");
  });

  it("keeps the approval, its edits and feedback, or the rejection, as a child before the result", () => {
    const r = rt();
    const div = stepOf(r, "divide", { a: 12, b: 2 }, "approve");
    const edited = stepOf(r, "divide", { a: 3, b: 4 }, "approve");
    const rejected = stepOf(r, "divide", { a: 1, b: 0 }, "approve");
    const thread = [
      div,
      makeEvent(r, "approval", { approved: true }, { stepId: div.id }),
      resultOf(r, div, 6),
      edited,
      makeEvent(r, "approval", { approved: true, feedback: "use 5", arguments: { a: 3, b: 5 } }, { stepId: edited.id }),
      resultOf(r, edited, { quotient: 0.6, exact: true }),
      rejected,
      makeEvent(r, "approval", { approved: false }, { stepId: rejected.id }),
    ];
    expect(render(thread)).toBe(
      [
        "<divide a=12 b=2><approved/>6</divide>",
        "<divide a=3 b=4>\n<approved a=3 b=5>use 5</approved>\nquotient: 0.6\nexact: true\n</divide>",
        "<divide a=1 b=0><rejected/></divide>",
      ].join("\n"),
    );
    // Approved, not run yet.
    expect(render(thread.slice(0, 2))).toBe("<divide a=12 b=2><approved/></divide>");
  });

  it("folds errors as <error>message</error>, and hides them once resolved as before", () => {
    const r = rt();
    const first = stepOf(r, "add", { a: 1, b: 0 });
    const second = stepOf(r, "add", { a: 1, b: 2 });
    const thread = [
      first,
      makeEvent(r, "error", { kind: "handler", intent: "add", message: "timeout" }, { stepId: first.id }),
      second,
      resultOf(r, second, 3),
    ];
    expect(render(thread, { hideResolvedErrors: false })).toBe(
      "<add a=1 b=0><error>timeout</error></add>\n<add a=1 b=2>3</add>",
    );
    expect(render(thread)).toBe("<add a=1 b=0/>\n<add a=1 b=2>3</add>");
    // Without stepIds (threads built by hand): an error then a success of the same step.
    const r2 = rt();
    expect(
      render(
        [
          stepOf(r2, "add", { a: 1, b: 2 }),
          makeEvent(r2, "error", { kind: "handler", intent: "add", message: "flaky\nretry" }),
          makeEvent(r2, "add_result", 3, { kind: "result", intent: "add" }),
        ],
        { hideResolvedErrors: false },
      ),
    ).toBe("<add a=1 b=2>\n<error>\nflaky\nretry\n</error>\n3\n</add>");
    // An error about no step (unparseable model output) keeps its block; so does one with more to say.
    const r3 = rt();
    expect(
      render([
        stepOf(r3, "add", { a: 1, b: 2 }),
        makeEvent(r3, "error", { kind: "parse", message: "no JSON found" }, { phase: "model" }),
      ]),
    ).toBe("<add a=1 b=2/>\n<error>\nkind: parse\nmessage: no JSON found\n</error>");
  });

  it("puts a human's answer to request_human_input in the body, and folds done_for_now", () => {
    const r = rt();
    const ask = stepOf(r, "request_human_input", { question: "Which environment?" }, "human");
    const yesNo = stepOf(r, "request_human_input", { question: "Deploy?", options: { format: "yes_no" } }, "human");
    expect(
      render([
        ask,
        makeEvent(r, "human_response", { response: "staging" }, { stepId: ask.id, by: "alex" }),
        yesNo,
        makeEvent(r, "human_response", { response: true }, { stepId: yesNo.id }),
        stepOf(r, "done_for_now", { message: "Deployed." }, "done"),
      ]),
    ).toBe(
      [
        '<request_human_input question="Which environment?">staging</request_human_input>',
        '<request_human_input question="Deploy?" options={"format":"yes_no"}>true</request_human_input>',
        '<done_for_now message="Deployed."/>',
      ].join("\n"),
    );
  });

  it("writes attribute values as JSON: quotes, newlines and < escaped or quoted; secrets redacted", () => {
    const r = rt();
    const note = stepOf(r, "note", {
      text: 'say "hi"\nthen </note> <b>',
      n: null,
      ok: false,
      tags: ["a", "b"],
      opts: { deep: 1 },
      password: "hunter2",
      header: "Bearer abcdefghijklmnopqrstuvwxyz",
      "odd key": 1,
    });
    const text = render([note]);
    expect(text).toBe(
      '<note text="say \\"hi\\"\\nthen </note> <b>" n=null ok=false tags=["a","b"] opts={"deep":1} password="[REDACTED]" header="[REDACTED]" "odd key"=1/>',
    );
    expect(render([note], { redact: false })).toContain('password="hunter2"');
    // Results are redacted and truncated as before.
    const long = stepOf(r, "search", { q: "x" });
    expect(
      render([long, resultOf(r, long, `token sk-proj-ABCDEFGHIJKLMNOPQRSTUV ${"x".repeat(50)}`)], {
        maxResultChars: 20,
      }),
    ).toBe('<search q="x">\ntoken [REDACTED] xxx\n… [truncated 47 characters]\n</search>');
    // A handler that returned nothing.
    const nothing = stepOf(r, "ping", {});
    expect(render([nothing, resultOf(r, nothing, null)])).toBe("<ping>null</ping>");
  });

  it("a custom renderer for a step's, its result's or an answer's type keeps that group unfolded", () => {
    const r = rt();
    const add = stepOf(r, "add", { a: 1, b: 2 });
    const sub = stepOf(r, "subtract", { a: 3, b: 1 }, "approve");
    const events = [
      add,
      resultOf(r, add, 3),
      sub,
      makeEvent(r, "approval", { approved: true }, { stepId: sub.id }),
      resultOf(r, sub, 2),
    ];
    expect(render(events, { renderers: { add_result: (e) => `= ${e.data}` } })).toBe(
      "<add a=1 b=2/>\n<add_result>= 3</add_result>\n<subtract a=3 b=1><approved/>2</subtract>",
    );
    expect(render(events, { renderers: { add: () => "1 + 2", approval: () => null } })).toBe(
      "<add>1 + 2</add>\n<add_result>3</add_result>\n<subtract a=3 b=1/>\n<subtract_result>2</subtract_result>",
    );
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
    expect(m[4]?.content).toBe("rejected: frontend first");
  });
});

describe("chatMessages multi-turn", () => {
  it("answers a call nothing answered (a final done_for_now) before the next user message", () => {
    const rt = deterministicRuntime();
    const done = makeEvent(
      rt,
      "done_for_now",
      { intent: "done_for_now", message: "18" },
      { kind: "step", intent: "done_for_now" },
    );
    const events = [makeEvent(rt, "user_message", "3 * 6?"), done, makeEvent(rt, "user_message", "and 3 * 7?")];
    const m = chatMessages()(createThread("x", events)) as Exclude<ReturnType<ReturnType<typeof chatMessages>>, string>;
    expect(m.map((x) => x.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(m[2]).toMatchObject({ toolCallId: done.id, name: "done_for_now", content: "(no result)" });
    expect(m[3]?.content).toBe("and 3 * 7?");
    // A call still being answered at the end of the thread stays open: nothing follows it yet.
    const last = chatMessages()(createThread("x", events.slice(0, 2))) as typeof m;
    expect(last.map((x) => x.role)).toEqual(["user", "assistant"]);
  });
});

describe("chatMessages approvals", () => {
  it("the step's result answers an approved call; feedback or edits add a line; a rejection answers with its feedback", () => {
    const rt = deterministicRuntime();
    const step = (intent: string, args: object) =>
      makeEvent(rt, intent, { intent, ...args }, { kind: "step", intent, policy: "approve" });
    const plain = step("divide", { a: 12, b: 2 });
    const edited = step("divide", { a: 3, b: 4 });
    const failing = step("deploy", { tag: "v1" });
    const pending = step("divide", { a: 1, b: 1 });
    const events = [
      makeEvent(rt, "user_message", "go"),
      plain,
      makeEvent(rt, "approval", { approved: true }, { stepId: plain.id }),
      makeEvent(rt, "divide_started", {}, { kind: "started", stepId: plain.id, intent: "divide" }),
      makeEvent(rt, "divide_result", 6, { kind: "result", stepId: plain.id, intent: "divide" }),
      edited,
      makeEvent(
        rt,
        "approval",
        { approved: true, feedback: "b is 5", arguments: { a: 3, b: 5 } },
        { stepId: edited.id },
      ),
      makeEvent(rt, "divide_result", 0.6, { kind: "result", stepId: edited.id, intent: "divide" }),
      failing,
      makeEvent(rt, "approval", { approved: true }, { stepId: failing.id }),
      makeEvent(rt, "error", { kind: "handler", intent: "deploy", message: "exit 3" }, { stepId: failing.id }),
      pending,
      makeEvent(rt, "approval", { approved: true, feedback: "ok" }, { stepId: pending.id }),
    ];
    const m = chatMessages()(createThread("x", events)) as Exclude<ReturnType<ReturnType<typeof chatMessages>>, string>;
    expect(m.map((x) => x.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
    expect(m.filter((x) => x.role === "tool").map((x) => [x.toolCallId, x.content])).toEqual([
      [plain.id, "6"],
      [edited.id, 'approved with arguments {"a":3,"b":5}: b is 5\n0.6'],
      [failing.id, 'error: {"kind":"handler","intent":"deploy","message":"exit 3"}'],
      [pending.id, "approved: ok"],
    ]);
    const rejected = chatMessages()(
      createThread("x", [plain, makeEvent(rt, "approval", { approved: false }, { stepId: plain.id })]),
    ) as Exclude<ReturnType<ReturnType<typeof chatMessages>>, string>;
    expect(rejected[1]).toMatchObject({ role: "tool", toolCallId: plain.id, content: "rejected" });
  });
});

describe("incremental rendering", () => {
  it("a growing thread renders exactly as a fresh render of the same events", async () => {
    const fc = (await import("fast-check")).default;
    const intents = ["add", "divide", "request_human_input"];
    const linked = fc.boolean(); // whether the answer names its step (meta.stepId) or, like hand-built threads, does not
    const eventArb = fc.oneof(
      fc.record({ kind: fc.constant("message"), text: fc.string({ maxLength: 10 }) }),
      fc.record({
        kind: fc.constant("step"),
        intent: fc.constantFrom(...intents),
        args: fc.dictionary(fc.constantFrom("a", "b", "note", "password"), fc.oneof(fc.integer(), fc.string()), {
          maxKeys: 3,
        }),
      }),
      fc.record({ kind: fc.constant("started"), intent: fc.constantFrom(...intents) }),
      fc.record({
        kind: fc.constant("result"),
        intent: fc.constantFrom(...intents),
        value: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.record({ x: fc.integer() })),
        linked,
      }),
      fc.record({
        kind: fc.constant("error"),
        intent: fc.option(fc.constantFrom(...intents), { nil: undefined }),
        linked,
      }),
      fc.record({
        kind: fc.constant("approval"),
        approved: fc.boolean(),
        feedback: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        linked,
      }),
      fc.record({ kind: fc.constant("human"), response: fc.oneof(fc.string({ maxLength: 10 }), fc.boolean()), linked }),
    );
    const optionsArb = fc.record({
      hideResolvedErrors: fc.boolean(),
      fold: fc.option(fc.boolean(), { nil: undefined }),
      custom: fc.constantFrom(undefined, "divide_result", "add", "approval"),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(eventArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        optionsArb,
        (batches, { custom, ...rest }) => {
          const options = {
            ...rest,
            ...(custom && {
              renderers: { [custom]: (e: { type: string }) => (custom === "approval" ? null : e.type) },
            }),
          };
          const rt = deterministicRuntime();
          const incremental = xmlYaml(options);
          let thread = createThread("x", [makeEvent(rt, "user_message", "start")]);
          let lastStep: { id: string; type: string } | undefined;
          for (const batch of batches) {
            const added = batch.map((e) => {
              const link = "linked" in e && e.linked && lastStep ? { stepId: lastStep.id } : {};
              switch (e.kind) {
                case "message":
                  return makeEvent(rt, "user_message", e.text);
                case "step": {
                  const step = makeEvent(
                    rt,
                    e.intent,
                    { intent: e.intent, ...e.args },
                    { kind: "step", intent: e.intent, policy: "run" },
                  );
                  lastStep = step;
                  return step;
                }
                case "started":
                  return makeEvent(rt, `${e.intent}_started`, {}, { kind: "started", intent: e.intent });
                case "result":
                  return makeEvent(rt, `${e.intent}_result`, e.value, { kind: "result", intent: e.intent, ...link });
                case "approval":
                  return makeEvent(
                    rt,
                    "approval",
                    e.feedback === undefined
                      ? { approved: e.approved }
                      : { approved: e.approved, feedback: e.feedback },
                    link,
                  );
                case "human":
                  return makeEvent(rt, "human_response", { response: e.response }, link);
                default:
                  return makeEvent(
                    rt,
                    "error",
                    e.intent ? { intent: e.intent, message: "boom" } : { message: "parse" },
                    link,
                  );
              }
            });
            thread = { ...thread, events: [...thread.events, ...added], version: thread.version + added.length };
            expect(incremental(thread)).toBe(xmlYaml(options)(thread));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
