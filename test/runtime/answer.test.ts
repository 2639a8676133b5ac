import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Agent } from "../../src/agent/agent.js";
import { abandon, approve, edit, markDone, reject, respond, result, runAgain } from "../../src/agent/events.js";
import { scriptedModel } from "../../src/model/scripted.js";
import type { Model } from "../../src/model/types.js";
import { listRequests } from "../../src/runtime/requests.js";
import { type AgentRuntime, createRuntime } from "../../src/runtime/runtime.js";
import { resumeStored } from "../../src/runtime/stored.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { By } from "../../src/thread/event.js";
import { digestOf } from "../../src/thread/json-safe.js";
import { type HumanRequest, humanRequest, requestId } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import {
  type Effect,
  expectRefused,
  failure,
  type OpsOptions,
  opsAgent,
  plannerModel,
  storeCases,
  uncertainThread,
} from "./fixtures.js";

const alice: By = { id: "alice", via: "slack" };
const bob: By = { id: "bob", via: "api" };

for (const storeCase of storeCases) {
  describe(`runtime.answer on the ${storeCase.name} store`, () => {
    let store: ThreadStore;
    let dispose: () => Promise<void>;
    let effects: Effect[];
    let agent: Agent;
    let runtime: AgentRuntime;
    let model: Model & { calls: { messages: { content: string }[] }[] };

    const setup = (options: OpsOptions = {}, withModel?: typeof model) => {
      agent = opsAgent(effects, options);
      model = withModel ?? plannerModel();
      runtime = createRuntime({ store, agents: agent, model });
    };
    /** Starts a thread and returns the request it paused on. */
    const paused = async (text: string): Promise<HumanRequest> => {
      const started = await runtime.start(agent, text);
      if (!started.request) throw new Error(`"${text}" did not pause: ${started.state.status}`);
      expect(started.request).toEqual(humanRequest(started.thread));
      return started.request;
    };
    const refused = (threadId: string, call: () => Promise<unknown>, code: string) =>
      expectRefused(store, threadId, effects, call, code);
    const stored = (threadId: string) => store.load(threadId);
    /** An uncertain thread (killed after `deploy_started`), stored, and its request. */
    const uncertain = async (args = { tag: "v1.0.0", environment: "production" }) => {
      const thread = await store.create(uncertainThread(agent.name, args));
      const request = humanRequest(thread);
      if (request?.kind !== "uncertain") throw new Error("expected an uncertain request");
      return { thread, request };
    };

    beforeEach(async () => {
      ({ store, dispose } = await storeCase.open());
      effects = [];
      setup();
    });
    afterEach(async () => {
      await dispose();
    });

    describe("each decision", () => {
      it("approve runs the step once and records who approved, with the request and digest", async () => {
        const request = await paused("deploy:v1.2.3:production");
        expect(request.kind).toBe("approval");
        const out = await runtime.answer(approve(request, { by: alice, comment: "go ahead" }));
        expect(out.duplicate).toBe(false);
        expect(out.state.status).toBe("done");
        expect(out.request).toBeUndefined();
        expect(effects).toEqual([
          {
            intent: "deploy",
            stepId: request.stepId,
            threadId: request.threadId,
            args: { tag: "v1.2.3", environment: "production" },
          },
        ]);
        const approval = out.thread.events.find((e) => e.type === "approval");
        expect(approval?.data).toEqual({ approved: true, feedback: "go ahead" });
        expect(approval?.meta).toMatchObject({
          stepId: request.stepId,
          requestId: request.id,
          decision: "approve",
          digest: request.argsDigest,
          by: alice,
        });
        expect(await stored(request.threadId)).toEqual(out.thread);
      });

      it("edit runs the step with the edited, schema-checked arguments", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const out = await runtime.answer(edit(request, { tag: "v1.2.4", environment: "staging" }, { by: alice }));
        expect(out.state.status).toBe("done");
        expect(effects.map((e) => e.args)).toEqual([{ tag: "v1.2.4", environment: "staging" }]);
        const approval = out.thread.events.find((e) => e.type === "approval");
        expect(approval?.data).toEqual({ approved: true, arguments: { tag: "v1.2.4", environment: "staging" } });
        expect(approval?.meta?.decision).toBe("edit");
      });

      it("edit with invalid arguments is invalid_decision: nothing appended, nothing run", async () => {
        const request = await paused("deploy:v1.2.3:production");
        for (const args of [
          { tag: "latest", environment: "production" },
          { tag: "v1.2.4" },
          { tag: "v1.2.4", environment: "moon" },
          { tag: 124, environment: "staging" },
        ]) {
          const error = await refused(request.threadId, () => runtime.answer(edit(request, args)), "invalid_decision");
          expect(error.message).toMatch(/invalid/);
        }
        // The request is still pending and still answerable.
        expect(await runtime.request(request.id)).toEqual(request);
      });

      it("reject runs nothing and its feedback reaches the model's next prompt", async () => {
        const script = scriptedModel([
          { intent: "deploy", tag: "v3.0.0", environment: "production" },
          { intent: "done_for_now", message: "ok, not deploying" },
        ]);
        setup({}, script as unknown as typeof model);
        const request = await paused("please deploy");
        expect(script.calls).toHaveLength(1);
        const out = await runtime.answer(reject(request, "change freeze until Monday", { by: bob }));
        expect(out.state.status).toBe("done");
        expect(effects).toHaveLength(0);
        expect(script.calls).toHaveLength(2);
        const prompt = (script.calls[1]?.messages ?? []).map((m) => m.content).join("\n");
        expect(prompt).toContain("change freeze until Monday");
        script.assertDone();
        expect(out.thread.events.find((e) => e.type === "approval")?.data).toEqual({
          approved: false,
          feedback: "change freeze until Monday",
        });
      });

      it("reject needs feedback", async () => {
        const request = await paused("deploy:v1.2.3:production");
        await refused(request.threadId, () => runtime.answer(reject(request, "  ")), "invalid_decision");
      });

      it("respond to a yes/no question: yes/no words and booleans only", async () => {
        const request = await paused("ask:yes_no");
        expect(request.kind).toBe("question");
        for (const bad of ["maybe", "", "yess"]) {
          await refused(request.threadId, () => runtime.answer(respond(request, bad)), "invalid_decision");
        }
        const out = await runtime.answer(respond(request, " Yes ", { by: alice }));
        expect(out.state.status).toBe("done");
        const response = out.thread.events.find((e) => e.type === "human_response");
        expect(response?.data).toEqual({ response: true });
        expect(response?.meta).toMatchObject({ requestId: request.id, decision: "respond", by: alice });
      });

      it("respond to a multiple-choice question: one of the choices, spelled as offered", async () => {
        const request = await paused("ask:multiple_choice:staging,production");
        expect(request.question?.choices).toEqual(["staging", "production"]);
        await refused(request.threadId, () => runtime.answer(respond(request, "dev")), "invalid_decision");
        const out = await runtime.answer(respond(request, "PRODUCTION"));
        expect(out.thread.events.find((e) => e.type === "human_response")?.data).toEqual({ response: "production" });
      });

      it("respond to a free-text question: non-empty text", async () => {
        const request = await paused("ask:free_text");
        await refused(request.threadId, () => runtime.answer(respond(request, "")), "invalid_decision");
        await refused(request.threadId, () => runtime.answer(respond(request, true)), "invalid_decision");
        const out = await runtime.answer(respond(request, "whatever you think"));
        expect(out.thread.events.find((e) => e.type === "human_response")?.data).toEqual({
          response: "whatever you think",
        });
      });

      it("result delivers an async step's outcome", async () => {
        const request = await paused("lookup:42");
        expect(request).toMatchObject({ kind: "async", resultType: "lookup_result" });
        await refused(request.threadId, () => runtime.answer(respond(request, "x")), "invalid_decision");
        const out = await runtime.answer(
          result(request, { owner: "team-a", at: new Date(0) }, { by: { id: "hook", via: "webhook" } }),
        );
        expect(out.state.status).toBe("done");
        const event = out.thread.events.find((e) => e.type === "lookup_result");
        expect(event?.meta).toMatchObject({
          kind: "result",
          stepId: request.stepId,
          requestId: request.id,
          decision: "result",
        });
        expect((await stored(request.threadId)).events.find((e) => e.type === "lookup_result")?.data).toEqual({
          owner: "team-a",
          at: "1970-01-01T00:00:00.000Z",
        });
      });

      it("result and mark_done values JSON cannot hold as is are recorded as JSON, on every store", async () => {
        const cyclic: Record<string, unknown> = { n: 10n ** 19n, at: new Date(0), tags: new Set(["a"]) };
        cyclic.self = cyclic;
        const expected = { n: "10000000000000000000", at: "1970-01-01T00:00:00.000Z", tags: ["a"], self: "[Circular]" };
        const request = await paused("lookup:43");
        const out = await runtime.answer(result(request, cyclic));
        const recorded = (await stored(request.threadId)).events.find((e) => e.type === "lookup_result");
        expect(recorded?.data).toEqual(expected);
        expect(out.thread.events.find((e) => e.type === "lookup_result")?.data).toEqual(expected);

        const { request: crashed } = await uncertain();
        await runtime.answer(markDone(crashed, cyclic));
        expect((await stored(crashed.threadId)).events.find((e) => e.type === "deploy_result")?.data).toEqual(expected);
        expect(effects).toHaveLength(0);
      });

      it("mark_done on an uncertain step records it as run, without running it", async () => {
        const { request } = await uncertain();
        const out = await runtime.answer(
          markDone(request, { deployed: "v1.0.0", checked: "in the console" }, { by: alice }),
        );
        expect(effects).toHaveLength(0);
        expect(out.state.status).toBe("done");
        const done = out.thread.events.find((e) => e.type === "deploy_result");
        expect(done?.data).toEqual({ deployed: "v1.0.0", checked: "in the console" });
        expect(done?.meta).toMatchObject({
          kind: "result",
          stepId: request.stepId,
          requestId: request.id,
          decision: "mark_done",
        });
      });

      it("mark_done without a value records a note that a human confirmed it ran", async () => {
        const { request } = await uncertain();
        const out = await runtime.answer(markDone(request));
        expect(effects).toHaveLength(0);
        expect(out.thread.events.find((e) => e.type === "deploy_result")?.data).toMatchObject({ ran: true });
      });

      it("run_again executes the handler exactly once more, with the arguments that started", async () => {
        const { thread, request } = await uncertain({ tag: "v4.5.6", environment: "staging" });
        const out = await runtime.answer(runAgain(request, { by: alice }));
        expect(out.state.status).toBe("done");
        expect(effects).toEqual([
          {
            intent: "deploy",
            stepId: request.stepId,
            threadId: thread.id,
            args: { tag: "v4.5.6", environment: "staging" },
          },
        ]);
        const types = out.thread.events.map((e) => e.type);
        expect(types.filter((t) => t === "deploy_started")).toHaveLength(2);
        expect(types.filter((t) => t === "deploy_result")).toHaveLength(1);
        const again = out.thread.events.findLast((e) => e.type === "approval");
        expect(again?.meta).toMatchObject({ decision: "run_again", requestId: request.id, startedId: request.eventId });
        // Answered: a second run_again (another human, a re-delivery without key) runs nothing.
        await refused(thread.id, () => runtime.answer(runAgain(request, { by: bob })), "already_answered");
        expect(effects).toHaveLength(1);
      });

      it("run_again after an edited approval re-runs with the edited arguments, not the model's", async () => {
        const edited = { tag: "v7.7.8", environment: "staging" };
        const thread = await store.create(
          uncertainThread(agent.name, { tag: "v7.7.7", environment: "production" }, { edited }),
        );
        const request = humanRequest(thread) as HumanRequest;
        expect(request.args).toEqual(edited);
        expect(request.argsDigest).toBe(digestOf(edited));
        // The digest of the model's original arguments is stale here.
        const original = { id: request.id, argsDigest: digestOf({ tag: "v7.7.7", environment: "production" }) };
        await refused(thread.id, () => runtime.answer(runAgain(original)), "request_changed");
        await runtime.answer(runAgain(request));
        expect(effects.map((e) => e.args)).toEqual([edited]);
      });

      it("abandon records a visible result saying it did not run, and runs nothing", async () => {
        const { request } = await uncertain();
        const out = await runtime.answer(abandon(request, "rolled back by hand", { by: alice }));
        expect(effects).toHaveLength(0);
        const abandoned = out.thread.events.find((e) => e.type === "deploy_result");
        expect(abandoned?.data).toEqual({ ran: false, abandoned: true, reason: "rolled back by hand" });
        expect(abandoned?.meta).toMatchObject({ kind: "result", decision: "abandon", requestId: request.id });
        // The model sees it next.
        const prompt =
          model.calls
            .at(-1)
            ?.messages.map((m) => m.content)
            .join("\n") ?? "";
        expect(prompt).toContain("rolled back by hand");
        expect(prompt).toContain('"abandoned":true');
      });

      it("uncertain requests refuse the approval decisions, a missing or stale digest, and an empty reason", async () => {
        const { thread, request } = await uncertain();
        await refused(thread.id, () => runtime.answer(approve(request)), "invalid_decision");
        await refused(thread.id, () => runtime.answer(reject(request, "no")), "invalid_decision");
        await refused(thread.id, () => runtime.answer(runAgain(request.id)), "invalid_decision");
        const stale = { id: request.id, argsDigest: digestOf({ tag: "v0.0.1", environment: "production" }) };
        await refused(thread.id, () => runtime.answer(runAgain(stale)), "request_changed");
        await refused(thread.id, () => runtime.answer(abandon(request, "")), "invalid_decision");
        // The step's approval request was answered before the crash.
        await refused(
          thread.id,
          () => runtime.answer(approve(requestId(thread.id, request.stepId))),
          "already_answered",
        );
      });
    });

    describe("fail-closed answers", () => {
      it("already_answered names who answered, via what, and when", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const first = await runtime.answer(approve(request, { by: alice }));
        const approval = first.thread.events.find((e) => e.type === "approval");
        expect(effects).toHaveLength(1);
        for (const late of [
          approve(request, { by: bob }),
          reject(request, "no!", { by: bob }),
          edit(request, { tag: "v9.9.9", environment: "staging" }),
        ]) {
          const error = await refused(request.threadId, () => runtime.answer(late), "already_answered");
          expect(error.details).toMatchObject({ requestId: request.id, answeredBy: alice, answeredAt: approval?.at });
          expect(error.message).toContain("alice via slack");
        }
        // runtime.request says the same.
        expect((await failure(runtime.request(request.id))).code).toBe("already_answered");
      });

      it("request_changed: a stale digest runs nothing", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const stale = { id: request.id, argsDigest: digestOf({ tag: "v1.2.2", environment: "production" }) };
        for (const answer of [approve(stale), edit(stale, { tag: "v1.2.4", environment: "staging" })]) {
          const error = await refused(request.threadId, () => runtime.answer(answer), "request_changed");
          expect(error.details).toMatchObject({ argsDigest: request.argsDigest, args: request.args });
        }
        expect((await runtime.answer(approve(request))).state.status).toBe("done");
        expect(effects).toHaveLength(1);
      });

      it("invalid_decision: a decision the request does not allow, or approve without a digest", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const cases = [
          respond(request, "yes"),
          result(request, { ok: true }),
          markDone(request),
          abandon(request, "never mind"),
          approve(request.id),
          approve({ id: request.id }),
          edit(request.id, { tag: "v1.2.4", environment: "staging" }),
          { decision: "launch", requestId: request.id } as never,
        ];
        for (const answer of cases) {
          const error = await refused(request.threadId, () => runtime.answer(answer), "invalid_decision");
          expect(error.details?.allowed).toEqual(["approve", "edit", "reject"]);
        }
      });

      it("request_required: an answer without a request id, through the runtime and through the deprecated resumeStored", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const threadId = request.threadId;
        await refused(threadId, () => runtime.answer(approve()), "request_required");
        await refused(threadId, () => runtime.answer({ decision: "reject", feedback: "no" }), "request_required");
        await refused(threadId, () => resumeStored(store, agent, threadId, approve(), { model }), "request_required");
        // Raw answer events are answers too: refused on send().
        await refused(
          threadId,
          () => runtime.send(threadId, { type: "approval", data: { approved: true } }),
          "request_required",
        );
        await refused(
          threadId,
          () =>
            resumeStored(
              store,
              agent,
              threadId,
              { type: "approval", data: { approved: true }, meta: { stepId: request.stepId } },
              { model },
            ),
          "request_required",
        );
        await refused(
          threadId,
          () => runtime.send(threadId, { type: "user_message", data: "hello?" }),
          "request_required",
        );
      });

      it("request_required: approve() without a request after a crash does not re-run the deploy (old README defect)", async () => {
        const { thread, request } = await uncertain();
        // Old behaviour: a bare approve() answered "whatever is pending", i.e. re-ran the uncertain deploy.
        await refused(thread.id, () => resumeStored(store, agent, thread.id, approve(), { model }), "request_required");
        await refused(thread.id, () => runtime.answer(approve()), "request_required");
        expect(effects).toHaveLength(0);
        expect(humanRequest(await stored(thread.id))).toEqual(request);
      });

      it("request_not_found: garbage ids, unknown threads, unknown events", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const threadId = request.threadId;
        for (const id of ["rq_garbage!!", "hello", "", requestId(threadId, "evt_missing"), `${request.id}x!`]) {
          await refused(
            threadId,
            () => runtime.answer(approve({ id, argsDigest: request.argsDigest as string })),
            "request_not_found",
          );
        }
        const unknown = requestId("thr_nobody", "evt_1");
        expect((await failure(runtime.answer(approve({ id: unknown, argsDigest: "x" })))).code).toBe(
          "request_not_found",
        );
        expect((await failure(runtime.request(unknown))).code).toBe("request_not_found");
        expect((await failure(runtime.request("rq_%%"))).code).toBe("request_not_found");
        expect(effects).toHaveLength(0);
        // resumeStored refuses a request that names another thread than the one given.
        await refused(
          threadId,
          () =>
            resumeStored(
              store,
              agent,
              threadId,
              approve({ id: requestId("thr_other", request.eventId), argsDigest: "x" }),
              { model },
            ),
          "request_not_found",
        );
      });

      it("responder_refused: intent responders; bob and nobody are refused, alice runs it", async () => {
        setup({ deployResponders: ["alice"] });
        const request = await paused("deploy:v1.2.3:production");
        const error = await refused(
          request.threadId,
          () => runtime.answer(approve(request, { by: bob })),
          "responder_refused",
        );
        expect(error.details).toMatchObject({ requestId: request.id, by: bob });
        await refused(request.threadId, () => runtime.answer(approve(request)), "responder_refused");
        await refused(request.threadId, () => runtime.answer(reject(request, "no", { by: bob })), "responder_refused");
        await refused(
          request.threadId,
          () => runtime.answer(approve(request, { by: { id: "alice2", via: "slack" } })),
          "responder_refused",
        );
        const out = await runtime.answer(approve(request, { by: { id: "alice", via: "email" } }));
        expect(out.state.status).toBe("done");
        expect(effects).toHaveLength(1);
      });

      it("responder_refused: agent-level responders cover intents without their own, uncertain and async requests too", async () => {
        setup({ responders: ["carol"] });
        const request = await paused("deploy:v1.2.3:production");
        await refused(request.threadId, () => runtime.answer(approve(request, { by: bob })), "responder_refused");
        await runtime.answer(approve(request, { by: { id: "carol", via: "cli" } }));
        expect(effects).toHaveLength(1);

        const lookup = await paused("lookup:1");
        await refused(lookup.threadId, () => runtime.answer(result(lookup, 1, { by: bob })), "responder_refused");
        const crashed = await uncertain();
        await refused(
          crashed.thread.id,
          () => runtime.answer(runAgain(crashed.request, { by: bob })),
          "responder_refused",
        );
        expect(effects).toHaveLength(1);
        await runtime.answer(markDone(crashed.request, undefined, { by: { id: "carol", via: "inbox" } }));
        expect(effects).toHaveLength(1);
      });

      it("responder_refused: humanInput.responders govern questions (request_human_input and escalations), not approvals", async () => {
        setup({ humanResponders: ["erin"] });
        const question = await paused("ask:free_text");
        await refused(
          question.threadId,
          () => runtime.answer(respond(question, "hi", { by: bob })),
          "responder_refused",
        );
        await runtime.answer(respond(question, "hi", { by: { id: "erin", via: "email" } }));

        const escalation = await paused("garbage");
        expect(escalation.intent).toBeUndefined();
        await refused(
          escalation.threadId,
          () => runtime.answer(respond(escalation, "try X", { by: bob })),
          "responder_refused",
        );
        expect(
          (await runtime.answer(respond(escalation, "try X", { by: { id: "erin", via: "slack" } }))).state.status,
        ).toBe("done");

        // Approvals are not questions: anyone may answer them here.
        const deploy = await paused("deploy:v1.2.3:production");
        await runtime.answer(approve(deploy, { by: bob }));
        expect(effects).toHaveLength(1);
      });

      it("responder_refused: a function policy decides per answer and sees the request", async () => {
        const seen: HumanRequest[] = [];
        setup({
          deployResponders: async (by, request) => {
            seen.push(request);
            return by.via === "slack" && by.id.endsWith("@ops");
          },
        });
        const request = await paused("deploy:v1.2.3:production");
        await refused(
          request.threadId,
          () => runtime.answer(approve(request, { by: { id: "dan@ops", via: "api" } })),
          "responder_refused",
        );
        await refused(
          request.threadId,
          () => runtime.answer(approve(request, { by: { id: "dan", via: "slack" } })),
          "responder_refused",
        );
        expect(seen.map((r) => r.id)).toEqual([request.id, request.id]);
        await runtime.answer(approve(request, { by: { id: "dan@ops", via: "slack" } }));
        expect(effects).toHaveLength(1);
      });

      it("responder_refused: '*' admits anyone identified, never an anonymous answer", async () => {
        setup({ responders: ["*"] });
        const request = await paused("deploy:v1.2.3:production");
        await refused(request.threadId, () => runtime.answer(approve(request)), "responder_refused");
        await runtime.answer(approve(request, { by: { id: "anyone", via: "link" } }));
        expect(effects).toHaveLength(1);
      });
    });

    describe("idempotency keys", () => {
      it("the same key twice: the second is a duplicate no-op returning the current state", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const first = await runtime.answer(approve(request, { by: alice, idempotencyKey: "slack:action:1" }));
        expect(first.duplicate).toBe(false);
        expect(effects).toHaveLength(1);
        const second = await runtime.answer(approve(request, { by: alice, idempotencyKey: "slack:action:1" }));
        expect(second.duplicate).toBe(true);
        expect(second.thread).toEqual(first.thread);
        expect(second.state).toEqual(first.state);
        // Even a different decision under the same key is the same delivery: nothing happens.
        const third = await runtime.answer(reject(request, "no", { idempotencyKey: "slack:action:1" }));
        expect(third.duplicate).toBe(true);
        expect(effects).toHaveLength(1);
        expect((await stored(request.threadId)).version).toBe(first.thread.version);
        // Without the key it is a late answer.
        await refused(request.threadId, () => runtime.answer(approve(request)), "already_answered");
      });

      it("concurrent re-deliveries with one key append once and run once", async () => {
        const request = await paused("deploy:v1.2.3:production");
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, () => runtime.answer(approve(request, { idempotencyKey: "hook:42" }))),
        );
        const ok = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
        expect(ok.filter((o) => !o.duplicate)).toHaveLength(1);
        expect(effects).toHaveLength(1);
        const approvals = (await stored(request.threadId)).events.filter((e) => e.type === "approval");
        expect(approvals).toHaveLength(1);
      });
    });

    describe("handler results JSON cannot hold as is", () => {
      it("a circular object with a BigInt and a Date is a result, not an error, and runs once", async () => {
        const out = await runtime.start(agent, "snap");
        expect(out.state.status).toBe("done");
        expect(effects).toHaveLength(1);
        const events = (await stored(out.thread.id)).events;
        expect(events.filter((e) => e.type === "error")).toEqual([]);
        const snap = events.find((e) => e.type === "snapshot_result");
        expect(snap?.data).toEqual({
          big: "100000000000000000000",
          when: "2025-02-03T04:05:06.000Z",
          self: "[Circular]",
        });
        expect(snap?.meta).toMatchObject({ kind: "result", intent: "snapshot" });
      });

      it("Maps, Sets, typed arrays, class instances and errors are results too", async () => {
        class Receipt {
          constructor(
            readonly id: string,
            readonly at: Date,
          ) {}
        }
        setup({
          snapshot: () => ({
            byHost: new Map<unknown, unknown>([
              [1, "a"],
              [{ host: "b" }, 2n],
            ]),
            tags: new Set(["x", "y"]),
            bytes: new Uint8Array([1, 2]),
            receipt: new Receipt("r1", new Date(5)),
            warning: new RangeError("slow"),
            nan: Number.NaN,
          }),
        });
        const out = await runtime.start(agent, "snap");
        expect(effects).toHaveLength(1);
        expect(out.thread.events.some((e) => e.type === "error")).toBe(false);
        expect((await stored(out.thread.id)).events.find((e) => e.type === "snapshot_result")?.data).toEqual({
          byHost: [
            [1, "a"],
            [{ host: "b" }, "2"],
          ],
          tags: ["x", "y"],
          bytes: [1, 2],
          receipt: { id: "r1", at: "1970-01-01T00:00:00.005Z" },
          warning: { name: "RangeError", message: "slow" },
          nan: null,
        });
      });

      it("a result too deep to read is still recorded as a result (never an error the model retries)", async () => {
        setup({
          snapshot: () => {
            let deep: Record<string, unknown> = { end: true };
            for (let i = 0; i < 200_000; i++) deep = { next: deep };
            return deep;
          },
        });
        const out = await runtime.start(agent, "snap");
        expect(effects).toHaveLength(1);
        expect(out.state.status).toBe("done");
        const events = (await stored(out.thread.id)).events;
        expect(events.filter((e) => e.type === "error")).toEqual([]);
        expect(events.find((e) => e.type === "snapshot_result")?.data).toMatchObject({ unserializable: true });
      });
    });

    describe("listing requests", () => {
      it("filters by agent, kind and age; listRequests and runtime.requests agree", async () => {
        const other = opsAgent(effects, { name: "ops2" });
        runtime = createRuntime({ store, agents: [agent, other], model });
        const deploy = await paused("deploy:v1.0.0:production");
        const question = await paused("ask:yes_no");
        const lookup = await paused("lookup:7");
        const started = await runtime.start(other, "deploy:v2.0.0:staging");
        const otherDeploy = started.request as HumanRequest;
        const crashed = await uncertain();
        const finished = await runtime.start(agent, "nothing");
        expect(finished.state.status).toBe("done");

        const ids = async (filter = {}) => (await runtime.requests(filter)).requests.map((r) => r.id).sort();
        const sorted = (list: HumanRequest[]) => list.map((r) => r.id).sort();
        expect(await ids()).toEqual(sorted([deploy, question, lookup, otherDeploy, crashed.request]));
        expect(await ids({ agent: "ops2" })).toEqual([otherDeploy.id]);
        expect(await ids({ kind: "approval" })).toEqual(sorted([deploy, otherDeploy]));
        expect(await ids({ kind: "approval", agent: "ops" })).toEqual([deploy.id]);
        expect(await ids({ kind: "question" })).toEqual([question.id]);
        expect(await ids({ kind: "async" })).toEqual([lookup.id]);
        expect(await ids({ kind: "uncertain" })).toEqual([crashed.request.id]);
        expect(await ids({ agent: "nobody" })).toEqual([]);

        // Age: nothing has waited a minute yet; a minute from now, everything has.
        expect(await ids({ olderThanMs: 60_000 })).toEqual([]);
        const later = new Date(Date.now() + 120_000);
        expect(await ids({ olderThanMs: 60_000, now: later })).toHaveLength(5);
        expect(await ids({ olderThanMs: 60_000, now: later, kind: "approval", agent: "ops2" })).toEqual([
          otherDeploy.id,
        ]);
        expect(await ids({ newerThanMs: 60_000 })).toHaveLength(5);
        expect(await ids({ newerThanMs: 60_000, now: later })).toEqual([]);

        for (const filter of [{}, { kind: "approval" as const }, { agent: "ops" }, { olderThanMs: 1, now: later }]) {
          expect(await listRequests(store, filter)).toEqual(await runtime.requests(filter));
        }

        // Listed requests are the requests themselves: same id, kind, digest, decisions.
        for (const listed of (await runtime.requests()).requests) {
          const live = await runtime.request(listed.id);
          expect({ ...listed, createdAt: undefined }).toEqual({ ...live, createdAt: undefined });
        }

        // Pages.
        const first = await runtime.requests({ limit: 2 });
        expect(first.requests).toHaveLength(2);
        const rest = await runtime.requests({ limit: 10, cursor: first.nextCursor as string });
        expect([...sorted(first.requests), ...sorted(rest.requests)].sort()).toEqual(await ids());

        // Answered requests leave the list.
        await runtime.answer(approve(deploy, { by: alice }));
        await runtime.answer(markDone(crashed.request));
        expect(await ids()).toEqual(sorted([question, lookup, otherDeploy]));
        expect(await ids({ kind: "approval" })).toEqual([otherDeploy.id]);
        expect(threadState(await stored(deploy.threadId)).status).toBe("done");
      });
    });
  });
}
