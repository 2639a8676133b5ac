import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, renderPrompt } from "../../src/agent/agent.js";
import { approve } from "../../src/agent/events.js";
import { chatMessages } from "../../src/context/chat-messages.js";
import { json } from "../../src/context/json.js";
import { xmlYaml } from "../../src/context/xml-yaml.js";
import { defineIntent } from "../../src/intent/intent.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { memoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import type { ThreadStore } from "../../src/store/types.js";
import { deterministicClock, type Event, makeEvent } from "../../src/thread/event.js";
import { findAnswer, humanRequest } from "../../src/thread/request.js";
import { consecutiveErrors, threadState } from "../../src/thread/status.js";
import { appendEvents, createThread, type Thread } from "../../src/thread/thread.js";

const clock = deterministicClock();
const note = (type: string, data: unknown = {}, meta: Record<string, unknown> = {}) =>
  makeEvent(clock, type, data, { ...meta, annotation: true });

function pausedOnApproval(): Thread {
  const step = makeEvent(
    clock,
    "deploy",
    { intent: "deploy", tag: "v1" },
    { kind: "step", intent: "deploy", policy: "approve" },
  );
  return createThread("deploybot", [makeEvent(clock, "user_message", "ship v1"), step], { runtime: clock });
}

describe("annotation events never change what a thread is doing", () => {
  it("threadState, the pending request and error counts ignore trailing and interleaved annotations", () => {
    const paused = pausedOnApproval();
    const request = humanRequest(paused);
    const annotated = appendEvents(paused, [
      note("request_reminded", { to: "alice" }, { requestId: request?.id }),
      note("note", "looked at it"),
    ]);
    expect(threadState(annotated)).toEqual(threadState(paused));
    expect(humanRequest(annotated)).toEqual(request);
    // A reminder names the request but does not answer it.
    expect(findAnswer(annotated, request?.id ?? "")).toBeUndefined();
    const failing = appendEvents(createThread("a", [], { runtime: clock }), [
      makeEvent(clock, "error", { intent: "x", message: "boom" }),
      note("delivery", {}),
      makeEvent(clock, "error", { intent: "x", message: "boom" }),
    ]);
    expect(consecutiveErrors(failing)).toEqual({ overall: 2, byIntent: { x: 2 } });
  });

  it("the default renderers leave annotations out unless asked", () => {
    const thread = appendEvents(pausedOnApproval(), [note("request_reminded", { to: "alice" })]);
    for (const render of [xmlYaml(), json(), chatMessages()]) {
      expect(JSON.stringify(render(thread))).not.toContain("request_reminded");
    }
    expect(JSON.stringify(xmlYaml({ annotations: true })(thread))).toContain("request_reminded");
    // Incremental rendering agrees with a fresh render after an annotation.
    const render = xmlYaml();
    const before = render(pausedOnApproval());
    expect(typeof before).toBe("string");
    expect(render(thread)).toBe(xmlYaml()(thread));
  });
});

describe("an annotation written while a handler runs never fails the loop's commit", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const stores: [string, () => Promise<ThreadStore>][] = [
    ["memory", async () => memoryStore()],
    [
      "sqlite",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "twelve-annot-"));
        dirs.push(dir);
        return openStore(join(dir, "t.db"));
      },
    ],
  ];
  for (const [name, open] of stores) {
    it(`on ${name}: the result is recorded after the annotation, the effect ran once, no uncertain request`, async () => {
      const store = await open();
      let effects = 0;
      let annotate: () => Promise<void> = async () => {};
      const deploy = defineIntent("deploy", z.object({ tag: z.string() }), {
        description: "deploy",
        policy: "approve",
        handler: async ({ tag }) => {
          effects++;
          await annotate(); // a channel records a delivery while the side effect is in flight
          return { deployed: tag };
        },
      });
      const agent = defineAgent({ name: "deploybot", intents: [deploy] });
      const model = scriptedModel([
        { intent: "deploy", tag: "v1" },
        { intent: "done_for_now", message: "deployed" },
      ]);
      const rt = createRuntime({ store, agents: agent, model });
      const { request, thread } = await rt.start(agent, "ship v1");
      annotate = async () => {
        const current = await store.load(thread.id);
        await store.append(thread.id, [note("delivery", { channel: "slack", ok: true })], {
          expectedVersion: current.version,
        });
      };
      const done = await rt.answer(approve(request, { by: { id: "alice", via: "api" } }));
      expect(done.state.status).toBe("done");
      expect(effects).toBe(1);
      const stored = await store.load(thread.id);
      const types = stored.events.map((e: Event) => e.type);
      expect(types).toEqual([
        "user_message",
        "deploy",
        "approval",
        "deploy_started",
        "delivery",
        "deploy_result",
        "done_for_now",
      ]);
      expect(done.thread.events.map((e) => e.id)).toEqual(stored.events.map((e) => e.id));
      // The model never saw the delivery.
      const lastPrompt = JSON.stringify(model.calls.at(-1)?.messages);
      expect(lastPrompt).not.toContain("delivery");
      expect(JSON.stringify(renderPrompt(agent, stored))).not.toContain("slack");
      await store.close();
    });
  }
});
