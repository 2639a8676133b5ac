import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TwelveError } from "../../src/errors/index.js";
import {
  LeaseHeldError,
  LeaseLostError,
  ThreadArchivedError,
  ThreadExistsError,
  ThreadNotFoundError,
  VersionConflictError,
} from "../../src/store/errors.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread, parseThread, type Thread } from "../../src/thread/thread.js";
import { annotationContract } from "./contract-annotations.js";
import { outboxContract } from "./contract-outbox.js";

/**
 * The one contract every ThreadStore meets. Each store's test file calls
 * this unchanged with a factory; tests isolate themselves by unique agent
 * names and thread ids, so one store instance serves the whole suite.
 */
export interface StoreHarness {
  store: ThreadStore;
  /** A second, independent handle on the same data (another connection / file handle), when the store has one. */
  reopen?: () => Promise<ThreadStore>;
  cleanup: () => Promise<void>;
}

let counter = 0;
const uid = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;

function ev(type: string, data: unknown = {}, meta?: EventMeta): Event {
  const e: Event = { id: uid("evt"), type, data, at: new Date().toISOString() };
  if (meta) e.meta = meta;
  return e;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function expectCode(promise: Promise<unknown>, code: string): Promise<TwelveError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TwelveError);
    expect((error as TwelveError).code).toBe(code);
    return error as TwelveError;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

export function storeContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`ThreadStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: ThreadStore;
    beforeAll(async () => {
      h = await open();
      store = h.store;
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    annotationContract(() => store);
    outboxContract(
      () => store,
      name === "memory" ? undefined : () => (h.reopen ? h.reopen() : Promise.reject(new Error("no reopen()"))),
    );

    async function newThread(agent = uid("agent"), events: Event[] = [ev("user_message", { text: "hi" })]) {
      return store.create(createThread(agent, events, { id: uid("thr") }));
    }

    it("creates and loads a thread with its events, version and schema version", async () => {
      const events = [ev("user_message", { text: "add 3 and 4" }, { channel: "cli:tty" }), ev("add", { a: 3, b: 4 })];
      const created = await store.create(createThread("calc", events, { id: uid("thr") }));
      const loaded = await store.load(created.id);
      expect(loaded.events).toEqual(events);
      expect(loaded.version).toBe(2);
      expect(loaded.schemaVersion).toBe(1);
      expect(loaded.agent).toBe("calc");
      const summary = await store.summary(created.id);
      expect(summary).toMatchObject({
        id: created.id,
        agent: "calc",
        version: 2,
        status: "running",
        channel: "cli:tty",
      });
    });

    it("refuses a second thread with the same id", async () => {
      const t = await newThread();
      const err = await expectCode(store.create(createThread("x", [], { id: t.id })), "thread_exists");
      expect(err).toBeInstanceOf(ThreadExistsError);
    });

    it("reports a missing thread with thread_not_found, and get() returns undefined", async () => {
      const err = await expectCode(store.load("thr_does_not_exist"), "thread_not_found");
      expect(err).toBeInstanceOf(ThreadNotFoundError);
      expect(err.message).toContain("thr_does_not_exist");
      expect(await store.get("thr_does_not_exist")).toBeUndefined();
      await expectCode(store.append("thr_does_not_exist", [ev("x")], { expectedVersion: 0 }), "thread_not_found");
    });

    it("appends at the expected version and keeps order", async () => {
      const t = await newThread();
      const a = ev("add", { a: 1, b: 2 }, { kind: "step", policy: "run", intent: "add" });
      const b = ev("add_result", 3, { kind: "result", stepId: a.id, intent: "add" });
      const r1 = await store.append(t.id, [a], { expectedVersion: 1 });
      expect(r1).toMatchObject({ version: 2, duplicate: false, appended: [a] });
      const r2 = await store.append(t.id, [b], { expectedVersion: 2 });
      expect(r2.version).toBe(3);
      const loaded = await store.load(t.id);
      expect(loaded.events.map((e) => e.id)).toEqual([t.events[0]?.id, a.id, b.id]);
      expect(loaded.version).toBe(3);
    });

    it("fails a stale expectedVersion with a typed VersionConflictError and adds nothing", async () => {
      const t = await newThread();
      await store.append(t.id, [ev("a")], { expectedVersion: 1 });
      const err = await expectCode(store.append(t.id, [ev("b")], { expectedVersion: 1 }), "version_conflict");
      expect(err).toBeInstanceOf(VersionConflictError);
      expect((err as VersionConflictError).actualVersion).toBe(2);
      expect((err as VersionConflictError).expectedVersion).toBe(1);
      expect((await store.load(t.id)).version).toBe(2);
    });

    it("returns the first result for a repeated idempotency key and adds nothing, even with a stale version", async () => {
      const t = await newThread();
      const approval = ev("approval", { approved: true });
      const first = await store.append(t.id, [approval], { expectedVersion: 1, idempotencyKey: "slack:U1:approve" });
      expect(first.duplicate).toBe(false);
      const again = await store.append(t.id, [ev("approval", { approved: true })], {
        expectedVersion: 1,
        idempotencyKey: "slack:U1:approve",
      });
      expect(again.duplicate).toBe(true);
      expect(again.appended).toEqual([approval]);
      expect(again.version).toBe(2);
      expect((await store.load(t.id)).events).toHaveLength(2);
      // The key is per thread: another thread may use it.
      const other = await newThread();
      expect(
        (await store.append(other.id, [ev("x")], { expectedVersion: 1, idempotencyKey: "slack:U1:approve" })).duplicate,
      ).toBe(false);
    });

    it("appends all events of a batch or none", async () => {
      const t = await newThread();
      const existing = t.events[0] as Event;
      const batch = [ev("a"), { ...ev("b"), id: existing.id }];
      await expectCode(store.append(t.id, batch, { expectedVersion: 1 }), "invalid_event");
      const loaded = await store.load(t.id);
      expect(loaded.version).toBe(1);
      expect(loaded.events).toEqual(t.events);
      // The store still accepts a correct append at the unchanged version.
      expect((await store.append(t.id, [ev("c")], { expectedVersion: 1 })).version).toBe(2);
    });

    it("rejects malformed events and a missing expectedVersion with invalid_event", async () => {
      const t = await newThread();
      await expectCode(
        store.append(t.id, [{ id: "e1", type: "x", data: {}, at: "not a time" }], { expectedVersion: 1 }),
        "invalid_event",
      );
      await expectCode(
        store.append(t.id, [{ id: "", type: "x", data: {}, at: new Date().toISOString() }], { expectedVersion: 1 }),
        "invalid_event",
      );
      await expectCode(
        store.append(t.id, [{ id: "e2", type: "has space", data: {}, at: new Date().toISOString() }], {
          expectedVersion: 1,
        }),
        "invalid_event",
      );
      await expectCode(store.append(t.id, [ev("x")], {} as { expectedVersion: number }), "invalid_event");
      expect((await store.load(t.id)).version).toBe(1);
    });

    it("keeps the status and pending request columns equal to threadState() through a whole approval flow", async () => {
      const agent = uid("deploybot");
      const t = await newThread(agent, [
        ev("slack_message", { text: "deploy v2" }, { channel: { kind: "slack", id: "C1/171.1" } }),
      ]);
      const step = ev("deploy", { intent: "deploy", tag: "v2" }, { kind: "step", policy: "approve", intent: "deploy" });
      const approval = ev("approval", { approved: true }, { stepId: step.id });
      const started = ev(
        "deploy_started",
        { arguments: { tag: "v2" } },
        { kind: "started", stepId: step.id, intent: "deploy", idempotent: false },
      );
      const result = ev("deploy_result", { ok: true }, { kind: "result", stepId: step.id, intent: "deploy" });
      const ask = ev(
        "request_human_input",
        { intent: "request_human_input", question: "Notify #ops?", options: { format: "yes_no" } },
        { kind: "step", policy: "human", intent: "request_human_input" },
      );
      const answer = ev("human_response", { text: "yes" }, { stepId: ask.id });
      const done = ev(
        "done_for_now",
        { intent: "done_for_now", message: "deployed" },
        { kind: "step", policy: "done", intent: "done_for_now" },
      );
      const expected: [Event[], string, string | undefined][] = [
        [[step], "awaiting_approval", "approval"],
        [[approval], "running", undefined],
        [[started], "awaiting_human", "uncertain"],
        [[result], "running", undefined],
        [[ask], "awaiting_human", "question"],
        [[answer], "running", undefined],
        [[done], "done", undefined],
      ];
      let version = 1;
      for (const [events, status, pendingKind] of expected) {
        const r = await store.append(t.id, events, { expectedVersion: version });
        version = r.version;
        const full = await store.load(t.id);
        const state = threadState(full);
        expect(state.status).toBe(status);
        expect(r.summary.status).toBe(state.status);
        expect(r.summary.pendingKind).toBe(pendingKind);
        const summary = await store.summary(t.id);
        expect(summary.status).toBe(state.status);
        expect(summary.pending).toEqual(state.pending);
        expect(summary.channel).toBe("slack:C1/171.1");
      }
    });

    it("lists threads awaiting approval (and other filters) from the indexed columns", async () => {
      const agent = uid("lister");
      const waiting: string[] = [];
      const running: string[] = [];
      for (let i = 0; i < 6; i++) {
        const t = await newThread(agent, [
          ev("user_message", { text: `job ${i}` }, { channel: i % 2 ? "email:ops@example.com" : "cli:tty" }),
        ]);
        if (i >= 4) running.push(t.id);
        if (i < 4) {
          await store.append(
            t.id,
            [ev("deploy", { intent: "deploy" }, { kind: "step", policy: "approve", intent: "deploy" })],
            { expectedVersion: 1 },
          );
          waiting.push(t.id);
        }
      }
      const awaiting = await store.list({ agent, status: "awaiting_approval" });
      expect(awaiting.threads.map((s) => s.id).sort()).toEqual([...waiting].sort());
      expect(awaiting.threads.every((s) => s.pending?.kind === "approval" && s.pendingKind === "approval")).toBe(true);
      expect((await store.list({ agent, pendingKind: "approval" })).threads).toHaveLength(4);
      expect((await store.list({ agent, status: ["running", "awaiting_approval"] })).threads).toHaveLength(6);
      expect((await store.list({ agent, status: "running" })).threads).toHaveLength(2);
      expect((await store.list({ agent, channel: "email:ops@example.com" })).threads).toHaveLength(3);
      expect((await store.list({ agent: uid("nobody") })).threads).toEqual([]);
      // Two threads written in the same millisecond tie on updatedAt; touch one a little
      // later so exactly one is newest and the time filters have one right answer.
      await sleep(5);
      await store.append(running[0] as string, [ev("user_message", { text: "one more" })], { expectedVersion: 1 });
      const all = (await store.list({ agent })).threads;
      expect(all).toHaveLength(6);
      expect(all[0]?.id).toBe(running[0]);
      const times = all.map((s) => Date.parse(s.updatedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const newest = all[0] as { updatedAt: string };
      expect((await store.list({ agent, updatedAfter: newest.updatedAt })).threads.map((s) => s.id)).toEqual([
        all[0]?.id,
      ]);
      expect((await store.list({ agent, updatedBefore: newest.updatedAt })).threads).toHaveLength(5);
    });

    it("paginates with cursors: every thread exactly once, newest first", async () => {
      const agent = uid("pager");
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) ids.push((await newThread(agent)).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list(cursor ? { agent, limit: 10, cursor } : { agent, limit: 10 });
        seen.push(...page.threads.map((s) => s.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(23);
      expect(new Set(seen)).toEqual(new Set(ids));
      await expectCode(store.list({ agent, cursor: "garbage!" }), "invalid_cursor");
      await expectCode(store.list({ agent, limit: 0 }), "invalid_input");
    });

    it("forks a prefix into a new thread that points back to its parent", async () => {
      const t = await newThread();
      const a = ev("a");
      await store.append(t.id, [a, ev("b")], { expectedVersion: 1 });
      const forked = await store.fork(t.id, a.id, { id: uid("fork") });
      expect(forked.parent).toEqual({ threadId: t.id, eventId: a.id });
      const loaded = await store.load(forked.id);
      expect(loaded.events.map((e) => e.id)).toEqual([t.events[0]?.id, a.id]);
      expect(loaded.parent).toEqual({ threadId: t.id, eventId: a.id });
      expect((await store.summary(forked.id)).parent).toEqual({ threadId: t.id, eventId: a.id });
      await store.append(forked.id, [ev("c")], { expectedVersion: 2 });
      expect((await store.load(t.id)).version).toBe(3);
      await expectCode(store.fork(t.id, "evt_missing"), "invalid_thread");
    });

    it("archives: hidden from lists, refuses appends, still loads", async () => {
      const agent = uid("archiver");
      const t = await newThread(agent);
      const s = await store.archive(t.id);
      expect(s.archivedAt).toBeTypeOf("string");
      expect((await store.list({ agent })).threads).toEqual([]);
      expect((await store.list({ agent, includeArchived: true })).threads.map((x) => x.id)).toEqual([t.id]);
      const err = await expectCode(store.append(t.id, [ev("x")], { expectedVersion: 1 }), "thread_archived");
      expect(err).toBeInstanceOf(ThreadArchivedError);
      expect((await store.load(t.id)).events).toEqual(t.events);
      await expectCode(store.archive("thr_nope"), "thread_not_found");
    });

    it("leases: one runner at a time; an expired lease passes to another runner", async () => {
      const t = await newThread();
      const a = await store.acquireLease(t.id, { owner: "worker-a", ttlMs: 60_000 });
      const held = await expectCode(store.acquireLease(t.id, { owner: "worker-b" }), "lease_held");
      expect(held).toBeInstanceOf(LeaseHeldError);
      expect(held.message).toContain("worker-a");
      const renewed = await store.renewLease(a, 60_000);
      expect(renewed.token).toBe(a.token);
      await store.releaseLease(a);
      const b = await store.acquireLease(t.id, { owner: "worker-b", ttlMs: 150 });
      await expectCode(store.renewLease(a), "lease_lost");
      // worker-b "crashes": its lease runs out and worker-c continues.
      await sleep(300);
      const c = await store.acquireLease(t.id, { owner: "worker-c" });
      expect(c.owner).toBe("worker-c");
      const lost = await expectCode(store.renewLease(b), "lease_lost");
      expect(lost).toBeInstanceOf(LeaseLostError);
      await store.releaseLease(b); // a no-op: b no longer holds it
      await expectCode(store.acquireLease(t.id, { owner: "worker-d" }), "lease_held");
      await store.releaseLease(c);
      await expectCode(store.acquireLease("thr_nope"), "thread_not_found");
    });

    it("lets exactly one of many concurrent appends at one version win", async () => {
      const t = await newThread();
      const stores = [store];
      if (h.reopen) for (let i = 0; i < 3; i++) stores.push(await h.reopen());
      try {
        const attempts = Array.from({ length: 20 }, (_, i) =>
          (stores[i % stores.length] as ThreadStore).append(t.id, [ev("approval", { by: `user${i}` })], {
            expectedVersion: 1,
          }),
        );
        const results = await Promise.allSettled(attempts);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        for (const r of lost) expect((r.reason as TwelveError).code).toBe("version_conflict");
        expect((await store.load(t.id)).version).toBe(2);
      } finally {
        for (const s of stores.slice(1)) await s.close();
      }
    });

    it("applies one idempotency key once under concurrent duplicates", async () => {
      const t = await newThread();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store
            .append(t.id, [ev("webhook_result", { n: i })], { expectedVersion: 1, idempotencyKey: "hook-42" })
            .catch((e) => e),
        ),
      );
      const ok = results.filter((r) => !(r instanceof Error));
      const firsts = ok.filter((r) => !r.duplicate);
      expect(firsts).toHaveLength(1);
      for (const r of ok) expect(r.appended).toEqual(firsts[0]?.appended);
      // Any that lost the race before the key existed see a version conflict, never a second append.
      for (const r of results.filter((x) => x instanceof Error))
        expect((r as TwelveError).code).toBe("version_conflict");
      expect((await store.load(t.id)).version).toBe(2);
    });

    it("imports a thread file written before schemaVersion existed and loads it upgraded", async () => {
      const raw = JSON.parse(readFileSync(new URL("./fixtures/thread-v0.json", import.meta.url), "utf8"));
      const thread = parseThread(raw);
      const id = uid("legacy");
      await store.create(thread, { id });
      const loaded = await store.load(id);
      expect(loaded.schemaVersion).toBe(1);
      expect(loaded.events[0]?.at).toBe("2024-11-02T10:00:00.000Z");
      expect(loaded.events[1]?.meta?.policy).toBe("approve");
      const summary = await store.summary(id);
      expect(summary).toMatchObject({
        status: "awaiting_approval",
        pendingKind: "approval",
        channel: "slack:C024BE91L/1730541600.000100",
      });
    });

    it("loads a 1000-event thread intact and in order", async () => {
      const t = await newThread();
      let version = 1;
      const all: Event[] = [...t.events];
      for (let batch = 0; batch < 10; batch++) {
        const events = Array.from({ length: 100 }, (_, i) =>
          ev("tick", { n: batch * 100 + i, nested: { ok: true, list: [1, "two", null] } }),
        );
        version = (await store.append(t.id, events, { expectedVersion: version })).version;
        all.push(...events);
      }
      const loaded = await store.load(t.id);
      expect(loaded.version).toBe(1001);
      expect(loaded.events).toEqual(all);
    });

    it("never lets a caller mutate stored state through returned objects", async () => {
      const t = await newThread();
      const loaded = await store.load(t.id);
      (loaded.events[0] as Event).type = "tampered";
      loaded.events.push(ev("x"));
      const again: Thread = await store.load(t.id);
      expect(again.events).toHaveLength(1);
      expect(again.events[0]?.type).toBe("user_message");
    });

    if (name !== "memory") {
      it("sees appends made through another handle on the same data", async () => {
        if (!h.reopen) throw new Error("a durable store harness must provide reopen()");
        const other = await h.reopen();
        try {
          const t = await newThread();
          await other.append(t.id, [ev("from_other")], { expectedVersion: 1 });
          expect((await store.load(t.id)).events.at(-1)?.type).toBe("from_other");
          await expectCode(store.append(t.id, [ev("stale")], { expectedVersion: 1 }), "version_conflict");
        } finally {
          await other.close();
        }
      });
    }
  });
}
