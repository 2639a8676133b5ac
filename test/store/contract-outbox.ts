import { expect, it } from "vitest";
import { TwelveError } from "../../src/errors/index.js";
import { outboxHook, withOutbox } from "../../src/store/outbox.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { humanRequest } from "../../src/thread/request.js";
import { createThread } from "../../src/thread/thread.js";

let counter = 0;
const uid = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_o${++counter}`;
const ev = (type: string, data: unknown = {}, meta?: EventMeta): Event => ({
  id: uid("evt"),
  type,
  data,
  at: new Date().toISOString(),
  ...(meta && { meta }),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TwelveError) return error.code;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/**
 * Outbox cases of the store contract (called from storeContract for every
 * store). Each case uses endpoint names of its own, so the shared store's
 * other rows never get in the way.
 */
export function outboxContract(store: () => ThreadStore, reopen?: () => Promise<ThreadStore>): void {
  /** A thread paused on an approval, through an outbox-writing handle; returns the handle, the thread, the step. */
  async function pausedThread(endpoints: { name: string; events?: ("request.created" | "thread.done")[] }[]) {
    const s = withOutbox(store(), { endpoints });
    const created = await s.create(createThread(uid("agent"), [ev("user_message", "ship it")], { id: uid("thr") }));
    const step = ev("deploy", { intent: "deploy", tag: "v1" }, { kind: "step", intent: "deploy", policy: "approve" });
    await s.append(created.id, [step], { expectedVersion: 1 });
    return { s, threadId: created.id, step };
  }

  it("outbox: rows are written with the append that causes them, one per endpoint and message, stable ids", async () => {
    const a = uid("ep");
    const b = uid("ep");
    const { s, threadId, step } = await pausedThread([{ name: a }, { name: b, events: ["thread.done"] }]);
    const request = humanRequest(await s.load(threadId));
    let rows = await s.listOutbox({ threadId });
    expect(rows.map((r) => [r.endpoint, r.type, r.state, r.attempts])).toEqual([[a, "request.created", "pending", 0]]);
    const created = rows[0];
    expect(created?.messageId).toMatch(/^msg_[A-Za-z0-9_-]+$/);
    expect(created?.payload).toMatchObject({
      type: "request.created",
      timestamp: step.at,
      data: { threadId, request: { id: request?.id, kind: "approval", intent: "deploy" } },
    });
    // The answer, a result and the final step: answered + done (done goes to both endpoints).
    const approval = ev(
      "approval",
      { approved: true },
      { stepId: step.id, requestId: request?.id, decision: "approve", by: { id: "alice", via: "api" } },
    );
    const result = ev("deploy_result", { ok: true }, { kind: "result", stepId: step.id, intent: "deploy" });
    const done = ev(
      "done_for_now",
      { intent: "done_for_now" },
      { kind: "step", intent: "done_for_now", policy: "done" },
    );
    await s.append(threadId, [approval, result, done], { expectedVersion: 2 });
    rows = await s.listOutbox({ threadId });
    expect(rows.map((r) => [r.endpoint, r.type])).toEqual([
      [a, "request.created"],
      [a, "request.answered"],
      [a, "thread.done"],
      [b, "thread.done"],
    ]);
    expect(rows[1]?.payload).toMatchObject({
      data: { requestId: request?.id, decision: "approve", by: { id: "alice", via: "api" } },
    });
    // One message, one id, whatever the endpoint.
    expect(rows[2]?.messageId).toBe(rows[3]?.messageId);
    expect(new Set(rows.map((r) => r.messageId)).size).toBe(3);
    // An annotation causes nothing; a repeated idempotency key and a stale version write nothing.
    await s.append(threadId, [ev("note", "fyi", { annotation: true })], { expectedVersion: 5, idempotencyKey: "k" });
    await s.append(threadId, [ev("user_message", "again")], { expectedVersion: 6, idempotencyKey: "k" });
    expect(await code(s.append(threadId, [ev("user_message", "late")], { expectedVersion: 2 }))).toBe(
      "version_conflict",
    );
    expect(await s.listOutbox({ threadId })).toHaveLength(4);
  });

  it("outbox: a `_started` marker (a handler about to run) announces no uncertain request", async () => {
    const ep = uid("ep");
    const { s, threadId, step } = await pausedThread([{ name: ep }]);
    const approval = ev("approval", { approved: true }, { stepId: step.id, requestId: "rq_x", decision: "approve" });
    const started = ev(
      "deploy_started",
      { arguments: { tag: "v1" } },
      { kind: "started", stepId: step.id, intent: "deploy" },
    );
    const r = await s.append(threadId, [approval, started], { expectedVersion: 2 });
    expect(r.summary.pendingKind).toBe("uncertain");
    expect((await s.listOutbox({ endpoint: ep })).map((row) => row.type)).toEqual([
      "request.created",
      "request.answered",
    ]);
  });

  it("outbox: a sideRows hook that fails after the outbox rows rolls them back with the events", async () => {
    const ep = uid("ep");
    const s = store();
    const created = await s.create(createThread(uid("agent"), [ev("user_message", "x")], { id: uid("thr") }));
    const step = ev("deploy", { intent: "deploy" }, { kind: "step", intent: "deploy", policy: "approve" });
    const write = outboxHook([step], [{ name: ep }]);
    const failing = await code(
      s.append(created.id, [step], {
        expectedVersion: 1,
        sideRows: (tx, summary) => {
          const wrote = write(tx, summary);
          const boom = () => {
            throw new TwelveError("invalid_input", "the hook failed after writing the outbox rows");
          };
          if (wrote) return wrote.then(boom);
          boom();
        },
      }),
    );
    expect(failing).toBe("invalid_input");
    expect((await s.load(created.id)).version).toBe(1);
    expect(await s.listOutbox({ endpoint: ep })).toEqual([]);
  });

  it("outbox: claims lease rows; a lapsed claim passes on; settling needs the current claim", async () => {
    const ep = uid("ep");
    const { s, threadId } = await pausedThread([{ name: ep }]);
    const [first, ...more] = await s.claimOutbox({ endpoints: [ep], leaseMs: 150 });
    expect(more).toEqual([]);
    expect(first?.threadId).toBe(threadId);
    expect(first?.claimToken).toEqual(expect.any(String));
    // Claimed: nobody else gets it while the claim lasts (another handle included).
    expect(await s.claimOutbox({ endpoints: [ep], leaseMs: 150 })).toEqual([]);
    if (reopen) {
      const other = await reopen();
      try {
        expect(await other.claimOutbox({ endpoints: [ep], leaseMs: 150 })).toEqual([]);
      } finally {
        await other.close();
      }
    }
    await sleep(200);
    const [again] = await s.claimOutbox({ endpoints: [ep], leaseMs: 60_000 });
    expect(again?.id).toBe(first?.id);
    expect(again?.messageId).toBe(first?.messageId);
    expect(again?.claimToken).not.toBe(first?.claimToken);
    // The lapsed claim cannot settle; the current one can, once.
    expect(await s.settleOutbox(first as { id: number; claimToken: string }, { delivered: true })).toBe(false);
    expect(await s.settleOutbox(again as { id: number; claimToken: string }, { delivered: true, status: 204 })).toBe(
      true,
    );
    expect(await s.settleOutbox(again as { id: number; claimToken: string }, { delivered: true })).toBe(false);
    const [row] = await s.listOutbox({ endpoint: ep });
    expect(row).toMatchObject({ state: "delivered", attempts: 1, lastStatus: 204 });
    expect(row?.deliveredAt).toEqual(expect.any(String));
    expect(row?.claimToken).toBeUndefined();
    expect(await s.claimOutbox({ endpoints: [ep], leaseMs: 1000 })).toEqual([]);
  });

  it("outbox: concurrent claims (two handles when the store has them) never hand out one row twice", async () => {
    const ep = uid("ep");
    for (let i = 0; i < 12; i++) await pausedThread([{ name: ep }]);
    const second = reopen ? await reopen() : store();
    try {
      const claimed: number[] = [];
      const drain = async (s: ThreadStore) => {
        for (;;) {
          const rows = await s.claimOutbox({ endpoints: [ep], leaseMs: 60_000, limit: 2 });
          if (rows.length === 0) return;
          claimed.push(...rows.map((r) => r.id));
        }
      };
      await Promise.all([drain(store()), drain(second), drain(store()), drain(second)]);
      expect(claimed).toHaveLength(12);
      expect(new Set(claimed).size).toBe(12);
    } finally {
      if (reopen) await second.close();
    }
  });

  it("outbox: retries wait their delay and count attempts; a failed row is never claimed again", async () => {
    const ep = uid("ep");
    const { s } = await pausedThread([{ name: ep }]);
    const [row] = await s.claimOutbox({ endpoints: [ep], leaseMs: 60_000 });
    expect(await s.settleOutbox(row as { id: number }, { retryInMs: 60_000, error: "HTTP 503", status: 503 })).toBe(
      true,
    );
    expect(await s.claimOutbox({ endpoints: [ep], leaseMs: 1000 })).toEqual([]);
    const [waiting] = await s.listOutbox({ endpoint: ep });
    expect(waiting).toMatchObject({ state: "pending", attempts: 1, lastError: "HTTP 503", lastStatus: 503 });
    expect(Date.parse(waiting?.nextAttemptAt ?? "")).toBeGreaterThan(Date.now() + 50_000);

    const ep2 = uid("ep");
    const second = await pausedThread([{ name: ep2 }]);
    const [r2] = await second.s.claimOutbox({ endpoints: [ep2], leaseMs: 60_000 });
    expect(await s.settleOutbox(r2 as { id: number }, { retryInMs: 0, error: "timeout" })).toBe(true);
    const [r3] = await s.claimOutbox({ endpoints: [ep2], leaseMs: 60_000 });
    expect(r3?.attempts).toBe(1);
    expect(await s.settleOutbox(r3 as { id: number }, { failed: true, error: "gave up" })).toBe(true);
    expect(await s.claimOutbox({ endpoints: [ep2], leaseMs: 1000 })).toEqual([]);
    expect((await s.listOutbox({ endpoint: ep2, state: "failed" }))[0]).toMatchObject({
      attempts: 2,
      lastError: "gave up",
    });
    expect(await s.listOutbox({ endpoint: ep2, state: "pending" })).toEqual([]);
  });

  it("outbox: a disabled endpoint's rows wait, unclaimed, until it is enabled again", async () => {
    const ep = uid("ep");
    const { s } = await pausedThread([{ name: ep }]);
    await s.setOutboxEndpoint(ep, { disabled: true, reason: "410 Gone" });
    expect((await s.disabledOutboxEndpoints()).find((d) => d.endpoint === ep)).toMatchObject({ reason: "410 Gone" });
    expect(await s.claimOutbox({ endpoints: [ep], leaseMs: 1000 })).toEqual([]);
    expect(
      await s.claimOutbox({ leaseMs: 1000, limit: 1000 }).then((rows) => rows.some((r) => r.endpoint === ep)),
    ).toBe(false);
    await s.setOutboxEndpoint(ep, { disabled: false });
    expect((await s.disabledOutboxEndpoints()).some((d) => d.endpoint === ep)).toBe(false);
    expect(await s.claimOutbox({ endpoints: [ep], leaseMs: 1000 })).toHaveLength(1);
  });

  it("a `cancelled` event sets the status column to cancelled, listed by status, with a thread.cancelled row", async () => {
    const ep = uid("ep");
    const { s, threadId } = await pausedThread([{ name: ep }]);
    const r = await s.append(threadId, [ev("cancelled", { reason: "not today" })], { expectedVersion: 2 });
    expect(r.summary).toMatchObject({ status: "cancelled", version: 3 });
    expect(r.summary.pendingKind).toBeUndefined();
    expect(await s.summary(threadId)).toMatchObject({ status: "cancelled" });
    const listed = await s.list({ status: "cancelled", limit: 1000 });
    expect(listed.threads.map((t) => t.id)).toContain(threadId);
    expect((await s.list({ status: ["done", "failed"], limit: 1000 })).threads.map((t) => t.id)).not.toContain(
      threadId,
    );
    const rows = await s.listOutbox({ endpoint: ep });
    expect(rows.map((row) => row.type)).toEqual(["request.created", "thread.cancelled"]);
    expect(rows[1]?.payload).toMatchObject({ data: { status: "cancelled", reason: "not today" } });
  });

  it("outbox: pruning deletes settled rows older than the cut, never pending ones", async () => {
    const ep = uid("ep");
    const { s } = await pausedThread([{ name: ep }]);
    await pausedThread([{ name: ep }]);
    await pausedThread([{ name: ep }]);
    const [a, b] = await s.claimOutbox({ endpoints: [ep], leaseMs: 60_000, limit: 2 });
    await s.settleOutbox(a as { id: number }, { delivered: true });
    await s.settleOutbox(b as { id: number }, { failed: true, error: "gave up" });
    expect(await s.pruneOutbox(new Date(Date.now() - 60_000))).toBe(0);
    await sleep(5);
    const pruned = await s.pruneOutbox(new Date(Date.now() + 1));
    expect(pruned).toBeGreaterThanOrEqual(2);
    const left = await s.listOutbox({ endpoint: ep });
    expect(left.map((r) => r.state)).toEqual(["pending"]);
    expect(await code(s.pruneOutbox(new Date("nope")))).toBe("invalid_input");
  });

  it("outbox: bad input gets invalid_input", async () => {
    const s = store();
    expect(await code(s.claimOutbox({ leaseMs: 0 }))).toBe("invalid_input");
    expect(await code(s.claimOutbox({ leaseMs: 1000, limit: 0 }))).toBe("invalid_input");
    expect(await code(s.settleOutbox({ id: 1 }, { delivered: true }))).toBe("invalid_input");
    expect(await code(s.settleOutbox({ id: 1, claimToken: "x" }, {} as never))).toBe("invalid_input");
    expect(await code(s.setOutboxEndpoint("", { disabled: true }))).toBe("invalid_input");
    expect(await code(s.listOutbox({ limit: 5000 }))).toBe("invalid_input");
    expect(() => withOutbox(s, { endpoints: [{ name: "a" }, { name: "a" }] })).toThrow(/twice/);
    expect(() => withOutbox(s, { endpoints: [{ name: "a", events: ["thread.exploded" as never] }] })).toThrow(
      /unknown event type/,
    );
  });
}
