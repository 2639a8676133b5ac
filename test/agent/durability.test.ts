import { describe, expect, it } from "vitest";
import {
  approve,
  type CommitHook,
  defineAgent,
  humanRequest,
  respond,
  result,
  resume,
  run,
  step,
  type Thread,
} from "../../src/index.js";
import { scriptedModel } from "../../src/testing.js";
import { add, charge, flaky, lookup, newThread, testAgent } from "./fixtures.js";

/** A commit hook that records each batch's event types and its durability flag. */
function recorder() {
  const commits: { types: string[]; durable: boolean }[] = [];
  const commit: CommitHook = async (thread, added, durable) => {
    commits.push({ types: added.map((e) => e.type), durable });
    return thread;
  };
  return { commits, commit };
}

describe("the loop flags each commit durable or not", () => {
  it("a tool run: the step with its _started marker and the final answer are durable, the result is not", async () => {
    const { thread, runtime } = newThread();
    const { commits, commit } = recorder();
    await run(testAgent(), thread, {
      model: scriptedModel([
        { intent: "add", a: 1, b: 1 },
        { intent: "add", a: 2, b: 2 },
        { intent: "done_for_now", message: "4" },
      ]),
      runtime,
      commit,
    });
    expect(commits).toEqual([
      { types: ["add", "add_started"], durable: true },
      { types: ["add_result"], durable: false },
      { types: ["add", "add_started"], durable: true },
      { types: ["add_result"], durable: false },
      { types: ["done_for_now"], durable: true },
    ]);
  });

  it("an approval pause and its resume: pause, answer and _started are durable; the result is not", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const first = recorder();
    const paused = await run(agent, thread, {
      model: scriptedModel([{ intent: "charge", cents: 5000 }]),
      runtime,
      commit: first.commit,
    });
    expect(first.commits).toEqual([{ types: ["charge"], durable: true }]);
    const second = recorder();
    await resume(agent, paused, approve(humanRequest(paused)), {
      model: scriptedModel([{ intent: "done_for_now", message: "charged" }]),
      runtime,
      commit: second.commit,
    });
    expect(second.commits).toEqual([
      { types: ["approval"], durable: true },
      { types: ["charge_started"], durable: true },
      { types: ["charge_result"], durable: false },
      { types: ["done_for_now"], durable: true },
    ]);
  });

  it("a request_human_input pause and the answer are durable", async () => {
    const { thread, runtime } = newThread();
    const agent = testAgent();
    const first = recorder();
    const paused = await run(agent, thread, {
      model: scriptedModel([{ intent: "request_human_input", question: "Which card?" }]),
      runtime,
      commit: first.commit,
    });
    expect(first.commits).toEqual([{ types: ["request_human_input"], durable: true }]);
    const second = recorder();
    await resume(agent, paused, respond(humanRequest(paused), "the blue one"), {
      model: scriptedModel([
        { intent: "charge", cents: 10 },
        { intent: "done_for_now", message: "done" },
      ]),
      runtime,
      commit: second.commit,
    });
    expect(second.commits).toEqual([
      { types: ["human_response"], durable: true },
      { types: ["charge", "charge_started"], durable: true },
      { types: ["charge_result"], durable: false },
      { types: ["done_for_now"], durable: true },
    ]);
  });

  it("an async pause is durable; errors the loop retries after are not; escalation is", async () => {
    const { thread, runtime } = newThread();
    const agent = defineAgent({ name: "test", intents: [add, flaky, lookup], errors: { threshold: 2 } });
    const waiting = recorder();
    const paused = await run(agent, thread, {
      model: scriptedModel([{ intent: "lookup", id: "x" }]),
      runtime,
      commit: waiting.commit,
    });
    expect(waiting.commits).toEqual([{ types: ["lookup"], durable: true }]);
    const failing = recorder();
    await resume(agent, paused, result(humanRequest(paused), { found: true }), {
      model: scriptedModel([
        { intent: "flaky", n: 1 },
        { intent: "flaky", n: 2 },
      ]),
      runtime,
      commit: failing.commit,
    });
    expect(failing.commits).toEqual([
      { types: ["lookup_result"], durable: true },
      { types: ["flaky", "flaky_started"], durable: true },
      { types: ["error"], durable: false },
      { types: ["flaky", "flaky_started"], durable: true },
      // The error that crosses the threshold is still a running thread; the escalation right after is the barrier.
      { types: ["error"], durable: false },
      { types: ["escalation"], durable: true },
    ]);
  });

  it("running out of step budget ends with a durable failed event", async () => {
    const { thread, runtime } = newThread();
    const { commits, commit } = recorder();
    await run(testAgent(), thread, {
      model: scriptedModel([{ intent: "add", a: 1, b: 1 }]),
      runtime,
      commit,
      maxSteps: 1,
    });
    expect(commits).toEqual([
      { types: ["add", "add_started"], durable: true },
      { types: ["add_result"], durable: false },
      { types: ["failed"], durable: true },
    ]);
  });

  it("a standalone step() returns control to its caller, so all its commits are durable", async () => {
    const { thread, runtime } = newThread();
    const { commits, commit } = recorder();
    const agent = defineAgent({ name: "test", intents: [add, charge] });
    const after: Thread = await step(agent, thread, {
      model: scriptedModel([{ intent: "add", a: 1, b: 1 }]),
      runtime,
      commit,
    });
    expect(after.events.at(-1)?.type).toBe("add_result");
    expect(commits).toEqual([
      { types: ["add", "add_started"], durable: true },
      { types: ["add_result"], durable: true },
    ]);
  });
});
