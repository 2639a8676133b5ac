import {
  approve,
  createThread,
  edit,
  humanRequest,
  reject,
  respond,
  resume,
  run,
  threadState,
  userMessage,
} from "twelve-agents";
import { deterministicRuntime, scriptedModel } from "twelve-agents/testing";
import { describe, expect, it } from "vitest";
import { makeEvent, type NewEvent, type Thread } from "../../src/index.js";
import { calculator } from "./agent.js";

/** type + data of every event: the exact story of the thread. */
const story = (thread: Thread) => thread.events.map((e) => [e.type, e.data]);

function start(text: string, runtime = deterministicRuntime()) {
  const first: NewEvent = userMessage(text);
  return { runtime, thread: createThread("calculator", [makeEvent(runtime, first.type, first.data)], { runtime }) };
}

describe("calculator example", () => {
  it("multiply 3 and 4, then divide by 2, then add 12 → 18 (division approved)", async () => {
    const { runtime, thread } = start("multiply 3 and 4, then divide by 2, then add 12");
    const model = scriptedModel([
      'I\'ll multiply first.\n```json\n{"intent": "multiply", "a": 3, "b": 4}\n```',
      { intent: "divide", a: 12, b: 2 },
      { intent: "add", a: 6, b: 12 },
      { intent: "done_for_now", message: "The answer is 18." },
    ]);
    const paused = await run(calculator, thread, { model, runtime });
    expect(threadState(paused)).toMatchObject({
      status: "awaiting_approval",
      pending: { kind: "approval", intent: "divide", arguments: { a: 12, b: 2 } },
    });
    // Resume from plain JSON, as another process would.
    const restored = JSON.parse(JSON.stringify(paused)) as Thread;
    const done = await resume(calculator, restored, approve(humanRequest(restored)), { model, runtime });
    model.assertDone();
    expect(threadState(done).status).toBe("done");
    expect(story(done)).toEqual([
      ["user_message", "multiply 3 and 4, then divide by 2, then add 12"],
      ["multiply", { intent: "multiply", a: 3, b: 4 }],
      ["multiply_started", { arguments: { a: 3, b: 4 } }],
      ["multiply_result", 12],
      ["divide", { intent: "divide", a: 12, b: 2 }],
      ["approval", { approved: true }],
      ["divide_started", { arguments: { a: 12, b: 2 } }],
      ["divide_result", 6],
      ["add", { intent: "add", a: 6, b: 12 }],
      ["add_started", { arguments: { a: 6, b: 12 } }],
      ["add_result", 18],
      ["done_for_now", { intent: "done_for_now", message: "The answer is 18." }],
    ]);
    // The raw model text is kept, out of the model's sight.
    expect(done.events[1]?.meta?.raw).toContain("I'll multiply first.");
    // An answer that is exactly the step is not stored twice.
    expect(done.events[4]?.meta?.raw).toBeUndefined();
    expect(done.events[5]?.meta?.stepId).toBe(done.events[4]?.id);
  });

  it("divide 3 by 4 → rejected with feedback → model re-plans 3/5 → approved → 0.6", async () => {
    const { runtime, thread } = start("divide 3 by 4");
    const model = scriptedModel([
      { intent: "divide", a: 3, b: 4 },
      { intent: "divide", a: 3, b: 5 },
      { intent: "done_for_now", message: "3 / 5 = 0.6" },
    ]);
    let t = await run(calculator, thread, { model, runtime });
    expect(threadState(t).status).toBe("awaiting_approval");
    t = await resume(calculator, t, reject(humanRequest(t), "use 5 instead of 4"), { model, runtime });
    expect(threadState(t)).toMatchObject({ status: "awaiting_approval", pending: { arguments: { a: 3, b: 5 } } });
    // The model saw the feedback in its context, folded into the rejected step.
    expect(model.calls[1]?.messages.at(-1)?.content).toContain(
      "<divide a=3 b=4><rejected>use 5 instead of 4</rejected></divide>",
    );
    t = await resume(calculator, t, approve(humanRequest(t)), { model, runtime });
    model.assertDone();
    expect(story(t)).toEqual([
      ["user_message", "divide 3 by 4"],
      ["divide", { intent: "divide", a: 3, b: 4 }],
      ["approval", { approved: false, feedback: "use 5 instead of 4" }],
      ["divide", { intent: "divide", a: 3, b: 5 }],
      ["approval", { approved: true }],
      ["divide_started", { arguments: { a: 3, b: 5 } }],
      ["divide_result", 0.6],
      ["done_for_now", { intent: "done_for_now", message: "3 / 5 = 0.6" }],
    ]);
  });

  it("approve with edited arguments runs the edited call and records the edit", async () => {
    const { runtime, thread } = start("divide 3 by 4");
    const model = scriptedModel([
      { intent: "divide", a: 3, b: 4 },
      { intent: "done_for_now", message: "0.6" },
    ]);
    let t = await run(calculator, thread, { model, runtime });
    t = await resume(calculator, t, edit(humanRequest(t), { a: 3, b: 5 }), { model, runtime });
    expect(story(t).slice(1, 5)).toEqual([
      ["divide", { intent: "divide", a: 3, b: 4 }],
      ["approval", { approved: true, arguments: { a: 3, b: 5 } }],
      ["divide_started", { arguments: { a: 3, b: 5 } }],
      ["divide_result", 0.6],
    ]);
  });

  it("asks a human with request_human_input and continues with the answer", async () => {
    const { runtime, thread } = start("add 2 to a number I'm thinking of");
    const model = scriptedModel([
      {
        intent: "request_human_input",
        question: "Which number are you thinking of?",
        options: { format: "free_text" },
      },
      { intent: "add", a: 40, b: 2 },
      { intent: "done_for_now", message: "40 + 2 = 42" },
    ]);
    let t = await run(calculator, thread, { model, runtime });
    expect(threadState(t)).toMatchObject({
      status: "awaiting_human",
      pending: { kind: "question", question: "Which number are you thinking of?", format: "free_text" },
    });
    t = await resume(calculator, t, respond(humanRequest(t), "40"), { model, runtime });
    model.assertDone();
    expect(story(t)).toEqual([
      ["user_message", "add 2 to a number I'm thinking of"],
      [
        "request_human_input",
        {
          intent: "request_human_input",
          question: "Which number are you thinking of?",
          options: { format: "free_text" },
        },
      ],
      ["human_response", { response: "40" }],
      ["add", { intent: "add", a: 40, b: 2 }],
      ["add_started", { arguments: { a: 40, b: 2 } }],
      ["add_result", 42],
      ["done_for_now", { intent: "done_for_now", message: "40 + 2 = 42" }],
    ]);
  });
});
