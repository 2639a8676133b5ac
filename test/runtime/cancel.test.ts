import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Agent } from "../../src/agent/agent.js";
import { approve, markDone } from "../../src/agent/events.js";
import { type AgentRuntime, createRuntime } from "../../src/runtime/runtime.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { By } from "../../src/thread/event.js";
import { humanRequest } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { type Effect, failure, opsAgent, plannerModel, storeCases, uncertainThread } from "./fixtures.js";

const carol: By = { id: "carol", via: "api" };

for (const storeCase of storeCases) {
  describe(`runtime.cancel on the ${storeCase.name} store`, () => {
    let store: ThreadStore;
    let dispose: () => Promise<void>;
    let effects: Effect[];
    let agent: Agent;
    let runtime: AgentRuntime;
    let model: ReturnType<typeof plannerModel>;
    let release: (() => void) | undefined;
    let entered: Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await storeCase.open());
      effects = [];
      let enter: () => void = () => {};
      entered = new Promise<void>((r) => {
        enter = r;
      });
      const gate = new Promise<void>((r) => {
        release = r;
      });
      agent = opsAgent(effects, {
        beforeDeploy: async () => {
          enter();
          await gate;
        },
      });
      model = plannerModel();
      runtime = createRuntime({ store, agents: agent, model, answerWaitMs: 200 });
    });
    afterEach(async () => {
      release?.();
      await dispose();
    });

    const types = async (threadId: string) => (await store.load(threadId)).events.map((e) => e.type);

    it("cancels a paused thread at once: a terminal `cancelled` event, the request gone, listed by status", async () => {
      const started = await runtime.start(agent, "deploy:v1.2.3:production");
      expect(started.state.status).toBe("awaiting_approval");
      const request = started.request;
      const cancelled = await runtime.cancel(started.thread.id, { by: carol, reason: "not today" });
      expect(cancelled.state).toEqual({ status: "cancelled", reason: "not today" });
      expect(cancelled.request).toBeUndefined();
      expect(cancelled.cancelRequested).toBe(false);
      const last = cancelled.thread.events.at(-1);
      expect(last?.type).toBe("cancelled");
      expect(last?.meta?.by).toEqual(carol);
      const summary = await store.summary(started.thread.id);
      expect(summary.status).toBe("cancelled");
      expect(summary.pendingKind).toBeUndefined();
      const listed = await store.list({ status: "cancelled" });
      expect(listed.threads.map((t) => t.id)).toContain(started.thread.id);
      // The approval it waited on is gone: approving it now runs nothing.
      const refused = await failure(runtime.answer(approve(request, { by: carol })));
      expect(refused.code).toBe("already_answered");
      expect(effects).toHaveLength(0);
    });

    it("a repeated cancel with the same idempotency key appends nothing; a finished thread comes back as it is", async () => {
      const started = await runtime.start(agent, "lookup:42");
      const first = await runtime.cancel(started.thread.id, { idempotencyKey: "k1" });
      expect(first.duplicate).toBe(false);
      const again = await runtime.cancel(started.thread.id, { idempotencyKey: "k1" });
      expect(again.duplicate).toBe(true);
      expect(again.thread.version).toBe(first.thread.version);
      const done = await runtime.start(agent, "hello");
      expect(done.state.status).toBe("done");
      const same = await runtime.cancel(done.thread.id);
      expect(same.state.status).toBe("done");
      expect(same.thread.version).toBe(done.thread.version);
    });

    it("never cuts a running handler: its result is recorded, then the loop stops before the next model call", async () => {
      const started = await runtime.start(agent, "deploy:v2.0.0:staging");
      const answering = runtime.answer(approve(started.request, { by: carol }));
      await entered;
      const calls = model.calls.length;
      const during = await runtime.cancel(started.thread.id, { by: carol });
      expect(during.cancelRequested).toBe(true);
      expect(during.state.status).not.toBe("cancelled");
      expect(await types(started.thread.id)).toContain("cancel_requested");
      release?.();
      const answered = await answering;
      expect(answered.state.status).toBe("cancelled");
      const events = await types(started.thread.id);
      // The step, its start, its result, then the cancel: nothing in between was lost or skipped.
      expect(events.slice(-4)).toEqual(["deploy_started", "cancel_requested", "deploy_result", "cancelled"]);
      expect(effects).toHaveLength(1);
      expect(model.calls.length).toBe(calls);
      expect((await store.summary(started.thread.id)).status).toBe("cancelled");
    });

    it("a cancel that arrives during the model call: the chosen step is recorded, its handler never starts", async () => {
      const planner = plannerModel();
      let entered: () => void = () => {};
      const calling = new Promise<void>((r) => {
        entered = r;
      });
      let answer: () => void = () => {};
      const gate = new Promise<void>((r) => {
        answer = r;
      });
      const gated = {
        ...planner,
        async generate(request: Parameters<typeof planner.generate>[0]) {
          entered();
          await gate;
          return planner.generate(request);
        },
      };
      const rt = createRuntime({ store, agents: agent, model: gated, answerWaitMs: 200 });
      const starting = rt.start(agent, "snap");
      await calling;
      const threadId = (await store.list({ agent: agent.name, limit: 1 })).threads[0]?.id as string;
      const during = await rt.cancel(threadId, { by: carol });
      expect(during.cancelRequested).toBe(true);
      answer();
      const started = await starting;
      expect(started.state.status).toBe("cancelled");
      expect(await types(threadId)).toEqual(["user_message", "cancel_requested", "snapshot", "cancelled"]);
      expect(effects).toHaveLength(0);
      expect((await store.summary(threadId)).status).toBe("cancelled");
    });

    it("keeps an uncertain request shown: the cancel waits until a human says whether the step ran", async () => {
      const thread = await store.create(uncertainThread(agent.name));
      const request = humanRequest(thread);
      const asked = await runtime.cancel(thread.id, { by: carol });
      expect(asked.cancelRequested).toBe(true);
      expect(asked.state.status).toBe("awaiting_human");
      expect(asked.request?.kind).toBe("uncertain");
      expect(asked.request?.id).toBe(request?.id);
      const summary = await store.summary(thread.id);
      expect(summary.status).toBe("awaiting_human");
      expect(summary.pendingKind).toBe("uncertain");
      // A second cancel records nothing more.
      const twice = await runtime.cancel(thread.id);
      expect(twice.thread.version).toBe(asked.thread.version);
      const decided = await runtime.answer(markDone(request, undefined, { by: carol }));
      expect(decided.state.status).toBe("cancelled");
      expect(threadState(await store.load(thread.id)).status).toBe("cancelled");
      expect(model.calls).toHaveLength(0);
      expect(effects).toHaveLength(0);
    });

    it("a cancelled thread starts again on a new message", async () => {
      const started = await runtime.start(agent, "lookup:7");
      await runtime.cancel(started.thread.id);
      const again = await runtime.send(started.thread.id, { type: "user_message", data: "anything new?" });
      expect(again.state.status).toBe("done");
      const refused = await failure(runtime.send(started.thread.id, { type: "cancelled", data: {} }));
      expect(refused.code).toBe("resume_mismatch");
    });
  });
}
