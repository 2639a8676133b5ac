import { describe, expect, it } from "vitest";
import { rulesModel } from "../../src/model/rules.js";
import { createWorker } from "../../src/runtime/worker.js";
import { memoryStore } from "../../src/store/memory.js";
import { threadState } from "../../src/thread/status.js";
import { calculator, workshopRules } from "./helpers.js";

const model = rulesModel(workshopRules, { id: "rules:workshop" });

describe("the worker (runtime/worker.ts)", () => {
  it("a start is accepted once the thread is stored, while its handler still runs; done resolves when it ends", async () => {
    const { agent, runs, gate } = calculator();
    const store = memoryStore();
    const worker = createWorker({ store, agents: agent, model });
    gate.close();
    const accepted = await worker.start("calculator", "slow please");
    expect(accepted.duplicate).toBe(false);
    expect(accepted.thread.events.map((e) => e.type)).toEqual(["user_message"]);
    expect(worker.busy(accepted.thread.id)).toBe(true);
    while (runs.slow === 0) await new Promise((r) => setTimeout(r, 5));
    gate.open();
    const result = await accepted.done;
    expect(result?.state.status).toBe("done");
    expect(worker.busy(accepted.thread.id)).toBe(false);
  });

  it("a refused answer rejects before anything is written; an accepted one resolves at its append", async () => {
    const { agent } = calculator();
    const store = memoryStore();
    const worker = createWorker({ store, agents: agent, model });
    const paused = await worker.runtime.start("calculator", "divide 3 by 4");
    const request = paused.request;
    if (!request) throw new Error("no request");
    await expect(worker.answer({ decision: "respond", text: "yes", requestId: request.id })).rejects.toMatchObject({
      code: "invalid_decision",
    });
    expect((await store.load(paused.thread.id)).version).toBe(paused.thread.version);
    const accepted = await worker.answer({ decision: "approve", digest: request.argsDigest, requestId: request.id });
    // The thread as loaded once the answer was appended (the loop may already be past it).
    expect(accepted.thread.events.map((e) => e.type)).toContain("approval");
    expect((await accepted.done)?.state.status).toBe("done");
  });

  it("drain: past the grace period the run is stopped and its lease given back; another worker's sweep finishes it", async () => {
    const { agent, gate } = calculator();
    const store = memoryStore();
    const first = createWorker({ store, agents: agent, model, owner: "first" });
    gate.close();
    const accepted = await first.start("calculator", "slow, then stop");
    // The handler is running: a drain past its grace aborts the run, but a running handler is never cut off.
    const draining = first.drain(0);
    await expect(first.start("calculator", "more")).rejects.toMatchObject({ code: "draining" });
    await new Promise((r) => setTimeout(r, 50)); // the grace (0 ms) is over: the run is aborted
    gate.open();
    expect(await draining).toEqual({ finished: 0, aborted: 1 });
    // Its result is recorded; the loop stopped before the next model call and gave the lease back.
    const thread = await store.load(accepted.thread.id);
    expect(thread.events.map((e) => e.type)).toContain("slow_result");
    expect(threadState(thread).status).toBe("running");
    const second = createWorker({ store, agents: agent, model, owner: "second" });
    const swept = await second.sweep();
    expect(swept.started).toEqual([accepted.thread.id]);
    await second.settled(accepted.thread.id, 5000);
    expect(threadState(await store.load(accepted.thread.id)).status).toBe("done");
  });
});
