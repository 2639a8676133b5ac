import { describe, expect, it } from "vitest";
import { deriveColumns } from "../../src/store/derive.js";
import { mayCauseMessages, outboxMessages } from "../../src/store/outbox.js";
import type { ThreadSummary } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { createThread } from "../../src/thread/thread.js";

let n = 0;
const ev = (type: string, data: unknown = {}, meta?: EventMeta): Event => ({
  id: `evt_${++n}`,
  type,
  data,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  ...(meta && { meta }),
});

/** Every kind of event a batch can hold, as the loop, the runtime and triggers write them. */
const KINDS: (() => Event)[] = [
  () => ev("user_message", "hi"),
  ...["run", "approve", "human", "async", "done"].map(
    (policy) => () => ev("deploy", { intent: "deploy" }, { kind: "step", intent: "deploy", policy: policy as never }),
  ),
  () => ev("deploy_started", { arguments: {} }, { kind: "started", stepId: "evt_step", intent: "deploy" }),
  () =>
    ev(
      "deploy_started",
      { arguments: {} },
      { kind: "started", stepId: "evt_step", intent: "deploy", idempotent: true },
    ),
  () => ev("deploy_result", { ok: true }, { kind: "result", stepId: "evt_step", intent: "deploy" }),
  () => ev("approval", { approved: false }, { stepId: "evt_step", requestId: "rq_x", decision: "reject" }),
  () => ev("human_response", { response: "yes" }, { stepId: "evt_step", requestId: "rq_y", decision: "respond" }),
  () => ev("error", { message: "boom" }, { phase: "model" }),
  () => ev("failed", { reason: "step_budget" }),
  () => ev("cancelled", { reason: "stop" }),
  () => ev("escalation", { question: "help?" }),
  () => ev("note", "fyi", { annotation: true }),
  () => ev("cancel_requested", {}, { annotation: true }),
];

describe("the outbox's fast path", () => {
  it("mayCauseMessages is false only for batches outboxMessages turns into nothing (every batch of up to 3 events)", () => {
    let skipped = 0;
    let checked = 0;
    const batches: (() => Event)[][] = [];
    for (const a of KINDS) {
      batches.push([a]);
      for (const b of KINDS) {
        batches.push([a, b]);
        for (const c of KINDS) batches.push([a, b, c]);
      }
    }
    for (const batch of batches) {
      const events = batch.map((make) => make());
      const thread = createThread("agent", [ev("user_message", "start"), ...events], { id: "thr_fast" });
      const derived = deriveColumns(thread);
      const summary: ThreadSummary = {
        id: thread.id,
        agent: "agent",
        status: derived.status,
        version: thread.events.length,
        schemaVersion: 1,
        createdAt: thread.events[0]?.at as string,
        updatedAt: thread.events.at(-1)?.at as string,
        ...(derived.pending && { pending: derived.pending, pendingKind: derived.pending.kind }),
      };
      checked++;
      if (mayCauseMessages(events)) continue;
      skipped++;
      expect(outboxMessages(events, summary), events.map((e) => e.type).join(",")).toEqual([]);
    }
    expect(checked).toBe(KINDS.length + KINDS.length ** 2 + KINDS.length ** 3);
    // The fast path is taken for a real share of batches (results, started markers, messages, errors).
    expect(skipped).toBeGreaterThan(checked / 10);
  });
});
