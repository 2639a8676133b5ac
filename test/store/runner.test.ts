import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approve, runAgain } from "../../src/agent/events.js";
import { run } from "../../src/agent/run.js";
import { TwelveError } from "../../src/errors/index.js";
import { resumeStored, runStored, startStored, storeCommit, sweepRunnable } from "../../src/runtime/index.js";
import { MemoryThreadStore } from "../../src/store/memory.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import { makeEvent, defaultRuntime as rt } from "../../src/thread/event.js";
import { humanRequest } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { calculatorAgent, deploybotAgent, planningModel, readEffects } from "../crash/fixtures/agents.js";

const stores: Record<string, (dir: string) => Promise<ThreadStore>> = {
  memory: async () => new MemoryThreadStore(),
  sqlite: (dir) => openSqliteStore({ path: join(dir, "twelve.db") }),
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TwelveError);
    return (error as TwelveError).code;
  }
  throw new Error("expected the call to fail");
}

for (const [name, open] of Object.entries(stores)) {
  describe(`agent loop on the ${name} store`, () => {
    let dir: string;
    let store: ThreadStore;
    let effects: string;
    const model = planningModel();
    const deploys = () => readEffects(effects).filter((e) => e.intent === "deploy_backend");

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), "twelve-runner-"));
      effects = join(dir, "effects");
      store = await open(dir);
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("stores every event as the loop appends it, and pauses before the deploy", async () => {
      const thread = await startStored(store, deploybotAgent(effects), "deploy:v2.0.0", { model });
      expect(await store.load(thread.id)).toEqual(thread);
      const summary = await store.summary(thread.id);
      expect(summary).toMatchObject({ status: "awaiting_approval", pendingKind: "approval", version: thread.version });
      expect(summary.pending).toMatchObject({ intent: "deploy_backend", arguments: { tag: "v2.0.0" } });
      expect((await store.list({ status: "awaiting_approval" })).threads.map((s) => s.id)).toEqual([thread.id]);
      expect(deploys()).toHaveLength(0);
    });

    it("resumes from the thread id alone, runs the approved deploy once, and answers duplicates without re-running", async () => {
      const agent = deploybotAgent(effects);
      const paused = await startStored(store, agent, "deploy:v2.0.0", { model });
      const request = humanRequest(paused);
      expect(request).toMatchObject({ kind: "approval", intent: "deploy_backend", args: { tag: "v2.0.0" } });
      // An answer must name its request: a raw approval event or an anonymous approve() is refused, running nothing.
      const stepId = threadState(paused).pending?.stepId as string;
      const raw = { type: "approval", data: { approved: true }, meta: { stepId } };
      expect(await codeOf(resumeStored(store, agent, paused.id, raw, { model }))).toBe("request_required");
      expect(await codeOf(resumeStored(store, agent, paused.id, approve(), { model }))).toBe("request_required");
      expect((await store.load(paused.id)).version).toBe(paused.version);
      expect(deploys()).toHaveLength(0);

      const approval = approve(request, { idempotencyKey: "slack:A1:approve" });
      const first = await resumeStored(store, agent, paused.id, approval, { model });
      expect(first.duplicate).toBe(false);
      expect(threadState(first.thread).status).toBe("done");
      expect(await store.load(paused.id)).toEqual(first.thread);
      expect(deploys()).toHaveLength(1);

      const again = await resumeStored(store, agent, paused.id, approval, { model });
      expect(again).toEqual({ thread: first.thread, duplicate: true });
      const late = approve(request);
      expect(await codeOf(resumeStored(store, agent, paused.id, late, { model }))).toBe("already_answered");
      expect(deploys()).toHaveLength(1);
      expect((await store.load(paused.id)).version).toBe(first.thread.version);
    });

    it("after a crash between deploy_started and its result, asks a human instead of re-running", async () => {
      const agent = deploybotAgent(effects);
      const paused = await startStored(store, agent, "deploy:v3.0.0", { model });
      const pending = threadState(paused).pending as { stepId: string; arguments: Record<string, unknown> };
      const asked = humanRequest(paused);
      // What a runner killed right after committing the approval and the started marker leaves behind.
      const approval = makeEvent(rt, "approval", { approved: true }, { stepId: pending.stepId });
      const started = makeEvent(
        rt,
        "deploy_backend_started",
        { arguments: pending.arguments },
        { kind: "started", stepId: pending.stepId, intent: "deploy_backend", idempotent: false },
      );
      await store.append(paused.id, [approval, started], { expectedVersion: paused.version });
      const summary = await store.summary(paused.id);
      expect(summary).toMatchObject({ status: "awaiting_human", pendingKind: "uncertain" });
      expect((await store.list({ pendingKind: "uncertain" })).threads.map((s) => s.id)).toEqual([paused.id]);

      // Another process picks the thread up: nothing runs by itself.
      const after = await runStored(store, agent, paused.id, { model });
      expect(after.version).toBe(paused.version + 2);
      expect(deploys()).toHaveLength(0);
      // A stale approval from before the crash is not a decision to run it again.
      const stale = approve(asked);
      expect(await codeOf(resumeStored(store, agent, paused.id, stale, { model }))).toBe("already_answered");
      // Nor is an approval of the uncertain request: a human checks, then decides mark_done, run_again or abandon.
      const uncertain = humanRequest(after);
      expect(uncertain).toMatchObject({ kind: "uncertain", eventId: started.id, stepId: pending.stepId });
      expect(await codeOf(resumeStored(store, agent, paused.id, approve(uncertain), { model }))).toBe(
        "invalid_decision",
      );
      expect(deploys()).toHaveLength(0);
      // The human checked: it did not run. Re-run it, naming the uncertain execution.
      const done = await resumeStored(store, agent, paused.id, runAgain(uncertain), { model });
      expect(done.thread.events.find((e) => e.meta?.requestId === uncertain?.id)?.meta).toMatchObject({
        startedId: started.id,
        decision: "run_again",
      });
      expect(threadState(done.thread).status).toBe("done");
      expect(deploys()).toHaveLength(1);
    });

    it("re-runs an idempotent step left started by a crash, without asking", async () => {
      const agent = calculatorAgent(effects);
      const thread = await store.create({
        id: "thr_calc_crashed",
        agent: "calculator",
        schemaVersion: 1,
        events: [
          makeEvent(rt, "user_message", "calc:1"),
          makeEvent(rt, "add", { intent: "add", a: 2, b: 3 }, { kind: "step", policy: "run", intent: "add" }),
        ],
        version: 2,
      });
      const stepId = thread.events[1]?.id as string;
      const started = makeEvent(
        rt,
        "add_started",
        { arguments: { a: 2, b: 3 } },
        { kind: "started", stepId, intent: "add", idempotent: true },
      );
      await store.append(thread.id, [started], { expectedVersion: 2 });
      expect((await store.summary(thread.id)).status).toBe("running");
      const done = await runStored(store, agent, thread.id, { model });
      expect(done.events.find((e) => e.type === "add_result")?.data).toEqual({ value: 5 });
      expect(threadState(done).status).toBe("done");
    });

    it("one runner per thread: a held lease blocks, an expired one is taken over", async () => {
      const agent = calculatorAgent(effects);
      const thread = await store.create({
        id: "thr_leased",
        agent: "calculator",
        events: [makeEvent(rt, "user_message", "calc:2")],
        version: 1,
        schemaVersion: 1,
      });
      const held = await store.acquireLease(thread.id, { owner: "crashed-worker", ttlMs: 200 });
      const code = await codeOf(runStored(store, agent, thread.id, { model, owner: "worker-2" }));
      expect(code).toBe("lease_held");
      expect((await store.load(thread.id)).version).toBe(1);
      const done = await runStored(store, agent, thread.id, { model, owner: "worker-2", leaseWaitMs: 5000 });
      expect(threadState(done).status).toBe("done");
      expect(await codeOf(store.renewLease(held))).toBe("lease_lost");
    });

    it("a sweep continues the threads a dead process left running, and skips ones under a live lease", async () => {
      const agent = calculatorAgent(effects);
      const mk = (id: string) =>
        store.create({
          id,
          agent: "calculator",
          schemaVersion: 1,
          events: [makeEvent(rt, "user_message", "calc:2")],
          version: 1,
        });
      await mk("thr_orphan_1");
      await mk("thr_orphan_2");
      await mk("thr_busy");
      await store.create({
        id: "thr_other_agent",
        agent: "unknown",
        schemaVersion: 1,
        events: [makeEvent(rt, "user_message", "x")],
        version: 1,
      });
      // The dead process's lease on thr_orphan_2 has expired; thr_busy is held by a live runner.
      await store.acquireLease("thr_orphan_2", { owner: "dead", ttlMs: 1 });
      const live = await store.acquireLease("thr_busy", { owner: "alive", ttlMs: 60_000 });
      await new Promise((r) => setTimeout(r, 20));
      const swept = await sweepRunnable(store, [agent], { model, owner: "sweeper" });
      expect(swept.ran.sort()).toEqual(["thr_orphan_1", "thr_orphan_2"]);
      expect(swept.busy).toEqual(["thr_busy"]);
      expect(swept.failed).toEqual([]);
      for (const id of swept.ran) expect(threadState(await store.load(id)).status).toBe("done");
      expect((await store.summary("thr_busy")).status).toBe("running");
      expect((await store.summary("thr_other_agent")).status).toBe("running");
      await store.releaseLease(live);
    });

    it("a runner working from a stale copy stops at its first commit, before any side effect", async () => {
      const agent = deploybotAgent(effects);
      const paused = await startStored(store, agent, "deploy:v4.0.0", { model });
      const stepId = threadState(paused).pending?.stepId as string;
      await resumeStored(store, agent, paused.id, approve(humanRequest(paused)), { model });
      expect(deploys()).toHaveLength(1);
      // A second process still holding the paused copy tries to approve and run it directly.
      const approval = makeEvent(rt, "approval", { approved: true }, { stepId });
      const stale = { ...paused, events: [...paused.events, approval], version: paused.version + 1 };
      const code = await codeOf(run(agent, stale, { model, commit: storeCommit(store) }).then(() => undefined));
      // Its approval commit is rejected before the handler could run.
      await expect(storeCommit(store)(stale, [approval], true)).rejects.toMatchObject({ code: "version_conflict" });
      expect(code).toBe("version_conflict");
      expect(deploys()).toHaveLength(1);
    });
  });
}
