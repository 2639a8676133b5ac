import { expect, it } from "vitest";
import type { ThreadStore } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread } from "../../src/thread/thread.js";

let counter = 0;
const uid = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_a${++counter}`;
const ev = (type: string, data: unknown = {}, meta?: EventMeta): Event => ({
  id: uid("evt"),
  type,
  data,
  at: new Date().toISOString(),
  ...(meta && { meta }),
});
const note = (type: string, data: unknown = {}) => ev(type, data, { annotation: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Annotation cases of the store contract (called from storeContract for
 * every store): an annotation-only batch leaves the derived columns — status,
 * pending request, and the time the request started waiting — as they were.
 */
export function annotationContract(store: () => ThreadStore): void {
  it("an annotation-only append leaves status, the pending request and its age unchanged", async () => {
    const s = store();
    const step = ev("deploy", { intent: "deploy", tag: "v1" }, { kind: "step", intent: "deploy", policy: "approve" });
    const created = await s.create(
      createThread(uid("agent"), [ev("user_message", "ship it"), step], { id: uid("thr") }),
    );
    const before = await s.summary(created.id);
    expect(before).toMatchObject({ status: "awaiting_approval", pendingKind: "approval" });
    await sleep(5);
    const r = await s.append(created.id, [note("request_reminded", { to: "alice" }), note("note", "checked")], {
      expectedVersion: 2,
    });
    expect(r.version).toBe(4);
    expect(r.summary).toMatchObject({ status: "awaiting_approval", pendingKind: "approval", version: 4 });
    const after = await s.summary(created.id);
    expect(after.status).toBe(before.status);
    expect(after.pendingKind).toBe(before.pendingKind);
    expect(after.pending).toEqual(before.pending);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(after.version).toBe(4);
    // The stored columns agree with threadState of the whole thread, annotations included.
    const loaded = await s.load(created.id);
    expect(loaded.events.map((e) => e.type)).toEqual(["user_message", "deploy", "request_reminded", "note"]);
    expect(threadState(loaded).pending?.kind).toBe(after.pendingKind);
    // Listing by pending kind still finds it, and the age filter still sees its original wait.
    const listed = await s.list({ pendingKind: "approval", updatedBefore: new Date(Date.parse(before.updatedAt) + 1) });
    expect(listed.threads.map((t) => t.id)).toContain(created.id);
  });

  it("a mixed batch derives from its last event that is not an annotation", async () => {
    const s = store();
    const step = ev("deploy", { intent: "deploy", tag: "v1" }, { kind: "step", intent: "deploy", policy: "approve" });
    const created = await s.create(
      createThread(uid("agent"), [ev("user_message", "ship it"), step], { id: uid("thr") }),
    );
    const approval = ev("approval", { approved: false, feedback: "not today" }, { stepId: step.id });
    const r = await s.append(created.id, [approval, note("delivery", { channel: "slack" })], { expectedVersion: 2 });
    expect(r.summary.status).toBe("running");
    expect(r.summary.pendingKind).toBeUndefined();
    expect(threadState(await s.load(created.id)).status).toBe("running");
  });
}
